#!/usr/bin/env bash
# Stage 1: a corpus -> Kaldi data dirs <output_dir>/{train,valid,test} (split by speaker).
#   local/data.sh [--corpus mini] [--corpus_dir DIR] [--output_dir data] [--any_prepare_data_option V]
# --corpus_dir defaults to the corpus's path in db.sh (mini: generated there, synthetic).
# Other options (--face_image, --face_landmarker_path, --openface_dir, --valid_speakers,
# --test_speakers, --num_workers, ...) go to python -m espnet_cause.bin.prepare_data as given.
set -euo pipefail

corpus=mini
corpus_dir=
output_dir=data
passthrough_options=()   # the other options, for prepare_data
. utils/parse_options.sh

if [ -z "${corpus_dir}" ]; then
    . ./db.sh
    case "${corpus}" in
        mini) corpus_dir=${MINI} ;;
        crema_d) corpus_dir=${CREMA_D} ;;
        ravdess) corpus_dir=${RAVDESS} ;;
        mead) corpus_dir=${MEAD} ;;
        voxceleb2) corpus_dir=${VOXCELEB2} ;;
        lrs3) corpus_dir=${LRS3} ;;
        folder) corpus_dir=${FOLDER} ;;
        grid) corpus_dir=${GRID} ;;
        *) echo "data.sh: unknown corpus '${corpus}'" >&2; exit 2 ;;
    esac
    if [ -z "${corpus_dir}" ]; then
        var=$(echo "${corpus}" | tr '[:lower:]' '[:upper:]')
        echo "data.sh: no path for corpus '${corpus}': set ${var} in db.sh (or export ${var}=/path/to/it, or pass --corpus_dir)" >&2
        exit 2
    fi
fi

python -m espnet_cause.bin.prepare_data --corpus "${corpus}" --corpus_dir "${corpus_dir}" \
    --output_dir "${output_dir}" ${passthrough_options[@]+"${passthrough_options[@]}"}
