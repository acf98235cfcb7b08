#!/usr/bin/env bash
# The whole side-by-side comparison in one command: sessiond (release, as users run it: SQLite,
# 10,000 sessions seeded through its own API, a `service` JWT on every call) against the peers in
# ../shared/peers (C++ gRPC, grpc-swift-2, Python grpcio, nghttpd, Hummingbird, nginx), in the same
# run, with the peers' method: server pinned to one core, load generator on the other, h2load
# -c8 -m32 for gRPC and h2, wrk -c64 for HTTP/1.1, a warm-up, then RUNS rounds of DURATION
# seconds; every target is measured once per round, so sessiond and the peers alternate.
#
#   tools/bench/compare.sh                 (PEERS_DIR=../shared/peers RUNS=3 DURATION=10 WARMUP=2)
#   tools/bench/compare.sh cpp-grpc nginx  (a subset of the peers)
#
# The peers are copied to $BENCH_PEERS (default /tmp/sessiond-bench-peers) and built there once
# (their own setup.sh; the shared folder is never written). Prints a table and the ratios, and
# writes tools/bench/results/compare-<UTC time>.txt and .png (a chart, drawn with matplotlib).
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/bench/sessiond.sh
root=$(pwd)
PEERS_DIR=$(cd "${PEERS_DIR:-../shared/peers}" && pwd)
BENCH_PEERS=${BENCH_PEERS:-/tmp/sessiond-bench-peers}
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
SERVER_CPUS=${SERVER_CPUS:-0}
CLIENT_CPUS=${CLIENT_CPUS:-1}
H2_CONNS=${H2_CONNS:-8}
H2_STREAMS=${H2_STREAMS:-32}
WRK_CONNS=${WRK_CONNS:-64}
peers=("$@")
((${#peers[@]})) || peers=(cpp-grpc grpc-swift py-grpc-sync nghttpd hummingbird-rest nginx)

# --- set-up: packages, peers built once, sessiond release --------------------------------------
./tools/setup.sh --test >/dev/null
.venv/bin/python -c 'import matplotlib' 2>/dev/null || .venv/bin/pip install -q matplotlib==3.10.7
if [[ ! -f $BENCH_PEERS/.built ]] || [[ -n $(find "$PEERS_DIR" -newer "$BENCH_PEERS/.built" -not -path '*/.venv/*' -not -path '*/.build/*' -print -quit) ]]; then
    echo "== building the peers in $BENCH_PEERS (first time: several minutes)"
    rm -rf "$BENCH_PEERS"
    mkdir -p "$BENCH_PEERS"
    (cd "$PEERS_DIR" && tar --exclude=.venv --exclude=.build --exclude=results -cf - .) | (cd "$BENCH_PEERS" && tar -xf -)
    chmod -R u+w,a+rX "$BENCH_PEERS"
    "$BENCH_PEERS/setup.sh" >"$BENCH_PEERS/setup.log" 2>&1 || { tail -30 "$BENCH_PEERS/setup.log"; exit 1; }
    touch "$BENCH_PEERS/.built"
fi
build_sessiond

work=$(mktemp -d)
chmod 755 "$work"
declare -A pid_of port_of kind_of
cleanup() {
    for name in "${!pid_of[@]}"; do
        kill "${pid_of[$name]}" 2>/dev/null || true
        pkill -P "${pid_of[$name]}" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# --- sessiond: documented flags only -----------------------------------------------------------
start_sessiond "$bin" "$work" "$SERVER_CPUS"
pid_of[sessiond]=$server
session=$(.venv/bin/python tools/bench/seed.py --port "$port" --token "$token" --sessions 10000 --req "$work/req.bin")
echo "sessiond on $port, 10,000 sessions seeded, reading $session"

# --- peers --------------------------------------------------------------------------------------
next_port=39300
for name in "${peers[@]}"; do
    [[ -x $BENCH_PEERS/$name/run.sh ]] || { echo "no peer $name in $BENCH_PEERS" >&2; exit 1; }
    kind_of[$name]=$(cat "$BENCH_PEERS/$name/kind")
    port_of[$name]=$next_port
    taskset -c "$SERVER_CPUS" "$BENCH_PEERS/$name/run.sh" "$next_port" >"$work/$name.log" 2>&1 &
    pid_of[$name]=$!
    next_port=$((next_port + 1))
done
# A peer that fails to start or to answer says why: its own output, and the check's.
peer_failed() {
    echo "peer $1 $2; the last of its output:" >&2
    tail -n 20 "$work/$1.log" >&2
    exit 1
}
for name in "${peers[@]}"; do
    for attempt in $(seq 1 101); do
        (exec 3<>"/dev/tcp/127.0.0.1/${port_of[$name]}") 2>/dev/null && break
        ((attempt <= 100)) || peer_failed "$name" "did not listen on ${port_of[$name]} within 10 s"
        sleep 0.1
    done
done
# The peers' GetSession request (sess_00042), built with their own tool.
"$BENCH_PEERS/.venv/bin/python" "$BENCH_PEERS/python/mkreq.py" "$work/peer-req.bin" sess_00042

# --- correctness before load --------------------------------------------------------------------
.venv/bin/python tools/bench/seed.py --port "$port" --token "$token" --check "$session"
check_peer() {
    case ${kind_of[$1]} in
        grpc) "$BENCH_PEERS/.venv/bin/python" "$BENCH_PEERS/python/grpc_check.py" "127.0.0.1:${port_of[$1]}" >/dev/null ;;
        rest) "$BENCH_PEERS/.venv/bin/python" "$BENCH_PEERS/python/rest_check.py" "http://127.0.0.1:${port_of[$1]}" >/dev/null ;;
        rest-static) "$BENCH_PEERS/.venv/bin/python" "$BENCH_PEERS/python/rest_check.py" "http://127.0.0.1:${port_of[$1]}" --static >/dev/null ;;
        h2static) curl -sSf --http2-prior-knowledge -o /dev/null "http://127.0.0.1:${port_of[$1]}/api/sessions/sess_00042" ;;
    esac
}
for name in "${peers[@]}"; do
    # Twice at most, a second apart: a peer may accept connections a moment before it answers
    # (nghttpd, started last beside two others on one core, failed this check now and then).
    check_peer "$name" 2>"$work/$name.check" || { sleep 1; check_peer "$name" 2>"$work/$name.check"; } || {
        cat "$work/$name.check" >&2
        peer_failed "$name" "failed its check (above)"
    }
