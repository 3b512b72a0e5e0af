#!/usr/bin/env python3
"""Train a CAUSE model (speech -> AU sequence) with the ESPnet trainer; ``--collect_stats true``
for stage 3.

Example:
    python -m espnet_cause.bin.cause_train --config conf/cause_cnn.yaml \
        --train_data_path_and_name_and_type dump/train/wav.scp,speech,sound \
        --train_data_path_and_name_and_type dump/train/au.scp,au,kaldi_ark ...
"""

from __future__ import annotations

import argparse

from espnet_cause.cli import reports_errors


def get_parser() -> argparse.ArgumentParser:
    """ESPnet's parser of :class:`CAUSETask`."""
    # torch + espnet2: only the torch backend and training load them
    from espnet_cause.tasks.cause import CAUSETask

    return CAUSETask.get_parser()


@reports_errors
def main(cmd=None) -> None:
    """CAUSE training (``CAUSETask.main``)."""
    # torch + espnet2: only the torch backend and training load them
    from espnet_cause.tasks.cause import CAUSETask

    CAUSETask.main(cmd=cmd)


if __name__ == "__main__":
    main()
