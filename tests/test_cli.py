"""cli.py: renamed options keep their old names for one release, with a note on stderr."""

from __future__ import annotations

import pytest

from espnet_cause.bin import au_tts_infer, compare_conditions, render, tts_expressivity
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
        (au_tts_infer, "--cause_model", "model",
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


def test_notes_name_the_cli_without_py(tmp_path):
    """Run as ``python -m``, the deprecation notes and errors name the CLI as ``au_tts_infer``
    (argparse's default named it ``au_tts_infer.py``); the old module name still runs it."""
    import os
    import subprocess
    import sys

    args = ["--train_config", "c", "--model_file", "m", "--text", "t", "--output", "o.wav"]
    args += ["--cause_model", "model.zip"]  # without --reference_wav: refused before loading
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for module in ("au_tts_infer", "au_tts_inference"):
        run = subprocess.run(
            [sys.executable, "-m", f"espnet_cause.bin.{module}", *args],
            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
        )  # fmt: skip
        lines = run.stderr.splitlines()
        assert run.returncode == 2, run.stderr
        assert (
            "au_tts_infer: warning: --cause_model is deprecated and goes in the next release; "
            "use --model" in lines
        ), run.stderr
        assert any(line.startswith("au_tts_infer: error: --reference_wav and") for line in lines)
        assert not any(".py" in line for line in lines), run.stderr
        old_name_note = any("use python -m espnet_cause.bin.au_tts_infer" in x for x in lines)
        assert old_name_note == (module == "au_tts_inference")


def test_render_fidelity_bench_takes_generator_and_its_old_name(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "bench" / "render_fidelity.py"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    run = subprocess.run(
        [sys.executable, str(script), "--ganimation_model", "g.pth", "--help"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "--generator" in run.stdout
    assert run.stderr.splitlines() == [
        "render_fidelity: warning: --ganimation_model is deprecated and goes in the next "
        "release; use --generator"
    ]
