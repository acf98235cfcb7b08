# Sourced by the benchmark scripts.
#   bin=$(release_build PRODUCT)
# builds one product for release the way every benchmark (and tools/crash-loop) does, so they
# share one build (a different flag set recompiles everything): with the PostgreSQL trait, as
# instances.sh needs it, and the Swift runtime linked statically, as tools/run links it (README,
# "Performance"); prints the product's path. A failed build prints its output and fails, so the
# assignment stops the caller (set -e) instead of measuring an older binary.
release_build() {
    local log
    log=$(mktemp)
    if ! swift build -c release --traits PostgreSQL --static-swift-stdlib --product "$1" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
    echo "$(swift build -c release --show-bin-path)/$1"
}

#   build_sessiond
# installs what the benchmarks need (tools/setup.sh --test), builds sessiond for release and sets
# `bin` to it.
build_sessiond() {
    ./tools/setup.sh --test >/dev/null
    bin=$(release_build sessiond)
}

# Starts sessiond as users run it (`serve --port 0 --data-dir`) and waits until it listens.
#   start_sessiond BIN WORK [CPUS [VAR=value...]]
# runs BIN pinned to CPUS (if given), with the VAR=value environment for the server only, data in
# WORK/data; sets `server` (its PID), `port`, and `token` (a JWT for the `service` role).
start_sessiond() {
    local bin=$1 work=$2 cpus=${3:-}
    shift $(($# < 3 ? $# : 3))
    local launch=(env "$@" "$bin" serve --port 0 --data-dir "$work/data")
    [[ -n $cpus ]] && launch=(taskset -c "$cpus" "${launch[@]}")
    "${launch[@]}" >"$work/sessiond.out" 2>"$work/sessiond.err" &
    server=$!
    for _ in $(seq 1 100); do grep -q listening "$work/sessiond.out" 2>/dev/null && break; sleep 0.1; done
    port=$(sed -n 's/listening on .*:\([0-9]*\)/\1/p' "$work/sessiond.out")
    [[ -n $port ]] || { echo "sessiond did not start: $(cat "$work/sessiond.err")" >&2; return 1; }
    token=$("$bin" token --sub bench --role service --org bench --data-dir "$work/data")
}

#   run_sessiond [CPUS]
# build_sessiond, then start_sessiond in a fresh temporary directory (`work`); the server is
# stopped and the directory removed when the script exits.
run_sessiond() {
    build_sessiond
    work=$(mktemp -d)
    trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"' EXIT
    start_sessiond "$bin" "$work" "${1:-}"
}

# One of the standard loads against a sessiond seeded by seed.py (compare.sh's method: h2load
# -c8 -m32 for gRPC, Connect and REST over h2, wrk -c64 for HTTP/1.1, a service JWT on every
# request), for SECONDS from CPU CPUS (default 1); prints the tool's own output.
#   sessiond_load grpc|rest-h2|rest-h1|connect-h2|connect-h1 SECONDS PORT TOKEN SESSION REQ [CPUS]
# REQ is seed.py's --req file (a framed GetSession request for SESSION).
sessiond_load() {
    local kind=$1 seconds=$2 port=$3 token=$4 session=$5 req=$6 cpus=${7:-1}
    local auth="authorization: Bearer $token" base="http://127.0.0.1:$port"
    local limit=$((seconds + 60)) message
    case $kind in
        grpc) timeout "$limit" taskset -c "$cpus" h2load -D "$seconds" -c 8 -m 32 -t 1 -d "$req" \
                  -H 'content-type: application/grpc' -H 'te: trailers' -H "$auth" "$base/sessions.v1.SessionService/GetSession" ;;
        rest-h2) timeout "$limit" taskset -c "$cpus" h2load -D "$seconds" -c 8 -m 32 -t 1 -H "$auth" "$base/api/sessions/$session" ;;
        rest-h1) timeout "$limit" taskset -c "$cpus" wrk -t1 -c64 -d"${seconds}s" -H "$auth" "$base/api/sessions/$session" ;;
        connect-h2) tail -c +6 "$req" >"$req.connect"  # the message without gRPC's 5-byte prefix
            timeout "$limit" taskset -c "$cpus" h2load -D "$seconds" -c 8 -m 32 -t 1 -d "$req.connect" \
                -H 'content-type: application/proto' -H 'connect-protocol-version: 1' -H "$auth" \
                "$base/sessions.v1.SessionService/GetSession" ;;
        connect-h1) message=$(tail -c +6 "$req" | base64 -w0 | tr '+/' '-_' | tr -d '=')
            timeout "$limit" taskset -c "$cpus" wrk -t1 -c64 -d"${seconds}s" -H "$auth" \
                "$base/sessions.v1.SessionService/GetSession?encoding=proto&base64=1&message=$message" ;;
        *) echo "unknown load $kind" >&2; return 2 ;;
    esac
}

# Reads sessiond_load's output and prints how many requests succeeded (h2load's successes, 2xx
# for REST and Connect over h2; wrk's count, or 0 when wrk saw any non-2xx answer).
#   sessiond_load KIND … | load_succeeded KIND
load_succeeded() {
    case $1 in
        grpc) awk '/^requests:/ {print $8}' ;;
        rest-h2 | connect-h2) awk '/^status codes:/ {gsub(",", "", $3); print $3}' ;;
        *) awk '/requests in/ {n=$1} /Non-2xx/ {n=0} END {print n}' ;;
    esac
}

# CPU time (user + system, all threads) a process has used, in clock ticks (getconf CLK_TCK).
cpu_ticks() {
    awk '{print $14 + $15}' "/proc/$1/stat"
}
