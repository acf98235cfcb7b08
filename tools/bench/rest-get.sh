#!/usr/bin/env bash
# REST GET /api/sessions/{id} through the real gateway path (release sessiond, SQLite, a service
# JWT on every request), with a static-file ceiling measured in the same run: nginx serving the
# very bytes sessiond returned. HTTP/1.1 with wrk (-t1 -c64), HTTP/2 with h2load (-c8 -m32).
#   tools/bench/rest-get.sh        (DURATION=10 SERVER_CPUS=0 CLIENT_CPUS=1 RUNS=3)
# Prints req/s (median of RUNS), latency, server CPU per request and peak RSS, and the ratios.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/bench/sessiond.sh
DURATION=${DURATION:-10}
SERVER_CPUS=${SERVER_CPUS:-0}
CLIENT_CPUS=${CLIENT_CPUS:-1}
RUNS=${RUNS:-3}

./tools/setup.sh --test >/dev/null
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || missing+=(nginx-light)
if ((${#missing[@]})); then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
build_sessiond
work=$(mktemp -d)
chmod 755 "$work"  # nginx workers (www-data) read the static copy from here
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$work"' EXIT

start_sessiond "$bin" "$work" "$SERVER_CPUS"
pids+=("$server")
# Seed through the API itself: 10,000 sessions, then read one of them.
.venv/bin/python - "$port" "$token" <<'PY'
import concurrent.futures, sys, requests
port, token = sys.argv[1], sys.argv[2]
session = requests.Session()
def create(i):
    r = session.post(f"http://127.0.0.1:{port}/api/sessions", json={"jobId": f"job-{i % 100}", "testerId": f"tester-{i}"},
                     headers={"Authorization": f"Bearer {token}"})
    r.raise_for_status()
with concurrent.futures.ThreadPoolExecutor(16) as pool:
    list(pool.map(create, range(10000)))
PY
id=$(curl -s "http://127.0.0.1:$port/api/sessions?jobId=job-42&limit=1" -H "Authorization: Bearer $token" \
    | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["sessionId"])')
url="http://127.0.0.1:$port/api/sessions/$id"
status=$(curl -s -o "$work/body.json" -w '%{http_code}' "$url")
[[ $status == 401 ]] || { echo "expected 401 without a token, got $status" >&2; exit 1; }
curl -fsS -o "$work/body.json" "$url" -H "Authorization: Bearer $token"
echo "body: $(wc -c <"$work/body.json") bytes"

# The ceiling: nginx, one worker, the same bytes at the same path.
mkdir -p "$work/htdocs/api/sessions" "$work/nginx"
cp "$work/body.json" "$work/htdocs/api/sessions/$id"
nginx_port=$((port + 1))
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $work/nginx/pid; error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http { access_log off; sendfile on; keepalive_requests 10000000; keepalive_timeout 75s;
  client_body_temp_path $work/nginx/b; proxy_temp_path $work/nginx/p; fastcgi_temp_path $work/nginx/f;
  uwsgi_temp_path $work/nginx/u; scgi_temp_path $work/nginx/s;
  server { listen 127.0.0.1:$nginx_port; root $work/htdocs; location /api/sessions/ { default_type application/json; } } }
CONF
taskset -c "$SERVER_CPUS" nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" &
nginx_pid=$!
pids+=("$nginx_pid")
sleep 0.5

ticks() { local t=0; for p in "$@"; do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo "$t"; }
children() { echo "$1" $(pgrep -P "$1" || true); }
hz=$(getconf CLK_TCK)

# wrk_run NAME URL PIDS...: RUNS timed runs; prints the median run's numbers.
wrk_run() {
    local name=$1 target=$2; shift 2
    local auth=()
    [[ $name == sessiond* ]] && auth=(-H "Authorization: Bearer $token")
    taskset -c "$CLIENT_CPUS" wrk -t1 -c64 -d2s "${auth[@]}" "$target" >/dev/null
    for run in $(seq 1 "$RUNS"); do
        local before; before=$(ticks "$@")
        taskset -c "$CLIENT_CPUS" wrk -t1 -c64 -d"${DURATION}s" --latency "${auth[@]}" "$target" >"$work/wrk-$name-$run"
        local after; after=$(ticks "$@")
        local rps; rps=$(awk '/^Requests\/sec/ {print $2}' "$work/wrk-$name-$run")
        local total; total=$(awk '/requests in/ {print $1}' "$work/wrk-$name-$run")
        local p50; p50=$(awk '$1=="50%" {print $2}' "$work/wrk-$name-$run")
        local p99; p99=$(awk '$1=="99%" {print $2}' "$work/wrk-$name-$run")
        local non2xx; non2xx=$(awk '/Non-2xx/ {print $5}' "$work/wrk-$name-$run")
        awk -v t="$((after - before))" -v hz="$hz" -v n="$total" -v r="$rps" -v a="$p50" -v b="$p99" -v e="${non2xx:-0}" \
            'BEGIN { printf "%s %.0f %s %s %.2f %s\n", r, r, a, b, 1e6 * t / hz / n, e }'
    done | sort -n | awk -v runs="$RUNS" 'NR == int((runs + 1) / 2)' >"$work/median-$name"
    read -r rps _ p50 p99 cpu errors <"$work/median-$name"
    printf '%-22s %10.0f req/s  p50 %-8s p99 %-8s  %6s us CPU/req  non-2xx %s\n' "$name" "$rps" "$p50" "$p99" "$cpu" "$errors"
}

echo "== HTTP/1.1: wrk -t1 -c64 -d${DURATION}s, median of $RUNS (server on CPU $SERVER_CPUS, load on CPU $CLIENT_CPUS)"
wrk_run sessiond "$url" "$server"
wrk_run nginx-static "http://127.0.0.1:$nginx_port/api/sessions/$id" $(children "$nginx_pid")
wrk_run sessiond-again "$url" "$server"
echo "== HTTP/2 (h2c): h2load -c8 -m32 -t1 -D ${DURATION}"
taskset -c "$CLIENT_CPUS" h2load -D 2 -c8 -m32 -t1 -H "authorization: Bearer $token" "$url" >/dev/null
before=$(ticks "$server")
taskset -c "$CLIENT_CPUS" h2load -D "$DURATION" -c8 -m32 -t1 -H "authorization: Bearer $token" "$url" >"$work/h2load"
after=$(ticks "$server")
grep -E "^finished in|^requests:|^status codes:" "$work/h2load"
calls=$(awk '/^requests:/ {print $8}' "$work/h2load")
awk -v t="$((after - before))" -v hz="$hz" -v n="$calls" 'BEGIN { printf "server CPU per request (h2): %.2f us\n", 1e6 * t / hz / n }'
echo "sessiond peak RSS: $(awk '/VmHWM/ {print $2, $3}' "/proc/$server/status")"
a=$(awk '{print $1}' "$work/median-sessiond"); b=$(awk '{print $1}' "$work/median-nginx-static"); c=$(awk '{print $1}' "$work/median-sessiond-again")
awk -v a="$a" -v b="$b" -v c="$c" 'BEGIN { printf "ratio sessiond / nginx static (HTTP/1.1): %.2f (second sessiond pass: %.2f)\n", a / b, c / b }'
