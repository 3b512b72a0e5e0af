# Where the corpora live on this machine. Edit these paths (or export them) for real corpora;
# the default corpus, mini, is synthesized into downloads/ and needs only the files below.
MINI=${MINI:-downloads/mini}
CREMA_D=${CREMA_D:-/data/CREMA-D}
RAVDESS=${RAVDESS:-/data/RAVDESS}   # its Actor_NN/ speech folders (voices only, emotion labels)
MEAD=${MEAD:-/data/MEAD}
VOXCELEB2=${VOXCELEB2:-/data/VoxCeleb2}
LRS3=${LRS3:-/data/LRS3}
FOLDER=${FOLDER:-}
# GRID (CC BY 4.0): its own layout s<N>/*.mpg (+ s<N>/align/*.align) or folders of GRID clips
# named by sentence (e.g. a folder holding grid_s4/*.mkv and grid/*.mpg).
GRID=${GRID:-}
# The face photo that the mini corpus animates, the MediaPipe face landmarker model, and the
# demo speech and photo that stage 6 renders: the files that ship with the package
# (espnet_cause/assets/, sources and licences in its NOTICE).
ASSETS=${ASSETS:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/espnet_cause/assets}
FACE_IMAGE=${FACE_IMAGE:-${ASSETS}/grace_hopper.jpg}
FACE_LANDMARKER=${FACE_LANDMARKER:-${ASSETS}/face_landmarker.task}
DEMO_WAV=${DEMO_WAV:-${ASSETS}/arctic_a0007.wav}
