"""espnet-cause: facial action unit (AU) sequences from speech, as an ESPnet plugin.

Importing this package is cheap: it pulls in neither torch nor espnet. Heavy modules are
imported by the submodules and CLIs that need them.
"""

__version__ = "0.1.0"
