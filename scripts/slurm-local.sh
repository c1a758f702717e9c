#!/usr/bin/env bash
# Start a one-node Slurm cluster on this machine, for `make test-slurm` and
# for trying `--engine slurm` without a cluster (docs/cluster.md). Safe to
# run repeatedly: installs Debian's slurm-wlm and munge when missing, writes
# build/slurm/slurm.conf (this machine's CPUs, localhost only), and starts
# munged, slurmctld and slurmd unless they run. Prints the line to export:
#
#   export SLURM_CONF=<repo>/build/slurm/slurm.conf
#
#   scripts/slurm-local.sh          start (or check) the cluster
#   scripts/slurm-local.sh --stop   stop slurmd and slurmctld
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=$ROOT/build/slurm
CONF=$DIR/slurm.conf
LOG=$DIR/setup.log
log() { echo "slurm-local: $*"; }
die() { echo "slurm-local: $*" >&2; exit 1; }

if [ "${1:-}" = "--stop" ]; then
    pkill -f "slurmd -f $CONF" 2>/dev/null || true
    pkill -f "slurmctld -f $CONF" 2>/dev/null || true
    log "stopped"
    exit 0
fi
[ $# -eq 0 ] || die "unknown argument '$1' (use --stop or nothing)"

mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
missing=()
for entry in slurmctld:slurm-wlm slurmd:slurm-wlm sbatch:slurm-wlm munged:munge; do
    command -v "${entry%%:*}" >/dev/null 2>&1 || missing+=("${entry#*:}")
done
if [ "${#missing[@]}" -gt 0 ]; then
    pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    log "installing $pkgs(apt's output: $LOG)"
    $SUDO apt-get update -q >>"$LOG" 2>&1 || true
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $pkgs >>"$LOG" 2>&1 ||
        die "apt-get install of $pkgs failed (its output: $LOG)"
fi

# munge: the key the package made, its socket folder, the daemon
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    [ -f /etc/munge/munge.key ] || /usr/sbin/mungekey --create >>"$LOG" 2>&1 ||
        die "cannot create /etc/munge/munge.key (output: $LOG)"
    mkdir -p /run/munge
    chown munge:munge /run/munge /etc/munge/munge.key 2>/dev/null || true
    runuser -u munge -- /usr/sbin/munged >>"$LOG" 2>&1 || /usr/sbin/munged --force >>"$LOG" 2>&1 ||
        die "munged does not start (output: $LOG)"
    munge -n | unmunge >/dev/null 2>&1 || die "munge does not authenticate (output: $LOG)"
fi

cat >"$CONF.new" <<EOF
# written by scripts/slurm-local.sh: one node, localhost only
ClusterName=phasegen
SlurmctldHost=localhost
SlurmUser=$(id -un)
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
NodeName=localhost CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=main Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
if ! cmp -s "$CONF.new" "$CONF"; then
    mv "$CONF.new" "$CONF"
    pkill -f "slurmd -f $CONF" 2>/dev/null || true
    pkill -f "slurmctld -f $CONF" 2>/dev/null || true
    sleep 1
else
    rm -f "$CONF.new"
fi
export SLURM_CONF=$CONF
pgrep -f "slurmctld -f $CONF" >/dev/null || slurmctld -f "$CONF" ||
    die "slurmctld does not start (log: $DIR/log/slurmctld.log)"
pgrep -f "slurmd -f $CONF" >/dev/null || slurmd -f "$CONF" ||
    die "slurmd does not start (log: $DIR/log/slurmd.log)"
for _ in $(seq 1 30); do
    if sinfo -h -o %t 2>/dev/null | grep -q idle; then
        log "one-node cluster up ($(nproc) CPUs); export SLURM_CONF=$CONF"
        exit 0
    fi
    sleep 1
done
die "the node did not come up idle: $(sinfo 2>&1 | tail -1) (logs in $DIR/log/)"
