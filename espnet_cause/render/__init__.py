"""Still photo + AU sequence -> frames -> mp4 with speech.

The warp renderer (``warp``), crop/paste-back compositing (``compose``), the side panel
(``panel``) and the mp4 writer (``mp4``); faces are found by :mod:`espnet_cause.face`, GANimation
frames come from :mod:`espnet_cause.ganimation.renderer`. Heavy dependencies (OpenCV, MediaPipe,
PyAV) are imported by the submodules, not here: ``from espnet_cause.render.warp import
WarpRenderer``, ``from espnet_cause.io.mp4 import write_mp4``.
"""
