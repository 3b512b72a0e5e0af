"""Still photo + AU sequence -> frames -> mp4 with speech.

Heavy dependencies (OpenCV, MediaPipe, PyAV) are imported by the submodules, not here:
``from espnet_cause.render.warp import WarpRenderer``, ``from espnet_cause.render.mp4 import
write_mp4``, ``from espnet_cause.render.face import FaceLandmarker, load_image, align_crop``.
"""
