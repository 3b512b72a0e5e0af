"""The GRID preparer on tiny fake trees: its own layout, flat folders of clips, the split rule."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from test_layouts import all_utts, read_split, touch

from espnet_cause.corpora import prepare
from espnet_cause.corpora.grid import list_grid, sentence_text, split_grid
from espnet_cause.errors import CauseError

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
