"""Train an AU-conditioned TTS model (ESPnet trainer): ``AUTTSTask.main``.

Accepts every ``espnet2.bin.tts_train`` option, plus ``--tts fastspeech2_au``, the ``au`` data name
and ``--au_normalize``. Example::

    python -m espnet_cause.bin.au_tts_train --config conf/tts_fastspeech2_au.yaml \\
        --train_data_path_and_name_and_type dump/raw/tr/text,text,text \\
        --train_data_path_and_name_and_type dump/raw/tr/wav.scp,speech,sound \\
        --train_data_path_and_name_and_type exp/teacher/durations,durations,text_int \\
        --train_data_path_and_name_and_type dump/au_tts/tr/au.scp,au,kaldi_ark ...
"""

from __future__ import annotations


def get_parser():
    """The task's argument parser."""
    # torch + espnet2, loaded when TTS is used
    from espnet_cause.tasks.au_tts import AUTTSTask

    return AUTTSTask.get_parser()


def main(cmd=None):
    """Run training (``cmd`` is a list of arguments; None reads sys.argv)."""
    # torch + espnet2, loaded when TTS is used
    from espnet_cause.tasks.au_tts import AUTTSTask

    AUTTSTask.main(cmd=cmd)


if __name__ == "__main__":
    main()
