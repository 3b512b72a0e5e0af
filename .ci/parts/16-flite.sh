#!/usr/bin/env bash
# Debian's CMU Flite voices (libflite1: slt, awb, rms, kal), loaded with ctypes by
# espnet_cause/corpora/mini/flite.py for the mini corpus's optional Flite speakers
# (run.sh --mini_flite_speakers N); tests/corpora/test_flite.py speaks with them. `make deps`
# (15-browser-deps.sh, and `make test`) installs it; this part checks that it is there.
set -euo pipefail
if ! /sbin/ldconfig -p | grep -q 'libflite_cmu_us_slt.so.1'; then
    echo "flite: libflite1 is missing after make deps" >&2
    exit 1
fi
echo "flite: libflite1 installed"
