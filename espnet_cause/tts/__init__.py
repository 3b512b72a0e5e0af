"""AU features and models for expressive TTS/VC conditioning in ESPnet.

- :mod:`~espnet_cause.tts.features`: frame-level AU on a TTS feature grid and the utterance-level
  ``au_embed`` vector for ``spembs`` (numpy only);
- :mod:`~espnet_cause.tts.fastspeech2_au`, :mod:`~espnet_cause.tts.espnet_model`,
  :mod:`~espnet_cause.tts.task`: the frame-level AU-conditioned FastSpeech2 and its ESPnet task
  (torch/espnet2; import them explicitly);
- :mod:`~espnet_cause.tts.synthesis`: synthesis from text with an AU stream or reference speech.
"""
