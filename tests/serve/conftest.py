"""Fixtures for the live service: a tiny causal CAUSE model, the app, and a real server."""

from __future__ import annotations

import pytest
from serve_helpers import make_tiny_model


@pytest.fixture(scope="session")
def causal_model_zip(tmp_path_factory):
    """A packed tiny CAUSE model with a causal cnn encoder (it streams)."""
    from espnet_cause.inference.packing import pack_model

    root = tmp_path_factory.mktemp("serve_model")
    config, pth = make_tiny_model()(
        root / "cause_causal", encoder_conf={"hidden_size": 16, "channels": [16, 8], "causal": True}
    )
    return pack_model(config, pth, root / "model.zip")


@pytest.fixture(scope="session")
def speech2au(causal_model_zip, tmp_path_factory):
    from espnet_cause.inference.speech2au import Speech2AU

    return Speech2AU(causal_model_zip, cache_dir=tmp_path_factory.mktemp("serve_cache"))


@pytest.fixture(scope="session")
def arkit_speech2au(tmp_path_factory):
    """A tiny causal ``target: arkit`` model (51 MediaPipe blendshapes), ready for inference."""
    from espnet_cause.inference.packing import pack_model
    from espnet_cause.inference.speech2au import Speech2AU

    root = tmp_path_factory.mktemp("serve_arkit")
    config, pth = make_tiny_model()(
        root / "cause_arkit",
        encoder_conf={"hidden_size": 16, "channels": [16, 8], "causal": True},
        target="arkit",
    )
    return Speech2AU(pack_model(config, pth, root / "model.zip"), cache_dir=root / "cache")


@pytest.fixture(scope="session")
def offline_model(tmp_path_factory):
    """A tiny packed model with a non-causal encoder (offline only), and it loaded."""
    from serve_helpers import make_tiny_model

    from espnet_cause.inference.packing import pack_model
    from espnet_cause.inference.speech2au import Speech2AU

    root = tmp_path_factory.mktemp("serve_offline")
    config, pth = make_tiny_model()(
        root / "offline", encoder_conf={"hidden_size": 16, "channels": [16, 8], "causal": False}
    )
    return Speech2AU(pack_model(config, pth, root / "whole.zip"), cache_dir=root / "cache")
