#!/usr/bin/env bash
# Memory under many connections: 1,000 HTTP/2 connections with 10 streams each in flight
# (h2load -c 1000 -m 10), against sessiond (GetSession with a service JWT) and the C++ gRPC peer,
# one after the other, pinned as in compare.sh. Prints each server's RSS every SAMPLE seconds and
# its peak, then the ratio. DURATION=300 shows whether RSS stays flat over five minutes. The output
# is also written to tools/bench/results/memory-<UTC time>.txt.
#   tools/bench/memory.sh        (DURATION=60 SAMPLE=10; peers built by compare.sh in $BENCH_PEERS)
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/bench/sessiond.sh
DURATION=${DURATION:-60}
SAMPLE=${SAMPLE:-10}
BENCH_PEERS=${BENCH_PEERS:-/tmp/sessiond-bench-peers}
[[ -f $BENCH_PEERS/.built ]] || { echo "run tools/bench/compare.sh first (it builds the peers)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true  # 1,000 connections need more than the usual 1,024 descriptors
build_sessiond
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT

rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
hwm() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
# load NAME PID URL REQ [headers...]
load() {
    local name=$1 pid=$2 url=$3 req=$4; shift 4
    echo "== $name: idle RSS $(($(rss "$pid") / 1024)) MiB"
    taskset -c 1 h2load -D "$DURATION" -c 1000 -m 10 -t 1 -d "$req" -H 'content-type: application/grpc' -H 'te: trailers' "$@" "$url" \
        >"$work/$name.h2load" 2>&1 &
    local client=$!
    local elapsed=0 samples=()
    while kill -0 "$client" 2>/dev/null; do
        sleep "$SAMPLE"
        elapsed=$((elapsed + SAMPLE))
        kill -0 "$client" 2>/dev/null && samples+=("$(($(rss "$pid") / 1024))")
    done
    echo "   RSS every ${SAMPLE} s (MiB): ${samples[*]}"
    echo "   $(grep -E '^finished in' "$work/$name.h2load")"
    echo "   $(grep -E '^requests:' "$work/$name.h2load")"
    echo "   peak RSS: $(($(hwm "$pid") / 1024)) MiB"
    echo "$(hwm "$pid")" >"$work/$name.hwm"
}

stamp=$(date -u +%Y%m%dT%H%M%SZ)
exec > >(tee "tools/bench/results/memory-$stamp.txt")
echo "# tools/bench/memory.sh (DURATION=$DURATION SAMPLE=$SAMPLE), $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "# h2load -D $DURATION -c 1000 -m 10 -t 1 on CPU 1, server on CPU 0, GetSession"
start_sessiond "$bin" "$work" 0
pids+=("$server")
.venv/bin/python tools/bench/seed.py --port "$port" --token "$token" --sessions 10000 --req "$work/req.bin" >/dev/null
load sessiond "${pids[0]}" "http://127.0.0.1:$port/sessions.v1.SessionService/GetSession" "$work/req.bin" -H "authorization: Bearer $token"

taskset -c 0 "$BENCH_PEERS/cpp-grpc/run.sh" 39399 >"$work/cpp.log" 2>&1 &
pids+=($!)
sleep 1
"$BENCH_PEERS/.venv/bin/python" "$BENCH_PEERS/python/mkreq.py" "$work/peer-req.bin" sess_00042
load cpp-grpc "${pids[1]}" "http://127.0.0.1:39399/sessions.v1.SessionService/GetSession" "$work/peer-req.bin"
awk -v a="$(cat "$work/sessiond.hwm")" -v b="$(cat "$work/cpp-grpc.hwm")" \
    'BEGIN { printf "peak RSS ratio sessiond / C++ gRPC: %.2f (target <= 1.5)\n", a / b }'
