#!/usr/bin/env bash
# Durable CreateSession through 1, 2 and 3 sessiond instances sharing one PostgreSQL (a throwaway
# server from tools/postgres.sh, a fresh database per count), as a load balancer would spread it:
# one create-bench per instance, CALLERS split evenly, all started together; the rates of the
# concurrent phase are summed. Nothing is pinned: PostgreSQL, the instances and the load share
# this machine's cores, so the figure says what one machine allows, not how far instances scale.
#   tools/bench/instances.sh      (CALLERS=64 DURATION=10 COUNTS="1 2 3")
set -euo pipefail
cd "$(dirname "$0")/../.."
CALLERS=${CALLERS:-64}
SECONDS_EACH=${DURATION:-10}
COUNTS=${COUNTS:-1 2 3}
./tools/setup.sh --test >/dev/null
source tools/postgres.sh
source tools/bench/sessiond.sh
sessiond=$(release_build sessiond)
create_bench=$(release_build create-bench)
work=$(mktemp -d)
pids=()
stop_instances() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    pids=()
}
trap 'stop_instances; rm -rf "$work"; stop_postgres' EXIT
head -c 32 /dev/urandom | base64 >"$work/secret"
token=$("$sessiond" token --sub bench --role service --org bench --jwt-secret-file "$work/secret")

echo "command: tools/bench/instances.sh (CALLERS=$CALLERS DURATION=$SECONDS_EACH), $(date -u '+%Y-%m-%d %H:%M UTC'), PostgreSQL $POSTGRES_VERSION"
for count in $COUNTS; do
    psql "$POSTGRES_URL" -q -c "CREATE DATABASE bench_$count" >/dev/null
    url="${POSTGRES_URL%/postgres}/bench_$count?sslmode=disable"
    ports=()
    for index in $(seq 1 "$count"); do
        mkdir -p "$work/$count-$index"
        "$sessiond" serve --port 0 --data-dir "$work/$count-$index" --database-url "$url" \
            --jwt-secret-file "$work/secret" >"$work/$count-$index/out" 2>"$work/$count-$index/err" &
        pids+=($!)
        for _ in $(seq 1 300); do grep -q listening "$work/$count-$index/out" 2>/dev/null && break; sleep 0.1; done
        ports+=("$(sed -n 's/listening on .*:\([0-9]*\)/\1/p' "$work/$count-$index/out")")
    done
    benches=()
    for index in $(seq 1 "$count"); do
        "$create_bench" --port "${ports[$((index - 1))]}" --token "$token" --callers $((CALLERS / count)) \
            --seconds "$SECONDS_EACH" >"$work/$count-$index/bench" 2>&1 &
        benches+=($!)
    done
    for pid in "${benches[@]}"; do wait "$pid"; done
    total=$(for index in $(seq 1 "$count"); do sed -n '2p' "$work/$count-$index/bench"; done |
        awk '{ rate += $3; failed += $8 } END { printf "%.0f creates/s (%d failed)", rate, failed }')
    echo "$count instance(s), $CALLERS callers in all: $total"
    for index in $(seq 1 "$count"); do echo "    instance $index: $(sed -n '2p' "$work/$count-$index/bench")"; done
    stop_instances
done
