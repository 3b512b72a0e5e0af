"""Speech-to-AU models (CAUSE) and face rendering models."""
