"""GANimation (Pumarola et al., ECCV 2018): AU-conditioned face expression synthesis.

``GANimationGenerator`` and ``GANimationDiscriminator`` are the networks; ``inference`` holds the
fast renderer ``GANimationRenderer`` and the checkpoint loader. Import submodules directly
(``from espnet_cause.models.ganimation.generator import GANimationGenerator``); this package
does not import torch by itself.
"""
