# Command-line options of the recipe scripts (run.sh, local/data.sh), sourced after the script
# has set its option variables to their defaults:
#
#     stage=1
#     stop_stage=6
#     . utils/parse_options.sh      # reads and consumes "$@"
#
# --name value and --name=value set the variable `name` (dashes in the name become
# underscores: --stop-stage is stop_stage) for every lowercase variable the script defined before
# sourcing this file. -h/--help runs the script's `usage` function. A known option without a
# value, an unknown option or a bare argument stops the script with a message and exit code 2.
# A script that forwards other options (local/data.sh to prepare_data) sets the array
# `passthrough_options=()` first: unknown options and their values are appended to it instead.
# Safe under `set -euo pipefail`.

_po_prog=$(basename "$0")
while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help)
            if declare -F usage > /dev/null; then usage; else echo "usage: ${_po_prog} [--name value ...]"; fi
            exit 0 ;;
        --*=*) _po_name=${1%%=*}; _po_value=${1#*=}; shift ;;
        --?*)
            if [ $# -lt 2 ] || [[ "$2" == --* ]]; then
                echo "${_po_prog}: option $1 needs a value (--${1#--} VALUE or --${1#--}=VALUE)" >&2
                exit 2
            fi
            _po_name=$1; _po_value=$2; shift 2 ;;
        *) echo "${_po_prog}: unexpected argument '$1' (options are --name value; see --help)" >&2; exit 2 ;;
    esac
    _po_var=${_po_name#--}
    _po_var=${_po_var//-/_}
    if [[ "${_po_var}" =~ ^[a-z][a-z0-9_]*$ ]] && [ "${_po_var}" != passthrough_options ] \
        && declare -p "${_po_var}" > /dev/null 2>&1; then
        printf -v "${_po_var}" '%s' "${_po_value}"
    elif declare -p passthrough_options > /dev/null 2>&1; then
        passthrough_options+=("${_po_name}" "${_po_value}")
    else
        echo "${_po_prog}: unknown option ${_po_name} (see --help)" >&2
        exit 2
    fi
done
unset _po_prog _po_name _po_value _po_var
