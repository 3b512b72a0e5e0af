#!/usr/bin/env bash
# ARKit: the recipe trains and scores a target: arkit model on the dumps of part 30 (stages 3-5,
# conf/cause_ci_arkit.yaml), then the Live Link Face export of the demo speech from the AU model
# and from the ARKit model: 60 fps rows, the header, and JawOpen following the voice.
set -euo pipefail
cd egs/cause/cause1
./run.sh --train_config conf/cause_ci_arkit.yaml --stage 3 --stop-stage 5
. ./path.sh
. ./db.sh
tmp=$(mktemp -d)
for conf in cause_ci cause_ci_arkit; do
    python -m espnet_cause.bin.infer --model exp/${conf}/model.zip --wav "${DEMO_WAV}" \
        --output ${tmp}/${conf}.csv --output_format livelink --output_fps 60
done
python - "${tmp}" "${DEMO_WAV}" <<'PY'
import json, math, sys

import numpy as np
import soundfile as sf

from espnet_cause.arkit import ARKIT_NAMES
from espnet_cause.io.livelink import LIVELINK_HEADER, read_livelink_csv

tmp, wav = sys.argv[1], sys.argv[2]
samples, sr = sf.read(wav, dtype="float32")
n = math.ceil(len(samples) / sr * 60 - 1e-6)
half = sr // 120 + 1
loud = np.array([10 * np.log10(np.mean(samples[max(c - half, 0) : c + half] ** 2) + 1e-10)
                 for c in (np.arange(n) * sr // 60)])
for conf in ("cause_ci", "cause_ci_arkit"):
    path = f"{tmp}/{conf}.csv"
    assert open(path).readline().strip() == ",".join(LIVELINK_HEADER)
    times, shapes, _ = read_livelink_csv(path, fps=60)
    assert len(times) == n, (conf, len(times), n)
    jaw = shapes[:, ARKIT_NAMES.index("jawOpen")]
    r = float(np.corrcoef(jaw, loud)[0, 1])
    print(f"CI ARKit: {conf}: {n} rows at 60 fps, JawOpen vs loudness r = {r:.2f}")
    assert r > 0.5, (conf, r)
scores = json.load(open("exp/cause_ci_arkit/score_test/scores.json"))
model = scores["systems"]["model"]["mean"]
beats = scores["model_beats"]
assert all(all(b.values()) for b in beats.values()), beats
print("CI ARKit: test scores of the ARKit model:", model)
PY
echo "CI: ARKit recipe and Live Link export passed"
