#!/usr/bin/env bash
# The AU-vs-emotion comparison of part 30's ./run.sh (issue 14): the emotion recogniser's scores
# and confusion plot (stage 5), the side-by-side comparison videos and the one table (stage 6).
set -euo pipefail
cd egs/cause/cause1
. ./path.sh
python - <<'PY'
import json
from pathlib import Path

import av

score = json.loads(Path("exp/emotion_ci/score_test/scores.json").read_text())
assert score["classes"] == ["neutral", "happy", "sad"], score["classes"]
assert score["num_utterances"] > 0 and 0.0 <= score["accuracy"] <= 1.0, score
assert Path("exp/emotion_ci/score_test/confusion.png").read_bytes()[:4] == b"\x89PNG"
videos = sorted(Path("exp/cause_ci/compare").glob("*_compare.mp4"))
assert len(videos) == 2, videos
for video in videos:
    with av.open(str(video)) as c:
        assert c.streams.video and c.streams.audio, video
        frame = next(c.decode(video=0)).to_ndarray(format="rgb24")
        assert frame.shape[1] > 2 * frame.shape[0], frame.shape  # two faces and two panels
table = Path("exp/cause_ci/compare/scores.md").read_text()
assert "| mean r vs real AUs |" in table and "emotion-driven" in table, table
summary = json.loads(Path("exp/cause_ci/compare/scores.json").read_text())
print("CI emotion: accuracy", round(score["accuracy"], 3), "macro-F1", score["macro_f1"],
      "; mean r AU-driven", summary["au"]["mean_pcc"], "emotion-driven", summary["emotion"]["mean_pcc"],
      "; mouth jitter", summary["au"]["mouth_jitter"], summary["emotion"]["mouth_jitter"])
PY
echo "CI: emotion recogniser and AU-vs-emotion comparison checked"
