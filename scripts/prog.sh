#!/usr/bin/env bash
# Program an attached board: scripts/prog.sh TOOL BITFILE
#
#   TOOL     iceprog (iCE40 boards) or openFPGALoader (ECP5 boards)
#   BITFILE  the bitstream (.bin for iceprog, .bit for openFPGALoader)
#
# First checks that the tool exists and that it sees a board, then
# programs. Installs nothing: a missing tool or board is an error (exit 2
# and 3) with what to do about it.
#
# Environment: ICEPROG (default iceprog), OPENFPGALOADER (default
# openFPGALoader), PROG_BOARD (openFPGALoader's -b board name, e.g. ulx3s),
# PROG_FLAGS (extra arguments for the tool, e.g. -S for iceprog: load the
# FPGA instead of writing the flash; -f for openFPGALoader: write the flash).
set -euo pipefail

case "${1:-}" in
    -h | --help)
        sed -n '2,14s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
        exit 0
        ;;
esac
if [ $# -ne 2 ]; then
    sed -n '2,14s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
fi
tool=$1
bit=$2
read -r -a flags <<<"${PROG_FLAGS:-}"

die() {
    echo "prog: ERROR: $*" >&2
    exit "${code:-1}"
}

[ -f "$bit" ] || code=2 die "no bitstream $bit (run make bitstream first)"

case $tool in
    iceprog)
        cmd=${ICEPROG:-iceprog}
        hint="it comes with Debian's fpga-icestorm (scripts/setup.sh installs it)"
        probe=("$cmd" -t)
        program=("$cmd" "${flags[@]}" "$bit")
        ;;
    openFPGALoader)
        cmd=${OPENFPGALOADER:-openFPGALoader}
        hint="install it with 'apt-get install openfpgaloader' (Debian 12 has 0.10) or from https://github.com/trabucayre/openFPGALoader; make prog installs nothing"
        board_args=()
        [ -n "${PROG_BOARD:-}" ] && board_args=(-b "$PROG_BOARD")
        probe=("$cmd" "${board_args[@]}" --detect)
        program=("$cmd" "${board_args[@]}" "${flags[@]}" "$bit")
        ;;
    *)
        code=2 die "unknown programming tool '$tool' (PROG_TOOL in the board's constraints/<board>.mk): use iceprog or openFPGALoader"
        ;;
esac

command -v "$cmd" >/dev/null 2>&1 || code=2 die "$cmd not found; $hint"

# The probe only reads (iceprog -t: the flash ID; openFPGALoader --detect:
# the JTAG chain), so a missing board is told apart from a failed write.
if ! out=$("${probe[@]}" 2>&1); then
    echo "$out" >&2
    code=3 die "no board found by '${probe[*]}'; connect the board by USB, and check that your user may open it (udev rule or plugdev group)"
fi

echo "prog: ${program[*]}"
"${program[@]}" || die "'${program[*]}' failed (see its output above)"
echo "prog: done"
