"""ESPnet task classes of espnet-cause: ``cause`` (speech -> AU, ``CAUSETask``) and ``au_tts``
(AU-conditioned TTS, ``AUTTSTask``). Import them explicitly: they pull in torch and espnet2."""
