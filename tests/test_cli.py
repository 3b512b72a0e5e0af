"""cli.py: renamed options keep their old names for one release, with a note on stderr."""

from __future__ import annotations

import pytest

from espnet_cause.bin import au_tts_inference, compare_conditions, render, tts_expressivity
from espnet_cause.cli import add_renamed_argument, make_parser


def test_renamed_option_takes_the_old_name_with_a_note(capsys):
    parser = make_parser("x")
    add_renamed_argument(parser, "--model", "--cause_model", default=None, help="a model")
    assert parser.parse_args(["--model", "a.zip"]).model == "a.zip"
    assert "deprecated" not in capsys.readouterr().err
    args = parser.parse_args(["--cause_model", "b.zip"])
    assert args.model == "b.zip" and not hasattr(args, "cause_model")
    err = capsys.readouterr().err
    assert "--cause_model is deprecated" in err and "use --model" in err
    assert "--cause_model is deprecated" in parser.format_help().replace("\n", " ").replace(
        "  ", " "
    )


def test_a_required_renamed_option_is_met_by_the_old_name():
    parser = make_parser("x")
    add_renamed_argument(parser, "--tts_dir", "--au_model", required=True)
    assert parser.parse_args(["--au_model", "exp"]).tts_dir == "exp"
    with pytest.raises(SystemExit):
        parser.parse_args([])


@pytest.mark.parametrize(
    "cli, old, new, rest",
    [
        (render, "--cause_model", "model", ["--image", "f.jpg"]),
        (render, "--ganimation_model", "generator", ["--image", "f.jpg"]),
        (au_tts_inference, "--cause_model", "model",
         ["--train_config", "c", "--model_file", "m", "--text", "t", "--output", "o.wav"]),
        (tts_expressivity, "--au_model", "tts_dir",
         ["--au_scp", "a", "--utt2mood", "u", "--corpus_wav_scp", "w", "--corpus_ctm", "c",
          "--output_dir", "o"]),
        (tts_expressivity, "--cause_model", "model",
         ["--tts_dir", "t", "--au_scp", "a", "--utt2mood", "u", "--corpus_wav_scp", "w",
          "--corpus_ctm", "c", "--output_dir", "o"]),
        (compare_conditions, "--au_model", "generator",
         ["--image", "f", "--wav_scp", "w", "--au_scp", "a", "--emotion_scp", "e",
          "--emotion_generator", "g", "--output_dir", "o"]),
    ],
)  # fmt: skip
def test_old_flag_names_of_the_clis(cli, old, new, rest, capsys):
    args = cli.get_parser().parse_args(rest + [old, "X"])
    assert str(getattr(args, new)) == "X"
    assert f"{old} is deprecated" in capsys.readouterr().err
