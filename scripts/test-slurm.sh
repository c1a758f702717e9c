#!/usr/bin/env bash
# `make test-slurm`: on the one-node Slurm cluster of scripts/slurm-local.sh,
# 1. the format sweep in one process, as local jobs and as a Slurm job array:
#    the three tables must be identical; then a task made to fail is listed
#    by the Slurm run, and the same command run again submits that task
#    alone and gives the same table;
# 2. a training sweep (train --sweep, 4 points) as local jobs and on Slurm:
#    the same table but the s/epoch column (a wall time); a Slurm run
#    interrupted after submitting, run again, waits for its array instead
#    of submitting the tasks twice;
# 3. r2nn tolerance in one process and on Slurm (draws split into jobs):
#    the same table;
# 4. capacity's rows (with the stand-in for make of tests/jobs_cli.rs) as
#    local jobs and on Slurm: the same table.
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
grep -q "1 of $tasks tasks wrote no result" "$D/fail.log" && grep -q "resubmit only these with the same command" "$D/fail.log" || { cat "$D/fail.log" >&2; exit 1; }
# the same command again submits only that task
rmdir "${victim%.json}.tmp"
"$PG" "${args[@]}" --engine slurm --results "$D/slurm" >"$D/again.md" 2>"$D/again.log"
grep -q "1 of $tasks tasks to run (Slurm)" "$D/again.log" || { cat "$D/again.log" >&2; exit 1; }
diff "$D/inprocess.md" "$D/again.md"
sweep_msg="$tasks formats, the same table in one process, as local jobs ($((t1 - t0)) s for both) and as a Slurm job array ($((t2 - t1)) s); a failed task listed and resubmitted alone"

# 2. a training sweep: 2 rates x 2 seeds of a small digits network
cat >"$D/tiny.toml" <<'EOF'
name = "tiny"
[network]
inputs = 64
layers = [24, 10]
[train]
epochs = 3
batch = 16
optimizer = "adam"
lr = 0.005
lr_bias = 0.005
lr_schedule = "constant"
max_train = 400
EOF
printf '[train]\nlr = [0.005, 0.02]\nseed = [1, 2]\n' >"$D/grid.toml"
targs=(train --config "$D/tiny.toml" --sweep "$D/grid.toml")
"$PG" "${targs[@]}" --engine local -j 2 --results "$D/train-local" >"$D/train-local.md" 2>"$D/train-local.log"
t3=$(date +%s)
"$PG" "${targs[@]}" --engine slurm --results "$D/train-slurm" >"$D/train-slurm.md" 2>"$D/train-slurm.log" ||
    { cat "$D/train-slurm.log" >&2; exit 1; }
t4=$(date +%s)
# every column but s/epoch (the 8th of a |-split row: point, lr, seed, epochs, best, final, s/epoch)
no_times() { cut -d'|' -f1-7,9- "$1"; }
diff <(no_times "$D/train-local.md") <(no_times "$D/train-slurm.md") ||
    { echo "test-slurm: the training sweep's Slurm table differs from the local one" >&2; exit 1; }
[ "$(grep -c '^| [0-9]' "$D/train-slurm.md")" -eq 4 ] || { cat "$D/train-slurm.md" >&2; exit 1; }

# an interrupted Slurm run: the same command again waits for the array
# still in the queue instead of submitting its tasks twice
"$PG" "${targs[@]}" --engine slurm --results "$D/train-resume" >/dev/null 2>"$D/train-resume-1.log" &
first=$!
for _ in $(seq 1 50); do [ -f "$D/train-resume/slurm-array-id" ] && break; sleep 0.2; done
kill "$first" && wait "$first" 2>/dev/null || true
"$PG" "${targs[@]}" --engine slurm --results "$D/train-resume" >"$D/train-resume.md" 2>"$D/train-resume.log"
grep -q 'is still in the queue' "$D/train-resume.log" || { echo "test-slurm: the rerun did not wait for the earlier array" >&2; cat "$D/train-resume.log" >&2; exit 1; }
if grep -q 'tasks to run (Slurm)' "$D/train-resume.log"; then
    echo "test-slurm: the rerun submitted tasks of the array still queued" >&2; cat "$D/train-resume.log" >&2; exit 1
fi
diff <(no_times "$D/train-local.md") <(no_times "$D/train-resume.md") ||
    { echo "test-slurm: the resumed training sweep's table differs from the local one" >&2; exit 1; }

# 3. r2nn tolerance: 2 tolerances x 6 draws, 3 draws per Slurm task
"$PG" r2nn train --task tactile --count 100 --len 120 --epochs 2 --batch 16 --out "$D/r2nn.json" 2>"$D/r2nn-train.log"
rargs=(r2nn tolerance --model "$D/r2nn.json" --tol 10,40 --trials 6)
"$PG" "${rargs[@]}" >"$D/tol-inprocess.md"
t5=$(date +%s)
"$PG" "${rargs[@]}" --engine slurm --draws-per-job 3 --results "$D/tol-slurm" >"$D/tol-slurm.md" 2>"$D/tol-slurm.log" ||
    { cat "$D/tol-slurm.log" >&2; exit 1; }
t6=$(date +%s)
diff "$D/tol-inprocess.md" "$D/tol-slurm.md" ||
    { echo "test-slurm: r2nn tolerance on Slurm differs from the one-process table" >&2; exit 1; }
grep -q '4 of 4 tasks to run (Slurm)' "$D/tol-slurm.log" || { cat "$D/tol-slurm.log" >&2; exit 1; }

# 4. capacity: 2 boards x 2 kinds, with the stand-in for make of
# tests/jobs_cli.rs (real builds take minutes; docs/cluster.md has two real
# rows run both ways), as local jobs and on Slurm: the same table
cargs=(capacity --board icebreaker,hx8k-breakout --kind full,layered --lo 40 --hi 400 --sim-steps 0)
MAKE=$ROOT/tests/fixtures/capacity-make.sh "$PG" "${cargs[@]}" --engine local -j 2 --dir "$D/cap-local" >"$D/cap-local.md" 2>"$D/cap-local.log"
t7=$(date +%s)
MAKE=$ROOT/tests/fixtures/capacity-make.sh "$PG" "${cargs[@]}" --engine slurm --dir "$D/cap-slurm" >"$D/cap-slurm.md" 2>"$D/cap-slurm.log" ||
    { cat "$D/cap-slurm.log" >&2; exit 1; }
t8=$(date +%s)
diff "$D/cap-local.md" "$D/cap-slurm.md" ||
    { echo "test-slurm: capacity's Slurm table differs from the local one" >&2; exit 1; }
[ "$(grep -c '^| icebreaker\|^| hx8k-breakout' "$D/cap-slurm.md")" -eq 4 ] || { cat "$D/cap-slurm.md" >&2; exit 1; }

echo "test-slurm: OK: $sweep_msg; a training sweep of 4 points, the same table (but s/epoch) as local jobs and on Slurm ($((t4 - t3)) s), and after an interrupted Slurm run; r2nn tolerance, 2 x 6 draws in 4 Slurm tasks, the same table as in one process ($((t6 - t5)) s); capacity (a stand-in for make), 4 rows, the same table as local jobs and on Slurm ($((t8 - t7)) s) (outputs in $D)"
