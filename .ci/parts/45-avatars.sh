#!/usr/bin/env bash
# Avatars (issue 31): the figures of docs/avatars.md on the demo speech with the built-in model:
# ARKit curves that move, head motion range, viseme frames, and the Live Link UDP sender's pacing
# over loopback (one JSON line); then the visemes and the Live Link CSV from infer.
set -euo pipefail
PY=.venv/bin/python
wav=espnet_cause/assets/arctic_a0007.wav
tmp=$(mktemp -d)
trap 'rm -rf "${tmp}"' EXIT
${PY} bench/avatar.py --wav "${wav}" | tee "${tmp}/bench.json"
${PY} -m espnet_cause.bin.infer --wav "${wav}" --output "${tmp}/v.json" --output_format visemes --verbose 0
${PY} -m espnet_cause.bin.infer --wav "${wav}" --output "${tmp}/take.csv" --output_format livelink --verbose 0
${PY} - "${tmp}" <<'PY'
import json, sys

tmp = sys.argv[1]
d = json.load(open(f"{tmp}/bench.json"))
assert d["curves_moving"] >= 40, d["curves_moving"]
assert d["livelink_packets"] == 240 and min(d["head_range_deg"]) > 0.5, d
print(f"CI avatars: {d['curves_moving']} of 52 ARKit curves move, head range {d['head_range_deg']}"
      f" deg, {d['livelink_packets']} Live Link packets in {d['livelink_span_s']} s")
doc = json.load(open(f"{tmp}/v.json"))
shapes = sorted({c["shape"] for c in doc["mouth_cues"]})
print(f"CI avatars: {len(doc['frames'])} viseme frames, {len(doc['mouth_cues'])} Rhubarb cues,"
      f" shapes {shapes}")
assert doc["mouth_cues"][0]["shape"] == "X"
PY
echo "CI: avatars passed"
