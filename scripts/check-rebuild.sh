#!/usr/bin/env bash
# A second `make bitstream` after the README's `cargo build --release` must
# do nothing: no training, generation, verification, lint, synthesis or
# place and route (only the quick report is rewritten). This used to fail:
# the Makefile exported VERILATOR to cargo, whose build script reran when it
# changed, so the two commands rebuilt each other's binary.
#
#   scripts/check-rebuild.sh      (make check-rebuild; make test runs it)
#
# Builds a tiny network (one epoch, 18 oscillators) into build/check-rebuild/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
MAKE=${MAKE:-make}
CARGO=${CARGO:-cargo}
B=build/check-rebuild
mkdir -p "$B"
cat >"$B/tiny.toml" <<'TOML'
name = "tiny"
[network]
inputs = 64
layers = [8, 10]
[train]
data = "data/digits-8x8"
epochs = 1
max_train = 100
[hardware]
steps = 8
TOML
# make's own variables must not leak in from a `make test` above us
unset MAKEFLAGS MFLAGS MAKELEVEL
flow=(CONFIG="$B/tiny.toml" BUILD="$B" SETUP=true)
outputs=("$B/model.json" "$B/gen/pg_top.v" "$B/verify.ok" "$B/lint.ok"
    "$B/tiny.synth.json" "$B/tiny.asc" "$B/tiny.bin")

echo "check-rebuild: first make bitstream (tiny network) ..."
"$MAKE" bitstream "${flow[@]}" >"$B/first.log" 2>&1 ||
    { cat "$B/first.log"; echo "check-rebuild: FAILED: the first make bitstream failed (log above)"; exit 1; }
before=$(stat -c '%n %Y' "${outputs[@]}")
sleep 1 # so that anything rewritten gets a later mtime

echo "check-rebuild: cargo build --release ..."
"$CARGO" build --release >"$B/cargo.log" 2>&1 ||
    { cat "$B/cargo.log"; echo "check-rebuild: FAILED: cargo build --release failed"; exit 1; }
if grep -q "Compiling" "$B/cargo.log"; then
    cat "$B/cargo.log"
    echo "check-rebuild: FAILED: cargo build --release recompiled after make (an environment variable the Makefile exports?)"
    exit 1
fi

echo "check-rebuild: second make bitstream ..."
"$MAKE" bitstream "${flow[@]}" >"$B/second.log" 2>&1 ||
    { cat "$B/second.log"; echo "check-rebuild: FAILED: the second make bitstream failed"; exit 1; }
after=$(stat -c '%n %Y' "${outputs[@]}")
if [ "$before" != "$after" ]; then
    cat "$B/second.log"
    diff <(echo "$before") <(echo "$after") || true
    echo "check-rebuild: FAILED: the second make bitstream rebuilt the files above"
    exit 1
fi
echo "check-rebuild: OK (the second make bitstream rebuilt nothing; logs in $B/)"
