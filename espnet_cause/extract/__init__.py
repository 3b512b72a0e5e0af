"""Video -> AU tracks, and recipe stage 2 (AU labels for a Kaldi data dir).

- :mod:`~espnet_cause.extract.openface`: import CSVs written by OpenFace 2.x ``FeatureExtraction``
  (the command is documented there).
- :mod:`~espnet_cause.extract.mediapipe`: the built-in tracker, MediaPipe Face Landmarker
  blendshapes mapped to AUs by the table in :mod:`espnet_cause.arkit`.
- :mod:`~espnet_cause.extract.videos`: the ``extract_au`` job (one video or a ``video.scp``).
- :mod:`~espnet_cause.extract.utterance`: the per-utterance job of stage 2;
- :mod:`~espnet_cause.extract.labels`: the stage 2 driver (decisions, report, dump dir).

Both extractors yield the same :class:`~espnet_cause.io.track.AUTrack` and write the same
OpenFace-style CSV. Importing this package loads neither PyAV nor MediaPipe.
"""
