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
source tools/bench/sessiond.sh
bin=$(release_build store-bench)
echo "== SQLite ($(date -u +%FT%TZ))"
"$bin" --rows "$ROWS" --creates "$CREATES" --callers "$CALLERS"

source tools/postgres.sh
echo "== PostgreSQL $POSTGRES_VERSION (synchronous_commit on, fsync on)"
"$bin" --database-url "$POSTGRES_URL" --rows "$ROWS" --creates "$CREATES" --callers "$CALLERS"
