"""CAUSE models without torch: ONNX graphs of the encoder and a numpy log-mel frontend.

- :mod:`espnet_cause.inference.onnx.export` (needs torch and onnx): a trained model -> the graphs and the
  frontend parameters that ``pack_model`` puts into ``model.zip`` under ``onnx/``;
- :mod:`espnet_cause.inference.onnx.frontend` (numpy): waveform -> normalised log-mel -> AU-rate features,
  equal to ESPnet's torch frontend within float rounding;
- :mod:`espnet_cause.inference.onnx.runtime` (numpy + onnxruntime): offline and streaming inference.

Nothing here imports torch or espnet2 except :mod:`~espnet_cause.inference.onnx.export`.
"""