done

# --- targets: NAME KIND(grpc|h2|h1) PID URL [h2load/wrk args] ---------------------------------
auth="authorization: Bearer $token"
targets=("sessiond-grpc" "sessiond-connect-h2" "sessiond-connect-h1" "sessiond-rest-h2" "sessiond-rest-h1")
declare -A load_of pid_for
load_of[sessiond-grpc]="grpc http://127.0.0.1:$port/sessions.v1.SessionService/GetSession $work/req.bin"
# Connect unary GetSession: POST application/proto over h2 (the message without gRPC's frame),
# and Connect GET over HTTP/1.1 (the message base64url in the query).
tail -c +6 "$work/req.bin" >"$work/connect-req.bin"
connect_message=$(base64 -w0 "$work/connect-req.bin" | tr '+/' '-_' | tr -d '=')
load_of[sessiond-connect-h2]="connect http://127.0.0.1:$port/sessions.v1.SessionService/GetSession $work/connect-req.bin"
load_of[sessiond-connect-h1]="h1 http://127.0.0.1:$port/sessions.v1.SessionService/GetSession?encoding=proto&base64=1&message=$connect_message"
load_of[sessiond-rest-h2]="h2 http://127.0.0.1:$port/api/sessions/$session"
load_of[sessiond-rest-h1]="h1 http://127.0.0.1:$port/api/sessions/$session"
for target in "${targets[@]}"; do pid_for[$target]=${pid_of[sessiond]}; done
for name in "${peers[@]}"; do
    hp="127.0.0.1:${port_of[$name]}"
    case ${kind_of[$name]} in
        grpc) load_of[$name]="grpc http://$hp/sessions.v1.SessionService/GetSession $work/peer-req.bin" ;;
        h2static) load_of[$name]="h2 http://$hp/api/sessions/sess_00042" ;;
        rest | rest-static) load_of[$name]="h1 http://$hp/api/sessions/sess_00042" ;;
    esac
    pid_for[$name]=${pid_of[$name]}
    targets+=("$name")
done

