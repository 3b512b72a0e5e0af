"""Faces: the one MediaPipe Face Landmarker wrapper and what is built on it.

- :mod:`~espnet_cause.face.model_file`: where the ``face_landmarker.task`` model comes from
  (explicit path, cache, ``--download``, else the packaged file).
- :mod:`~espnet_cause.face.landmarker`: :class:`FaceLandmarker` (photos and video frames, one
  lifecycle, :func:`close_all`), the :class:`Face` landmarks and the choice of a face.
- :mod:`~espnet_cause.face.align`: the eye-aligned square crop used by GANimation data
  preparation and by rendering.
- :mod:`~espnet_cause.face.canonical`: MediaPipe's canonical face (read from the packaged
  model) and each landmark's mirror image across the face's midline.

Used by AU extraction (``extract.mediapipe``), rendering (``render``) and GANimation data
preparation (``ganimation.data``). Importing this package loads neither OpenCV nor MediaPipe.
"""
