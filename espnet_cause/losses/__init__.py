"""Losses as small device-agnostic ``nn.Module`` s (regression losses for CAUSE, GAN losses)."""
