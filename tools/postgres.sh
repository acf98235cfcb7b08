#!/usr/bin/env bash
# Sourced by tools/test and tools/bench/store.sh: starts a throwaway PostgreSQL (Debian's
# package) in a temporary directory on a free loopback port, as the postgres user when root,
# sets POSTGRES_URL, and stops it when the calling script exits.
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
pg_dir=$(mktemp -d)
as_pg=()
if [[ $(id -u) -eq 0 ]]; then
    chown postgres "$pg_dir"
    as_pg=(runuser -u postgres --)
fi
pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${as_pg[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U postgres >"$pg_dir/initdb.log"
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w \
    -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null
stop_postgres() { "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1; rm -rf "$pg_dir"; }
trap stop_postgres EXIT
POSTGRES_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
POSTGRES_VERSION=$("$pg_bin/postgres" --version | awk '{print $3}')
