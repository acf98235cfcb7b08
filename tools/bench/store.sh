#!/usr/bin/env bash
# Store benchmark: durable creates/s (64 concurrent callers vs one at a time) and get-by-id latency
# at ROWS sessions, for SQLite and for a throwaway PostgreSQL 15 started here.
#   tools/bench/store.sh          (ROWS=1000000 CREATES=20000 CALLERS=64)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${ROWS:-1000000}
CREATES=${CREATES:-20000}
CALLERS=${CALLERS:-64}
./tools/setup.sh --test >/dev/null
swift build -c release --product store-bench >/dev/null
bin=$(swift build -c release --show-bin-path)/store-bench
echo "== SQLite ($(date -u +%FT%TZ))"
"$bin" --rows "$ROWS" --creates "$CREATES" --callers "$CALLERS"

pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
pg_dir=$(mktemp -d)
as_pg=()
if [[ $(id -u) -eq 0 ]]; then chown postgres "$pg_dir"; as_pg=(runuser -u postgres --); fi
pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${as_pg[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U postgres >/dev/null
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1" start >/dev/null
trap '"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null; rm -rf "$pg_dir"' EXIT
echo "== PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') (synchronous_commit on, fsync on)"
"$bin" --database-url "postgres://postgres@127.0.0.1:$pg_port/postgres" --rows "$ROWS" --creates "$CREATES" --callers "$CALLERS"
