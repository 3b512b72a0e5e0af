#!/usr/bin/env bash
# The README's quick start (the recipe on the built-in mini corpus, end to end), then the issue's
# acceptance commands with the repository's demo media, no --face_landmarker_path, an empty model
# cache and (where the kernel allows it) no network at all.
set -euo pipefail
cd egs/cause/cause1
log=$(mktemp)
./run.sh 2>&1 | tee "${log}"
./run.sh --stage 7 --stop-stage 7
./run.sh --stage 8 --stop-stage 8  # expressive TTS: trains the voices, happy/sad syntheses, table
. ./path.sh
. ./db.sh
python - <<'PY'
import json

s = json.load(open("exp/tts_fastspeech2_au_mini/synth/summary.json"))
c = s["checks"]
print("CI expressive TTS: happy - sad F0 median", round(c["au_f0_shift_st"], 2), "st (AU model),",
      round(c["control_f0_shift_st"], 2), "st (control)")
assert c["au_steers"] and c["control_flat"], c  # >= 1 semitone with AU, < 0.3 without
PY
model=exp/cause_ci/model.zip
tmp=$(mktemp -d)
mkdir -p "${tmp}/cache"
export ESPNET_CAUSE_CACHE=${tmp}/cache  # nothing cached: the packaged face model must be used
offline=()
if unshare -n true 2>/dev/null; then
    offline=(unshare -n)  # a network namespace with no interfaces
else
    echo "CI: unshare -n not permitted here; acceptance commands run with the network present" >&2
fi
"${offline[@]}" python -m espnet_cause.bin.infer --model ${model} --wav "${DEMO_WAV}" --output ${tmp}/au.csv
"${offline[@]}" python -m espnet_cause.bin.plot_au --input ${tmp}/au.csv --wav "${DEMO_WAV}" \
    --output ${tmp}/au.png
"${offline[@]}" python -m espnet_cause.bin.render --image "${FACE_IMAGE}" --wav "${DEMO_WAV}" \
    --model ${model} --output ${tmp}/out.mp4
"${offline[@]}" python -m espnet_cause.bin.extract_au --extractor mediapipe \
    --video ${tmp}/out.mp4 --output ${tmp}/out.csv
python - "${tmp}" "${log}" <<'PY'
import json, sys
from pathlib import Path

import av
from espnet_cause.io.openface import read_openface_csv

tmp, log = sys.argv[1], Path(sys.argv[2]).read_text().splitlines()
# stage 6 lists the warp video first, then the CI-sized GANimation's
start = max(i for i, ln in enumerate(log) if "rendered videos" in ln)
listed = [ln.strip() for ln in log[start + 1 :] if ln.strip().endswith(".mp4")]
names = [Path(ln).name for ln in listed]
assert names and names[0] == "demo_warp.mp4", names
assert "demo_ganimation_ci.mp4" in names and all(Path(ln).is_file() for ln in listed), listed
assert open(f"{tmp}/au.png", "rb").read(8) == b"\x89PNG\r\n\x1a\n"
track = read_openface_csv(f"{tmp}/au.csv")
assert track.intensities.shape[1] == 17 and abs(track.fps - 25) < 1e-6, track
assert 95 <= len(track) <= 105, len(track)
with av.open(f"{tmp}/out.mp4") as c:
    v, a = c.streams.video[0], c.streams.audio[0]
    durations = {s.type: float(s.duration * s.time_base) for s in (v, a)}
    assert abs(float(v.average_rate) - 25) < 1e-6 and abs(durations["audio"] - 4.0) < 0.1, durations
tracked = read_openface_csv(f"{tmp}/out.csv")  # the rendered face, tracked back
assert 95 <= len(tracked) <= 105 and tracked.success.mean() > 0.9, (len(tracked), tracked.success.mean())
assert not (Path(tmp) / "cache" / "face_landmarker.task").exists()  # nothing was fetched
scores = json.load(open("exp/cause_ci/score_test/scores.json"))
model = scores["systems"]["model"]["mean"]
beats = scores["model_beats"]  # baseline -> metric -> whether the model is better
assert set(beats) == {"train_mean", "different_utterance"}, beats
assert all(all(b.values()) for b in beats.values()), beats
# mini v3 (mouth from phonemes, 16 varied voices) is harder than v2: cause_ci reached 0.547
assert model["pcc"] >= 0.5, f"mean PCC {model['pcc']} on the mini test set is below 0.5"
print("CI acceptance: stage 6 listed", names, ";", len(track), "AU frames at 25 fps;", durations,
      "; rendered face tracked in", f"{tracked.success.mean():.0%}", "of", len(tracked), "frames",
      "; test scores:", model)
PY
echo "CI: recipe and acceptance checks passed"
