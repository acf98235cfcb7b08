#!/usr/bin/env bash
# Whether a fresh client is still served promptly while many connections pipeline REST requests
# as fast as the server takes them and never read (tools/bench/fairness.py): the release server
# on CPU 0 (one event loop), the clients on CPU 1, --max-connections 2000 (200 per client
# address). With two binaries, each round runs both, one after the other, alternating first.
#   tools/bench/fairness.sh [BIN_A [BIN_B]]      (CONNECTIONS=150 DURATION=8 ROUNDS=2)
set -euo pipefail
bins=()
for given in "$@"; do bins+=("$(realpath "$given")"); done
cd "$(dirname "$0")/../.."
source tools/bench/sessiond.sh
CONNECTIONS=${CONNECTIONS:-150}
DURATION=${DURATION:-8}
ROUNDS=${ROUNDS:-2}
if [[ ${#bins[@]} == 0 ]]; then
    build_sessiond
    bins=("$bin")
else
    ./tools/setup.sh --test >/dev/null
fi
work=
trap 'if [[ -n ${server:-} ]]; then kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; fi; [[ -z $work ]] || rm -rf "$work"' EXIT
echo "command: tools/bench/fairness.sh (CONNECTIONS=$CONNECTIONS DURATION=$DURATION), $(date -u '+%Y-%m-%d %H:%M UTC')"
status=0
for round in $(seq 1 "$ROUNDS"); do
    order=("${bins[@]}")
    if ((round % 2 == 0 && ${#bins[@]} == 2)); then order=("${bins[1]}" "${bins[0]}"); fi
    for server_bin in "${order[@]}"; do
        echo "== round $round: $server_bin"
        work=$(mktemp -d)
        start_sessiond "$server_bin" "$work" 0 SESSIOND_MAX_CONNECTIONS=2000
        taskset -c 1 timeout $((DURATION * 3 + 60)) .venv/bin/python tools/bench/fairness.py --port "$port" --pid "$server" \
            --secret-file "$work/data/jwt-secret" --connections "$CONNECTIONS" --seconds "$DURATION" || status=1
        kill "$server" 2>/dev/null || { echo "the server had stopped"; status=1; }
        wait "$server" 2>/dev/null || true
        server=
        rm -rf "$work"
        work=
    done
done
exit $status
