#!/usr/bin/env bash
# Run one long flow step with its output in a log, and show that it runs:
# on a terminal, one line with the elapsed time and the log's last line,
# redrawn every second; elsewhere (CI, a pipe), a line when it starts and
# one when it ends. On failure the log's end is printed with its path.
#
#   scripts/step.sh NAME LOG CMD [ARGS...]
#
# The command's own log (yosys -l, nextpnr -l) may be LOG itself; its
# stdout and stderr go to LOG.out.
set -uo pipefail
[ $# -ge 3 ] || { echo "usage: step.sh NAME LOG CMD [ARGS...]" >&2; exit 2; }
name=$1 log=$2
shift 2
mkdir -p "$(dirname "$log")"
start=$(date +%s)
echo "$name: running $(basename "$1") (log: $log)"
"$@" >"$log.out" 2>&1 &
pid=$!
if [ -t 1 ]; then
    cols=$(tput cols 2>/dev/null || echo 100)
    while kill -0 "$pid" 2>/dev/null; do
        last=$(tail -n 1 "$log" 2>/dev/null | tr -d '\r' | cut -c1-$((cols - 20)))
        printf '\r\033[K%s: %ds  %s' "$name" $(($(date +%s) - start)) "$last"
        sleep 1
    done
    printf '\r\033[K'
fi
wait "$pid"
rc=$?
secs=$(($(date +%s) - start))
if [ "$rc" -ne 0 ]; then
    echo "$name: FAILED after ${secs} s (exit $rc); the end of its output:" >&2
    tail -n 30 "$log.out" >&2
    [ "$log" != "$log.out" ] && [ -f "$log" ] && { echo "--- $log:" >&2; tail -n 30 "$log" >&2; }
    echo "$name: full logs: $log, $log.out" >&2
    exit "$rc"
fi
echo "$name: done in ${secs} s"
