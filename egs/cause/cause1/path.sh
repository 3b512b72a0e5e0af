# Source me: puts the project's .venv on PATH, installing it on first use.
MAIN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
if [ ! -x "${MAIN_ROOT}/.venv/bin/python" ] || [ ! -f "${MAIN_ROOT}/.venv/.installed" ]; then
    echo "path.sh: ${MAIN_ROOT}/.venv is missing; running 'make install' once (a few minutes)" >&2
    make -C "${MAIN_ROOT}" install >&2 || { echo "path.sh: 'make install' failed" >&2; return 1 2>/dev/null || exit 1; }
fi
# shellcheck disable=SC1091
. "${MAIN_ROOT}/.venv/bin/activate"
export PYTHONUNBUFFERED=1
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
export MPLBACKEND=Agg
