"""GANimation (Pumarola et al., ECCV 2018): AU-conditioned face expression synthesis.

Everything GANimation lives here, one job per module:

- ``generator`` / ``discriminator``: the networks;
- ``losses``: WGAN-GP critic and generator losses, AU regression, cycle and attention losses;
- ``data``: the face directory (``aus.csv`` + crops) and the training dataset;
- ``prepare``: face crops + ``aus.csv`` from videos or photos (the ``prepare_faces`` job);
- ``trainer``: the training loop (``GANimationTrainer``);
- ``checkpoint``: ``checkpoint.pth`` / ``generator.pth``, written and read in one place;
- ``renderer``: fast inference (``GANimationRenderer``) and whole-photo frames.

Import submodules directly (``from espnet_cause.ganimation.generator import
GANimationGenerator``); this package does not import torch by itself.
"""
