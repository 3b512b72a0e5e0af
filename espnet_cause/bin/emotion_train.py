#!/usr/bin/env python3
"""Train the speech emotion recogniser (frame-level posteriors over 8 emotions) with ESPnet.

Example (the recipe's stage 5e, reusing CAUSE's stage-3 statistics and shape files)::

    python -m espnet_cause.bin.emotion_train --config conf/emotion_ci.yaml \
        --model_conf 'classes=[neutral,happy,sad]' \
        --normalize_conf stats_file=exp/stats/train/feats_stats.npz \
        --train_data_path_and_name_and_type dump/train/wav.scp,speech,sound \
        --train_data_path_and_name_and_type dump/train/emotion,emotion,text_int ...
"""

from __future__ import annotations

import argparse

from espnet_cause.cli import reports_errors


def get_parser() -> argparse.ArgumentParser:
    """ESPnet's parser of :class:`EmotionTask`."""
    # torch + espnet2, loaded when the recogniser is used
    from espnet_cause.tasks.emotion import EmotionTask

    return EmotionTask.get_parser()


@reports_errors
def main(cmd=None) -> None:
    """Emotion recogniser training (``EmotionTask.main``)."""
    # torch + espnet2, loaded when the recogniser is used
    from espnet_cause.tasks.emotion import EmotionTask

    EmotionTask.main(cmd=cmd)


if __name__ == "__main__":
    main()
