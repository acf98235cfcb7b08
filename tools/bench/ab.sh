#!/usr/bin/env bash
# Two sessiond binaries side by side, for a change too small to see through this machine's
# minute-to-minute drift: both servers run at once, pinned to the same core, and take the same
# load in turns (A then B, then B then A), so both see the same minutes. Prints each round's server
# CPU per request (/proc utime + stime over the round, all threads) and B/A, then the median B/A
# and in how many rounds B used less.
#   tools/bench/ab.sh BIN_A BIN_B [grpc|rest-h2|rest-h1|connect-h2|connect-h1]   (SECONDS_EACH=4 ROUNDS=12)
# Each side must pass seed.py's check (the right reply, UNAUTHENTICATED without a token) before
# and after the rounds. Make BIN_A by copying .build/release/sessiond before the change, e.g.
#   git stash; source tools/bench/sessiond.sh; cp "$(release_build sessiond)" /tmp/a
set -euo pipefail
usage="usage: ab.sh BIN_A BIN_B [grpc|rest-h2|rest-h1|connect-h2|connect-h1]"
a_bin=$(realpath "${1:?$usage}") b_bin=$(realpath "${2:?$usage}") kind=${3:-grpc}
cd "$(dirname "$0")/../.."
source tools/bench/sessiond.sh
SECONDS_EACH=${SECONDS_EACH:-4}
ROUNDS=${ROUNDS:-12}
declare -A pid_of port_of token_of session_of work_of
# Stops both servers (and one still starting) and removes their directories, whatever failed.
stop_all() {
    local pid
    for pid in "${pid_of[A]:-}" "${pid_of[B]:-}" "${server:-}"; do
        [[ -n $pid ]] || continue
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "${work_of[A]:-}" "${work_of[B]:-}"
}
trap stop_all EXIT
for side in A B; do
    bin=$a_bin; [[ $side == B ]] && bin=$b_bin
    work_of[$side]=$(mktemp -d)
    server=
    start_sessiond "$bin" "${work_of[$side]}" 0
    pid_of[$side]=$server port_of[$side]=$port token_of[$side]=$token
    session_of[$side]=$(.venv/bin/python tools/bench/seed.py --port "$port" --token "$token" --sessions 10000 \
        --req "${work_of[$side]}/req.bin")
done
# Both must answer correctly, before and after: h2load counts a gRPC error sent with HTTP 200 as
# a success, and a build that refuses every call would look cheap.
check_both() {
    local side
    for side in A B; do
        .venv/bin/python tools/bench/seed.py --port "${port_of[$side]}" --token "${token_of[$side]}" \
            --check "${session_of[$side]}" >/dev/null || { echo "$side failed its check" >&2; exit 1; }
    done
}
check_both
# load SIDE SECONDS: prints how many requests succeeded
load() {
    sessiond_load "$kind" "$2" "${port_of[$1]}" "${token_of[$1]}" "${session_of[$1]}" "${work_of[$1]}/req.bin" \
        | load_succeeded "$kind"
}
hz=$(getconf CLK_TCK)
# measure SIDE: prints the server's CPU µs per request over one round
measure() {
    local before after done_count
    before=$(cpu_ticks "${pid_of[$1]}")
    done_count=$(load "$1" "$SECONDS_EACH")
    after=$(cpu_ticks "${pid_of[$1]}")
    ((done_count > 0)) || { echo "$1: no request succeeded" >&2; exit 1; }
    awk -v t="$((after - before))" -v hz="$hz" -v n="$done_count" 'BEGIN { printf "%.3f", 1e6 * t / hz / n }'
}
load A 1 >/dev/null  # warm-up
load B 1 >/dev/null
ratios=()
for round in $(seq 1 "$ROUNDS"); do
    if ((round % 2)); then a=$(measure A); b=$(measure B); else b=$(measure B); a=$(measure A); fi
    ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }')
    ratios+=("$ratio")
    echo "round $round: A $a us, B $b us per request, B/A $ratio"
done
check_both
printf '%s\n' "${ratios[@]}" | sort -n | awk -v kind="$kind" '
    { r[NR] = $1; if ($1 < 1) less++ }
    END { m = NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
          printf "%s: median B/A %.3f; B used less CPU in %d of %d rounds\n", kind, m, less, NR }'
