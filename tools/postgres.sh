#!/usr/bin/env bash
# Sourced by tools/test and tools/bench/store.sh: starts a throwaway PostgreSQL (Debian's
# package) in a temporary directory on a free loopback port, as the postgres user when root,
# with TLS on (a throwaway CA and a server certificate for 127.0.0.1 and localhost), sets
# POSTGRES_URL and POSTGRES_CA (the CA's PEM file), and stops it when the calling script exits.
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
pg_dir=$(mktemp -d)
as_pg=()
if [[ $(id -u) -eq 0 ]]; then
    chown postgres "$pg_dir"
    as_pg=(runuser -u postgres --)
fi
# TLS: a CA, and a server certificate it signed; PostgreSQL wants the key private to its owner.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$pg_dir/ca.key" -out "$pg_dir/ca.pem" -days 2 \
    -subj "/CN=sessiond test PostgreSQL CA" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -keyout "$pg_dir/server.key" -out "$pg_dir/server.csr" -subj "/CN=127.0.0.1" \
    >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$pg_dir/san.ext"
openssl x509 -req -in "$pg_dir/server.csr" -CA "$pg_dir/ca.pem" -CAkey "$pg_dir/ca.key" -CAcreateserial \
    -out "$pg_dir/server.pem" -days 2 -extfile "$pg_dir/san.ext" >/dev/null 2>&1
chmod 600 "$pg_dir/server.key"
chmod 644 "$pg_dir/ca.pem"
[[ $(id -u) -eq 0 ]] && chown postgres "$pg_dir/server.key" "$pg_dir/server.pem"
pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${as_pg[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U postgres >"$pg_dir/initdb.log"
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w \
    -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c ssl=on \
        -c ssl_cert_file=$pg_dir/server.pem -c ssl_key_file=$pg_dir/server.key" start >/dev/null
stop_postgres() { "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1; rm -rf "$pg_dir"; }
trap stop_postgres EXIT
POSTGRES_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
POSTGRES_CA="$pg_dir/ca.pem"
POSTGRES_VERSION=$("$pg_bin/postgres" --version | awk '{print $3}')
