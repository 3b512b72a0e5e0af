"""The GRID preparer on tiny fake trees: its own layout, flat folders of clips, the split rule."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from test_layouts import all_utts, read_split, touch

from espnet_cause.au import AU_NAMES
from espnet_cause.corpora import prepare
from espnet_cause.corpora.grid import list_grid, sentence_text, split_grid
from espnet_cause.errors import CauseError
from espnet_cause.io.au_files import read_au_scp
from espnet_cause.io.au_weight import read_au_weights
from espnet_cause.io.datadir import read_kaldi_map

RECIPE = Path(__file__).resolve().parents[2] / "egs" / "cause" / "cause1"
SENTENCES = ["bbaf2n", "bgwo2a", "lrbr2s", "pric2a", "sgiizs", "swau8a", "prwj7p", "lgar9n"]


def test_sentence_codes_spell_the_words():
    assert sentence_text("bbaf2n") == "bin blue at f two now"
    assert sentence_text("SGIIZS") == "set green in i zero soon"
    assert sentence_text("notes") is None and sentence_text("bbaf0n") is None


def test_own_layout_with_alignments(tmp_path):
    root = tmp_path / "GRID"
    for spk in ("s1", "s2", "s3", "s4"):
        touch(root, *(f"{spk}/{s}.mpg" for s in SENTENCES[:4]))
    touch(root, "s2/align/bbaf2n.align", text="0 14500 sil\n14500 20000 bin\n20000 25000 blue\n"
          "25000 30000 at\n30000 35000 eff\n35000 40000 two\n40000 45000 now\n45000 74500 sil\n")  # fmt: skip
    touch(root, "s1/readme.mpg", "s1/notes.txt")
    utts = {u.utt_id: u for u in list_grid(root)}
    assert len(utts) == 16 and "s1-readme" not in utts
    assert utts["s2-bbaf2n"].speaker == "s2"
    assert utts["s2-bbaf2n"].text == "bin blue at eff two now"  # the alignment's words
    assert utts["s1-bbaf2n"].text == "bin blue at f two now"  # the sentence code's
    # four speakers with >= min_train_clips clips: a plain speaker split
    counts = prepare("grid", root, tmp_path / "data", min_train_clips=4)
    assert counts == {"train": 8, "valid": 4, "test": 4}
    splits = [set(read_split(tmp_path / "data", s, "spk2utt")) for s in ("train", "valid", "test")]
    assert sum(map(len, splits)) == 4 and not (splits[0] & splits[1] or splits[0] & splits[2])


def test_flat_folders_one_named_speaker_and_unknown_ones(tmp_path):
    root = tmp_path / "talking"
    names = [f"{a}{b}{c}{d}{e}{f}" for a in "bl" for b in "bg" for c in "ai" for d in "fk"
             for e in "2" for f in "na"][:20]  # fmt: skip
    touch(root, *(f"grid_s4/{n}.mkv" for n in names))
    touch(root, "grid/bbaf2n.mpg", "grid/lwbsza.mpg")
    utts = {u.utt_id: u for u in list_grid(root)}
    assert utts["s4-bbaf2n"].speaker == "s4"
    assert utts["grid-bbaf2n-bbaf2n"].speaker == "grid-bbaf2n"  # unknown: a speaker of its own
    data = tmp_path / "data"
    counts = prepare("grid", root, data)
    # the two unknown speakers' single clips are the test set; 10% of s4's clips are valid
    assert counts == {"train": 18, "valid": 2, "test": 2}
    assert set(read_split(data, "test", "utt2spk")) == {"grid-bbaf2n-bbaf2n", "grid-lwbsza-lwbsza"}
    valid = set(read_split(data, "valid", "utt2spk"))
    assert not valid & set(read_split(data, "train", "utt2spk"))
    assert all_utts(data, "video.scp")["s4-bbaf2n"].endswith("grid_s4/bbaf2n.mkv")
    assert all_utts(data, "text")["grid-lwbsza-lwbsza"] == "lay white by s zero again"
    # deterministic: the same split again, another seed another valid choice
    assert split_grid(list(utts.values()))["valid"] == split_grid(list(utts.values()))["valid"]
    other = {u.utt_id for u in split_grid(list(utts.values()), seed=3)["valid"]}
    assert len(other) == 2


def test_folder_corpus_with_two_speakers_holds_out_clips(tmp_path):
    root = tmp_path / "talking"
    touch(
        root,
        *(f"grid_s4/clip{i:02d}.mkv" for i in range(20)),
        *(f"grid/c{i}.mpg" for i in range(4)),
    )
    counts = prepare("folder", root, tmp_path / "data")
    # each speaker: 10% of its clips (at least 1) for test, then 10% of the rest for valid
    assert counts == {"train": 16 + 2, "valid": 2 + 1, "test": 2 + 1}
    utt2spk = all_utts(tmp_path / "data")
    assert set(utt2spk.values()) == {"grid_s4", "grid"} and len(utt2spk) == 24


def test_no_grid_clip_is_an_error(tmp_path):
    touch(tmp_path / "x", "s1/hello.mpg")
    with pytest.raises(CauseError, match="no grid utterances"):
        prepare("grid", tmp_path / "x", tmp_path / "data")


def test_recipe_says_where_to_set_the_grid_path(tmp_path):
    """``local/data.sh --corpus grid`` with db.sh's empty default names db.sh and GRID."""
    env = {"PATH": "/usr/bin:/bin", "GRID": ""}
    proc = subprocess.run(
        ["bash", "local/data.sh", "--corpus", "grid", "--output_dir", str(tmp_path / "d")],
        cwd=RECIPE, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "set GRID in db.sh" in proc.stderr


def test_recipe_runs_stages_1_and_2_on_a_tiny_grid_tree(
    tmp_path, monkeypatch, smile_video, demo_wav
):
    """``./run.sh --corpus grid --stop-stage 2`` with GRID pointing at a tiny tree in GRID's own
    layout (the rendered talking face as every clip): stage 1 splits it, stage 2 tracks every
    clip's face into AU labels with the built-in tracker and writes its report; with
    ``--mask_outside_speech`` and ``--close_lips true`` the weights come along."""
    from espnet_cause.io.audio import load_audio
    from espnet_cause.io.mp4 import write_mp4
    from espnet_cause.io.video import iter_frames

    clip = tmp_path / "clip.mp4"  # the first 0.6 s of the smile video (15 frames at 25 fps)
    frames = [image for _, (_, image) in zip(range(15), iter_frames(smile_video))]
    speech, sr = load_audio(demo_wav)  # the smile video's soundtrack
    write_mp4(clip, np.stack(frames), 25, audio=speech[: int(0.6 * sr)], sample_rate=sr)
    root = tmp_path / "GRID"
    codes = [f"b{c}a{x}2n" for c in "bgrw" for x in "fgh"][:10]  # 10 clips of s4 (train/valid)
    for rel in (*(f"s4/{c}.mpg" for c in codes), "s9/lwbsza.mpg"):  # s9: one clip (test)
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).symlink_to(clip)
    run_dir = tmp_path / "recipe"
    run_dir.mkdir()
    for script in ("path.sh", "db.sh"):  # sourced from the recipe: its .venv and assets
        (run_dir / script).write_text(f". {RECIPE / script}\n")
    for name in ("run.sh", "local", "utils", "conf"):
        (run_dir / name).symlink_to(RECIPE / name)
    env = {**os.environ, "GRID": str(root), "OMP_NUM_THREADS": "1"}
    args = ["--corpus", "grid", "--stop-stage", "2", "--mask_outside_speech", "0.1",
            "--close_lips", "true", "--au_weights", "conf/au_weights/tracked_lower_face.yaml"]  # fmt: skip
    proc = subprocess.run(["./run.sh", *args], cwd=run_dir, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    monkeypatch.chdir(run_dir)  # the scp files name their arks relative to the recipe
    dump = Path("dump")
    sizes = {s: len(read_kaldi_map(dump / s / "au.scp")) for s in ("train", "valid", "test")}
    assert sizes == {"train": 9, "valid": 1, "test": 1}
    report = (dump / "train" / "au_report.tsv").read_text().splitlines()
    assert len(report) == 10 and all(row.split("\t")[6] == "keep" for row in report[1:])
    labels = read_au_scp(dump / "test" / "au.scp")["s9-lwbsza"]
    assert labels.shape == (15, 17) and np.isfinite(labels).all()  # 0.6 s at 25 fps
    weights = read_au_weights(dump / "train" / "au_weight.scp")
    assert all(w.shape[1] == 17 for w in weights.values())
    assert all((w[:, AU_NAMES.index("AU45")] == 0).all() for w in weights.values())
