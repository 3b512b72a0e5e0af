#!/usr/bin/env bash
# Debian's CMU Flite voices (libflite1: slt, awb, rms, kal), loaded with ctypes by
# espnet_cause/corpora/mini/flite.py for the mini corpus's optional Flite speakers
# (run.sh --mini_flite_speakers N); tests/corpora/test_flite.py (run by 20-test.sh) speaks with them.
set -euo pipefail
if /sbin/ldconfig -p | grep -q 'libflite_cmu_us_slt.so.1'; then
    echo "flite: libflite1 already installed"
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
${sudo} apt-get update -qq
DEBIAN_FRONTEND=noninteractive ${sudo} apt-get install -y -qq libflite1 >/dev/null
echo "flite: libflite1 installed"
