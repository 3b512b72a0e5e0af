#!/usr/bin/env bash
# Install from the clean clone (make install finds Python >= 3.12 and creates .venv), lint, and
# check the wheel: `pip wheel --no-deps .` must contain the face model and demo media, and a
# non-editable install of it (no dependencies, into a throwaway folder) must find them offline.
set -euo pipefail
make install
.venv/bin/ruff check .
.venv/bin/ruff format --check .

root=${PWD}
tmp=$(mktemp -d)
trap 'rm -rf "${tmp}"' EXIT
# --no-build-isolation: build with the venv's setuptools, so no index is needed
.venv/bin/python -m pip wheel --quiet --no-deps --no-build-isolation . -w "${tmp}/wheel"
wheel=$(ls "${tmp}"/wheel/espnet_cause-*.whl)
.venv/bin/python -m pip install --quiet --no-deps --no-index --target "${tmp}/site" "${wheel}"
mkdir -p "${tmp}/empty_cache"
(cd "${tmp}" && ESPNET_CAUSE_CACHE="${tmp}/empty_cache" PYTHONPATH="${tmp}/site" \
    "${root}/.venv/bin/python" - "${wheel}" "${tmp}/site" <<'PY'
import sys
import zipfile
from pathlib import Path

wheel, site = sys.argv[1], Path(sys.argv[2]).resolve()
names = set(zipfile.ZipFile(wheel).namelist())
shipped = ["face_landmarker.task", "grace_hopper.jpg", "arctic_a0007.wav", "NOTICE"]
missing = [n for n in shipped if f"espnet_cause/assets/{n}" not in names]
assert not missing, f"{wheel} lacks {missing}"

import espnet_cause
from espnet_cause import assets
from espnet_cause.face.model_file import MODEL_SHA256, resolve_face_landmarker
from espnet_cause.io.cache import sha256_file

assert Path(espnet_cause.__file__).resolve().is_relative_to(site), espnet_cause.__file__
model = resolve_face_landmarker()
assert model.resolve().is_relative_to(site) and sha256_file(model) == MODEL_SHA256, model
for path in (assets.demo_image(), assets.demo_wav()):
    assert path.resolve().is_relative_to(site), path
size = Path(wheel).stat().st_size / 1e6
print(f"CI wheel: {Path(wheel).name} ({size:.1f} MB) has {shipped}; installed copy resolves {model}")
PY
)
