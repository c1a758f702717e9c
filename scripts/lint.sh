#!/usr/bin/env bash
# Lint a folder of Verilog: scripts/lint.sh DIR [TOP [EXTRA.v ...]]
#
# Reads every DIR/*.v plus any EXTRA files, with TOP (default pg_top) as the
# top module, and runs
#   verilator --lint-only -Wall   (with hdl/lint/verilator_waiver.vlt if present)
#   yosys: hierarchy -check -top TOP; proc; check -assert
# Any Verilator warning or any Yosys warning or error fails the lint; the
# tool's output is printed and the exit status is non-zero.
#
# Environment: VERILATOR (default verilator), YOSYS (default yosys).
set -euo pipefail

if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
    sed -n '2,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
    [ $# -ge 1 ] && exit 0
    exit 2
fi

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VERILATOR=${VERILATOR:-verilator}
YOSYS=${YOSYS:-yosys}
WAIVER=$ROOT/hdl/lint/verilator_waiver.vlt

dir=$1
top=${2:-pg_top}
shift $(($# >= 2 ? 2 : 1))

[ -d "$dir" ] || {
    echo "lint: ERROR: $dir is not a folder (run 'make gen' first?)" >&2
    exit 2
}
shopt -s nullglob
files=("$dir"/*.v "$@")
shopt -u nullglob
[ "${#files[@]}" -gt 0 ] || {
    echo "lint: ERROR: no .v files in $dir" >&2
    exit 2
}
for f in "${files[@]}"; do
    [ -f "$f" ] || {
        echo "lint: ERROR: $f does not exist" >&2
        exit 2
    }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

vl_args=(--lint-only -Wall --top-module "$top")
[ -f "$WAIVER" ] && vl_args+=("$WAIVER")
if ! "$VERILATOR" "${vl_args[@]}" "${files[@]}" >"$tmp/verilator.log" 2>&1; then
    echo "lint: FAILED: $VERILATOR ${vl_args[*]} ${files[*]}" >&2
    cat "$tmp/verilator.log" >&2
    status=1
fi

# Yosys exits 0 on warnings, so its log is searched for them as well.
script="read_verilog ${files[*]}; hierarchy -check -top $top; proc; check -assert"
if ! "$YOSYS" -q -l "$tmp/yosys.log" -p "$script" >/dev/null 2>&1 ||
    grep -qiE '^(warning|error)|^ERROR' "$tmp/yosys.log"; then
    echo "lint: FAILED: $YOSYS -p '$script'" >&2
    grep -iE -A3 'warning|error|problem' "$tmp/yosys.log" >&2 || cat "$tmp/yosys.log" >&2
    status=1
fi

if [ "$status" -eq 0 ]; then
    echo "lint: OK ($top: ${#files[@]} files, verilator -Wall and yosys check -assert clean)"
fi
exit "$status"
