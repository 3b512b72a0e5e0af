"""ESPnet task classes of espnet-cause (import them explicitly: they pull in torch and espnet2)."""
