"""FastSpeech2 training text and durations from a time alignment (Kaldi CTM) on a feature grid.

For every utterance of ``--wav_scp`` that ``--ctm`` aligns, writes into ``--output_dir``:

- ``text``: its tokens, space-separated (ESPnet ``token_type: word``);
- ``durations``: feature frames per token plus a 0 for ``<sos/eos>``, summing exactly to
  ``1 + num_samples // hop_length``, the frames of ESPnet's ``LogMelFbank`` (``center=True``)
  at ``--fs``/``--hop_length`` (rule: :mod:`espnet_cause.tts.durations`); use it as
  ``<dir>/durations,durations,text_int``;
- ``token_list`` (with ``--write_token_list``; ``<blank>``, ``<unk>``, the tokens, ``<sos/eos>``);
- ``durations_report.tsv``: per utterance its tokens and frames, or why it was skipped (no
  alignment, audio at another rate).

The mini corpus's stage 1 writes ``data/<set>/phones.ctm`` from eSpeak's phoneme events. For a
real corpus, convert Montreal Forced Aligner TextGrids (one phone interval per CTM line) or a
Kaldi alignment (``ali-to-phones --ctm-output``) to CTM; ESPnet's own recipes get durations
from MFA (``egs2/*/tts1`` with ``local/mfa.sh``) or from a teacher model's attention
(``tts.sh --teacher_dumpdir``).

Example::

    python -m espnet_cause.bin.make_durations --ctm data/train/phones.ctm \\
        --wav_scp dump/train/wav.scp --fs 16000 --hop_length 256 \\
        --output_dir dump/tts/train --write_token_list
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from espnet_cause.cli import add_feature_grid_args, make_parser, reports_errors, setup_logging
from espnet_cause.errors import CauseError
from espnet_cause.io.atomic import atomic_write, check_output_dir
from espnet_cause.io.ctm import read_ctm
from espnet_cause.io.datadir import read_kaldi_map, value_path, write_kaldi_map
from espnet_cause.jobs import batch
from espnet_cause.tts.durations import durations_line, frame_durations, token_list

logger = logging.getLogger(__name__)

REPORT_FILE = "durations_report.tsv"
REPORT_COLUMNS = ("num_samples", "num_tokens", "num_frames")


def get_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    parser = make_parser("Kaldi CTM alignment -> ESPnet text and durations on a feature grid")
    parser.add_argument("--ctm", required=True, help="time-aligned tokens (Kaldi CTM)")
    parser.add_argument("--wav_scp", required=True, help="the audio ESPnet trains on")
    parser.add_argument("--output_dir", required=True, help="where text, durations go")
    add_feature_grid_args(parser)
    parser.add_argument(
        "--write_token_list", action="store_true", help="also write output_dir/token_list"
    )
    return parser


def durations_of(
    segments: list[tuple[float, float, str]], num_samples: int, fs: int, hop: int, n_fft
) -> tuple[list[str], list[int]]:
    """Tokens and frames per token of one utterance's CTM segments."""

    tokens = [tok for _, _, tok in segments]
    frames = frame_durations([s for s, _, _ in segments], num_samples, fs, hop, n_fft=n_fft)
    return tokens, frames.tolist()


@reports_errors
def main(cmd=None) -> None:
    """Run it; see the module docstring."""
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    import soundfile as sf

    if args.fs <= 0 or args.hop_length <= 0:
        raise CauseError(f"--fs {args.fs} and --hop_length {args.hop_length} must be positive")
    alignments = read_ctm(args.ctm)
    wavs = read_kaldi_map(args.wav_scp, check_sorted=False)
    if not wavs:
        raise CauseError("no utterances", path=args.wav_scp, fix="give a non-empty wav.scp")
    out = check_output_dir(args.output_dir)
    records: dict[str, dict] = {}
    texts, durations = {}, {}
    for key, value in sorted(wavs.items()):
        path = value_path(value) or value
        if key not in alignments:
            records[key] = {"key": key, "status": "error", "reason": f"not in {args.ctm}"}
            continue
        try:
            info = sf.info(path)
        except (RuntimeError, OSError) as e:
            records[key] = {"key": key, "status": "error", "reason": f"cannot read {path}: {e}"}
            continue
        if info.samplerate != args.fs:
            records[key] = {
                "key": key,
                "status": "error",
                "reason": f"audio at {info.samplerate} Hz, not --fs {args.fs}",
            }
            continue
        tokens, frames = durations_of(
            alignments[key], info.frames, args.fs, args.hop_length, args.n_fft
        )
        texts[key], durations[key] = " ".join(tokens), durations_line(frames)
        records[key] = {
            "key": key,
            "status": "ok",
            "reason": "",
            "num_samples": info.frames,
            "num_tokens": len(tokens),
            "num_frames": sum(frames),
        }
    ok = batch.finish(out / REPORT_FILE, sorted(wavs), records, REPORT_COLUMNS, what="utterance")
    write_kaldi_map(out / "text", {k: texts[k] for k in ok})
    write_kaldi_map(out / "durations", {k: durations[k] for k in ok})
    if args.write_token_list:
        tokens = token_list(texts[k].split() for k in ok)
        with atomic_write(out / "token_list") as tmp:
            Path(tmp).write_text("".join(t + "\n" for t in tokens), encoding="utf-8")
    logger.info("%d utterances -> %s/{text,durations}", len(ok), out)


if __name__ == "__main__":
    main()
