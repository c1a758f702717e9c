#!/usr/bin/env bash
# `make test-slurm`: the format sweep run three ways on the one-node Slurm
# cluster of scripts/slurm-local.sh: in one process, as local jobs and as a
# Slurm job array; the three tables must be identical. Then a task made to
# fail is listed by the Slurm run, and the same command run again submits
# that task alone and gives the same table.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG=${PHASEGEN:-$ROOT/target/release/phasegen}
D=$ROOT/build/test-slurm
cd "$ROOT"
scripts/slurm-local.sh
export SLURM_CONF=$ROOT/build/slurm/slurm.conf
rm -rf "$D" && mkdir -p "$D"
"$PG" train --out "$D/model.json" 2>"$D/train.log"
args=(sweep --model "$D/model.json" --count 120 --weight-bits 3..8 --phase-bits 6..12)
t0=$(date +%s)
"$PG" "${args[@]}" >"$D/inprocess.md"
"$PG" "${args[@]}" --engine local -j 2 --results "$D/local" >"$D/local.md"
t1=$(date +%s)
"$PG" "${args[@]}" --engine slurm --results "$D/slurm" >"$D/slurm.md"
t2=$(date +%s)
diff "$D/inprocess.md" "$D/local.md" || { echo "test-slurm: local jobs differ from the one-process table" >&2; exit 1; }
diff "$D/inprocess.md" "$D/slurm.md" || { echo "test-slurm: the Slurm table differs from the one-process table" >&2; exit 1; }
tasks=$(ls "$D/slurm"/point-*.json | wc -l)
# a task that cannot write its result fails; the run lists it
victim=$(ls "$D/slurm"/point-*.json | head -1)
rm "$victim"
mkdir "${victim%.json}.tmp"
if "$PG" "${args[@]}" --engine slurm --results "$D/slurm" >"$D/fail.md" 2>"$D/fail.log"; then
    echo "test-slurm: a failed task went unnoticed" >&2
    exit 1
fi
grep -q "1 of $tasks tasks wrote no result" "$D/fail.log" || { cat "$D/fail.log" >&2; exit 1; }
# the same command again submits only that task
rmdir "${victim%.json}.tmp"
"$PG" "${args[@]}" --engine slurm --results "$D/slurm" >"$D/again.md" 2>"$D/again.log"
grep -q "1 of $tasks tasks to run (Slurm)" "$D/again.log" || { cat "$D/again.log" >&2; exit 1; }
diff "$D/inprocess.md" "$D/again.md"
echo "test-slurm: OK: $tasks formats, the same table in one process, as local jobs ($((t1 - t0)) s for both) and as a Slurm job array ($((t2 - t1)) s); a failed task listed and resubmitted alone (outputs in $D)"
