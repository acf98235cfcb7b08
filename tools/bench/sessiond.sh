# Sourced by the benchmark scripts.
#   build_sessiond
# installs what the benchmarks need (tools/setup.sh --test), builds sessiond for release (with the
# PostgreSQL trait) and sets
# `bin` to it.
build_sessiond() {
    ./tools/setup.sh --test >/dev/null
    # With the PostgreSQL trait, as instances.sh needs it: one release build serves every benchmark.
    swift build -c release --traits PostgreSQL --product sessiond >/dev/null
    bin=$(swift build -c release --show-bin-path)/sessiond
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
