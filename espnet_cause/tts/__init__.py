"""AU features and models for expressive TTS/VC conditioning in ESPnet.

- :mod:`~espnet_cause.tts.features`: the utterance-level ``au_embed`` vector for ``spembs``
  (numpy only; frame-level AU on a TTS feature grid is :func:`espnet_cause.io.timegrid.to_hop_grid`);
- :mod:`~espnet_cause.tts.espeak` (eSpeak NG speech with its timed phonemes; the mini corpus speaks
  with it), :mod:`~espnet_cause.tts.phonemes` (plain text -> the voices' phoneme tokens) and
  :mod:`~espnet_cause.tts.visemes` (each phoneme's viseme class and its mouth AU targets);
- :mod:`~espnet_cause.tts.fastspeech2_au`, :mod:`~espnet_cause.tts.espnet_model`: the frame-level
  AU-conditioned FastSpeech2 (torch/espnet2; import them explicitly); its ESPnet task is
  :mod:`espnet_cause.tasks.au_tts`.

Synthesis from text with an AU stream or reference speech (``AUText2Speech``) is
:mod:`espnet_cause.inference.text2speech`, beside :mod:`espnet_cause.inference.speech2au` (``Speech2AU``).
"""
