"""espnet-cause: facial action unit (AU) sequences from speech, as an ESPnet plugin.

Importing this package is cheap: it pulls in neither torch nor espnet. Heavy modules are
imported by the submodules and CLIs that need them.

    >>> from espnet_cause import Speech2AU    # loads espnet_cause.inference.speech2au on first use
    >>> aus = Speech2AU()(samples, fs)          # the built-in model: (T, 17) AUs at 25 fps, 0-5
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["Speech2AU", "__version__"]


def __getattr__(name: str):
    """``Speech2AU`` on first use (keeps ``import espnet_cause`` free of the inference stack)."""
    if name == "Speech2AU":
        # lazy: import espnet_cause stays light
        from espnet_cause.inference.speech2au import Speech2AU

        return Speech2AU
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
