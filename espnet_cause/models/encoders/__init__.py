"""Speech-feature -> hidden-sequence encoders of CAUSE, one family per module."""
