"""Readers and writers for AU streams, Kaldi data dirs, audio and video."""
