"""GANimation (Pumarola et al., ECCV 2018): AU-conditioned face expression synthesis.

Everything GANimation lives here, one job per module:

- ``generator`` / ``discriminator``: the networks;
- ``losses``: WGAN-GP critic and generator losses, AU regression, cycle and attention losses;
- ``data``: face crops + ``aus.csv`` preparation (from videos or photos) and the training dataset;
- ``trainer``: the training loop (``GANimationTrainer``);
- ``checkpoint``: ``checkpoint.pth`` / ``generator.pth``, written and read in one place;
- ``renderer``: fast inference (``GANimationRenderer``) and whole-photo frames.

Import submodules directly (``from espnet_cause.ganimation.generator import
GANimationGenerator``); this package does not import torch by itself.
"""
