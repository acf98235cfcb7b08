#!/usr/bin/env bash
# Heap allocations per request (not timed), counted by a malloc counter preloaded into a release
# sessiond (tools/bench/malloc-count; valgrind 3.19 cannot read this toolchain's binaries): one
# server answers N1 requests of a kind, another N2; allocations per request are the difference
# divided by N2 - N1, so start-up and seeding cancel out.
#   tools/bench/allocs.sh            (N1=1000 N2=3000)
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/bench/sessiond.sh
N1=${N1:-1000}
N2=${N2:-3000}
build_sessiond
counter=$(mktemp -d)
trap 'rm -rf "$counter"' EXIT
gcc -O2 -shared -fPIC -o "$counter/malloc_count.so" tools/bench/malloc-count/malloc_count.c -ldl

# blocks KIND N: total heap blocks allocated by a fresh server that answered N requests of KIND.
blocks() {
    local kind=$1 count=$2 work
    work=$(mktemp -d)
    local server port token session
    start_sessiond "$bin" "$work" "" MALLOC_COUNT_FILE="$work/count" LD_PRELOAD="$counter/malloc_count.so"
    session=$(.venv/bin/python tools/bench/seed.py --port "$port" --token "$token" --sessions 50 --req "$work/req.bin")
    case $kind in
        grpc) h2load -n "$count" -c 1 -m 1 -d "$work/req.bin" -H 'content-type: application/grpc' -H 'te: trailers' \
                  -H "authorization: Bearer $token" "http://127.0.0.1:$port/sessions.v1.SessionService/GetSession" >/dev/null ;;
        rest-h2) h2load -n "$count" -c 1 -m 1 -H "authorization: Bearer $token" "http://127.0.0.1:$port/api/sessions/$session" >/dev/null ;;
        rest-h1) h2load --h1 -n "$count" -c 1 -m 1 -H "authorization: Bearer $token" "http://127.0.0.1:$port/api/sessions/$session" >/dev/null ;;
    esac
    kill -INT "$server"
    wait "$server" || true
    cat "$work/count"
    rm -rf "$work"
}

echo "command: tools/bench/allocs.sh (LD_PRELOAD malloc counter, release build, N1=$N1 N2=$N2), $(date -u '+%Y-%m-%d %H:%M UTC')"
for kind in grpc rest-h2 rest-h1; do
    a=$(blocks "$kind" "$N1")
    b=$(blocks "$kind" "$N2")
    awk -v k="$kind" -v a="$a" -v b="$b" -v n="$((N2 - N1))" 'BEGIN { printf "%-8s %.1f heap allocations per request\n", k, (b - a) / n }'
done
