"""The synthetic mini corpus: speech synthesised with eSpeak NG (and Flite), AUs by a documented rule.

- :mod:`~espnet_cause.corpora.mini.plan`: the utterance plan (speakers, sentences, moods, splits);
- :mod:`~espnet_cause.corpora.mini.synth`: speaks one planned utterance
  (:mod:`~espnet_cause.tts.espeak`, :mod:`~espnet_cause.corpora.mini.flite`, texts from
  :mod:`~espnet_cause.corpora.mini.text`);
- :mod:`~espnet_cause.corpora.mini.teacher`: the AU rule (mouth from
  :mod:`~espnet_cause.corpora.mini.visemes` and loudness, brows from F0, moods from
  :mod:`~espnet_cause.corpora.mini.moods`);
- :mod:`~espnet_cause.corpora.mini.corpus`: ``prepare_mini`` builds the corpus (wav, AU CSV, video
  rendered by the warp renderer) and its Kaldi data dirs.
"""
