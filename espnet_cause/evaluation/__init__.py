"""Evaluation: scores against reference AUs, lip-sync and expression checks, and their plots."""