tree_ticks() { # utime+stime of a process and its children, all threads
    local total=0 p
    for p in "$1" $(pgrep -P "$1" || true); do
        total=$((total + $(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12+$13}')))
    done
    echo "$total"
}
tree_hwm() { local total=0 p; for p in "$1" $(pgrep -P "$1" || true); do total=$((total + $(awk '/VmHWM/ {print $2}' "/proc/$p/status"))); done; echo "$total"; }

# run_load TARGET SECONDS OUT -> "rps p50ms p99ms errors cpu_us_per_request"
run_load() {
    local target=$1 seconds=$2 out=$3 kind url req before after
    read -r kind url req <<<"${load_of[$target]}"
    local headers=()
    [[ $target == sessiond-* ]] && headers=(-H "$auth")
    before=$(tree_ticks "${pid_for[$target]}")
    case $kind in
        grpc) taskset -c "$CLIENT_CPUS" h2load -D "$seconds" -c "$H2_CONNS" -m "$H2_STREAMS" -t 1 --log-file="$out.log" \
                  -d "$req" -H 'content-type: application/grpc' -H 'te: trailers' "${headers[@]}" "$url" >"$out" 2>&1 ;;
        h2) taskset -c "$CLIENT_CPUS" h2load -D "$seconds" -c "$H2_CONNS" -m "$H2_STREAMS" -t 1 --log-file="$out.log" \
                "${headers[@]}" "$url" >"$out" 2>&1 ;;
        connect) taskset -c "$CLIENT_CPUS" h2load -D "$seconds" -c "$H2_CONNS" -m "$H2_STREAMS" -t 1 --log-file="$out.log" \
                  -d "$req" -H 'content-type: application/proto' -H 'connect-protocol-version: 1' "${headers[@]}" "$url" \
                  >"$out" 2>&1 ;;
        h1) taskset -c "$CLIENT_CPUS" wrk -t1 -c"$WRK_CONNS" -d"${seconds}s" --latency "${headers[@]}" "$url" >"$out" 2>&1 ;;
    esac
    after=$(tree_ticks "${pid_for[$target]}")
    local hz; hz=$(getconf CLK_TCK)
    if [[ $kind == h1 ]]; then
        awk -v t="$((after - before))" -v hz="$hz" '
            function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
            /requests in/ {n=$1} /^Requests\/sec:/ {rps=$2} /^ +50%/ {p50=ms($2)} /^ +99%/ {p99=ms($2)}
            /Non-2xx or 3xx responses:/ {err+=$NF}
            END {printf "%.0f %.2f %.2f %d %.2f\n", rps, p50, p99, err, n ? 1e6*t/hz/n : 0}' "$out"
    else
        local pct; pct=$(cut -f3 "$out.log" | sort -n | awk '{a[NR]=$1} END {printf "%.2f %.2f", a[int(NR*0.5)]/1000, a[int(NR*0.99)]/1000}')
        awk -v t="$((after - before))" -v hz="$hz" -v pct="$pct" '
            /^finished in/ {gsub(",","",$4); rps=$4} /^requests:/ {n=$8; err=$10+$12+$14} /^status codes:/ {err+=$7+$9+$11}
            END {split(pct, p, " "); printf "%.0f %s %s %d %.2f\n", rps, p[1], p[2], err, n ? 1e6*t/hz/n : 0}' "$out"
        rm -f "$out.log"
    fi
}

echo "== warm-up (${WARMUP} s each)"
for target in "${targets[@]}"; do run_load "$target" "$WARMUP" "$work/warmup" >/dev/null; done
for round in $(seq 1 "$RUNS"); do
    echo "== round $round of $RUNS"
    for target in "${targets[@]}"; do
        run_load "$target" "$DURATION" "$work/$target.$round" >"$work/$target.$round.parsed"
        echo "  $target: $(cat "$work/$target.$round.parsed")"
    done
done

# --- table, ratios, chart -----------------------------------------------------------------------
mkdir -p tools/bench/results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
result=tools/bench/results/compare-$stamp.txt
{
    echo "# tools/bench/compare.sh, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, server on CPU $SERVER_CPUS, load on CPU $CLIENT_CPUS"
    echo "# gRPC/h2: h2load -D $DURATION -c $H2_CONNS -m $H2_STREAMS -t 1; HTTP/1.1: wrk -t1 -c$WRK_CONNS -d${DURATION}s; median of $RUNS rounds"
    printf '%-18s %-5s %10s %10s %10s %8s %8s %9s %9s %7s\n' target load "req/s med" min max "p50 ms" "p99 ms" "us/req" "peak RSS" errors
    for target in "${targets[@]}"; do
        read -r kind _ <<<"${load_of[$target]}"
        sort -n "$work/$target".*.parsed | awk -v runs="$RUNS" -v t="$target" -v k="$kind" -v hwm="$(tree_hwm "${pid_for[$target]}")" '
            {rps[NR]=$1; line[NR]=$0} END {
                m=int((NR+1)/2); split(line[m], f, " ");
                printf "%-18s %-5s %10.0f %10.0f %10.0f %8.2f %8.2f %9.2f %7.0fMiB %7d\n", t, k, f[1], rps[1], rps[NR], f[2], f[3], f[5], hwm/1024, f[4] }'
    done
} | tee "$result"
.venv/bin/python tools/bench/report.py "$result"
echo "sessiond RSS peak includes all five of its loads; written: $result and ${result%.txt}.png"
