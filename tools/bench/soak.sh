#!/usr/bin/env bash
# Soak: DURATION seconds (default 600) of mixed load at 1,000 connections against the release
# server on the embedded store: 800 HTTP/2 connections calling gRPC GetSession (h2load, 4 streams
# each) and 200 HTTP/1.1 connections calling REST GET /api/sessions/{id} (wrk), in rounds of ROUND
# seconds (each round reconnects), plus soak_probe.py: every SAMPLE seconds it times gRPC and REST
# calls and creates (p50/p99, errors, grpc-status checked) and samples the server's RSS.
# Passes when no round has a protocol error or a 5xx, the probe saw no error, and RSS plateaus
# (the last third's mean within 10 % of the middle third's).
#   tools/bench/soak.sh      (DURATION=600 ROUND=60 SAMPLE=10)
# Writes tools/bench/results/soak-<UTC time>.{txt,csv,png}.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/bench/sessiond.sh
DURATION=${DURATION:-600}
ROUND=${ROUND:-60}
SAMPLE=${SAMPLE:-10}
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true  # 1,000 connections need more than 1,024 descriptors
build_sessiond
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=tools/bench/results/soak-$stamp
exec > >(tee "$out.txt")
echo "# tools/bench/soak.sh (DURATION=$DURATION ROUND=$ROUND SAMPLE=$SAMPLE), $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "# server on CPU 0; h2load -c 800 -m 4 (gRPC GetSession) and wrk -c 200 (REST GET) on CPU 1, rounds of $ROUND s"
# All load comes from one address: the per-client cap (a tenth of --max-connections) would refuse it.
start_sessiond "$bin" "$work" 0 SESSIOND_RATE_LIMITS=tester=1000000/1000000 SESSIOND_MAX_CONNECTIONS_PER_CLIENT=10000
pids+=("$server")
session=$(.venv/bin/python tools/bench/seed.py --port "$port" --token "$token" --sessions 2000 --req "$work/req.bin")
echo "idle RSS: $(($(awk '/VmRSS/ {print $2}' "/proc/$server/status") / 1024)) MiB"

.venv/bin/python tools/bench/soak_probe.py --port "$port" --token "$token" --session "$session" --pid "$server" \
    --duration "$DURATION" --sample "$SAMPLE" --csv "$out.csv" --plot "$out.png" >"$work/probe.txt" 2>&1 &
probe=$!
pids+=("$probe")

rounds=$((DURATION / ROUND))
h2_failed=0 h2_5xx=0 h2_done=0 wrk_bad=0 wrk_errors=0 wrk_done=0
for round in $(seq 1 "$rounds"); do
    taskset -c 1 h2load -D "$ROUND" -c 800 -m 4 -t 1 -d "$work/req.bin" -H 'content-type: application/grpc' \
        -H 'te: trailers' -H "authorization: Bearer $token" "http://127.0.0.1:$port/sessions.v1.SessionService/GetSession" \
        >"$work/h2load.$round" 2>&1 &
    h2=$!
    taskset -c 1 wrk -t1 -c200 -d"${ROUND}s" --latency -H "Authorization: Bearer $token" \
        "http://127.0.0.1:$port/api/sessions/$session" >"$work/wrk.$round" 2>&1 || true
    wait "$h2" || true
    read -r done failed errored timeout < <(awk '/^requests:/ {print $8, $10, $12, $14}' "$work/h2load.$round")
    fivexx=$(awk '/^status codes:/ {print $9}' "$work/h2load.$round")
    bad=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$work/wrk.$round"); bad=${bad:-0}
    socket=$(awk -F'[ ,]+' '/Socket errors:/ {print $5 + $7 + $9 + $11}' "$work/wrk.$round"); socket=${socket:-0}
    requests=$(awk '/requests in/ {print $1}' "$work/wrk.$round"); requests=${requests:-0}
    p99=$(awk '/^ +99%/ {print $2}' "$work/wrk.$round")
    echo "round $round: gRPC $done done, $((failed + errored + timeout)) failed/errored/timed out, ${fivexx:-?} 5xx;" \
        "REST $requests done, $bad non-2xx, $socket socket errors, p99 ${p99:-?};" \
        "RSS $(($(awk '/VmRSS/ {print $2}' "/proc/$server/status") / 1024)) MiB"
    h2_done=$((h2_done + done)); h2_failed=$((h2_failed + failed + errored + timeout)); h2_5xx=$((h2_5xx + ${fivexx:-0}))
    wrk_done=$((wrk_done + requests)); wrk_bad=$((wrk_bad + bad)); wrk_errors=$((wrk_errors + socket))
done
wait "$probe" || true
cat "$work/probe.txt"
echo "peak RSS: $(($(awk '/VmHWM/ {print $2}' "/proc/$server/status") / 1024)) MiB"
echo "totals: gRPC $h2_done calls, $h2_failed failed, $h2_5xx 5xx; REST $wrk_done requests, $wrk_bad non-2xx, $wrk_errors socket errors"
verdict=pass
[[ $h2_failed -eq 0 && $h2_5xx -eq 0 && $wrk_bad -eq 0 && $wrk_errors -eq 0 ]] || verdict=fail
grep -q '^probe: pass' "$work/probe.txt" || verdict=fail
echo "soak: $verdict"
[[ $verdict == pass ]]
