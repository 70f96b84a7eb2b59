#!/usr/bin/env bash
# Performance of certapi beside the raw floor of its own stack, on loopback:
# builds certapi and certload, bulk-loads a dataset, starts certapi and the floor
# (net/http + database/sql) on the same database, then measures each scenario at
# each connection count, alternating the two, and prints a table of ratios.
#
#   scripts/perf.sh                                  # embedded SQLite, 10k candidates
#   DB=mysql scripts/perf.sh                         # MariaDB/MySQL (PERF_MYSQL_DSN)
#   CANDIDATES=1000000 DURATION=20s scripts/perf.sh  # the large dataset
#   SCENARIOS=get,list CONNECTIONS=16 scripts/perf.sh
#   KEEP=/var/tmp/perf-1m CANDIDATES=1000000 scripts/perf.sh   # keep the dataset, reuse it next time
#   FLOOR_PREPARE=1 scripts/perf.sh                  # a floor that keeps its statements prepared
#   ROUNDS=3 scripts/perf.sh                         # each pair of runs three times, in alternating order;
#                                                    # each row is the round of median ratio
#   SERVICE_GOGC=100 SERVICE_GOMEMLIMIT=off scripts/perf.sh   # certapi's collector (its defaults: 400, 36MiB)
#
# MySQL: PERF_MYSQL_DSN names a server account that may create and drop the
# database PERF_MYSQL_DB (default certapi_test_perf). Long runs stay out of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${DB:-sqlite}
CANDIDATES=${CANDIDATES:-10000}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-1,16,64}
SCENARIOS=${SCENARIOS:-}
ROUNDS=${ROUNDS:-1}
PORT=${PORT:-18090}
FLOOR_PORT=${FLOOR_PORT:-18091}
PERF_MYSQL_DSN=${PERF_MYSQL_DSN:-certapi_test:certapi_test@tcp(127.0.0.1:3306)/}
PERF_MYSQL_DB=${PERF_MYSQL_DB:-certapi_test_perf}
KEEP=${KEEP:-} # a directory to keep the SQLite dataset in, and reuse when present

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# CERTAPI_BIN and CERTLOAD_BIN measure binaries built elsewhere (another revision).
if [ -n "${CERTAPI_BIN:-}" ]; then cp "$CERTAPI_BIN" "$work/certapi"; else CGO_ENABLED=0 go build -o "$work/certapi" ./cmd/certapi; fi
if [ -n "${CERTLOAD_BIN:-}" ]; then cp "$CERTLOAD_BIN" "$work/certload"; else CGO_ENABLED=0 go build -o "$work/certload" ./cmd/certload; fi

data=${KEEP:-$work/data}
export CERTAPI_DATA_DIR=$data
reuse=
case $DB in
  sqlite)
    export CERTAPI_DATABASE_URL=
    [ -n "$KEEP" ] && [ -f "$data/certapi.db" ] && reuse=1
    ;;
  mysql)
    user=${PERF_MYSQL_DSN%%:*}; rest=${PERF_MYSQL_DSN#*:}; pass=${rest%%@*}
    hostport=$(sed -E 's/.*tcp\(([^)]*)\).*/\1/' <<<"$PERF_MYSQL_DSN")
    sqlc=(mariadb -u"$user" -p"$pass" -h"${hostport%:*}" -P"${hostport#*:}")
    command -v mariadb >/dev/null || sqlc[0]=mysql
    if [ -n "$KEEP" ] && "${sqlc[@]}" -e "SELECT 1 FROM $PERF_MYSQL_DB.candidates LIMIT 1" >/dev/null 2>&1; then
      reuse=1
    else
      "${sqlc[@]}" -e "DROP DATABASE IF EXISTS $PERF_MYSQL_DB; CREATE DATABASE $PERF_MYSQL_DB CHARACTER SET utf8mb4"
    fi
    export CERTAPI_DATABASE_URL="${PERF_MYSQL_DSN%/*}/$PERF_MYSQL_DB"
    ;;
  *) echo "perf: DB is sqlite or mysql" >&2; exit 2 ;;
esac

if [ -z "$reuse" ]; then
  "$work/certload" seed --candidates "$CANDIDATES"
fi

# The general limit per caller stays on (its cost is part of what is measured), high
# enough that one caller measuring does not meet it.
CERTAPI_ADDR=127.0.0.1:$PORT CERTAPI_LOG_LEVEL=error CERTAPI_MIGRATE=true CERTAPI_RATE_LIMIT=1000000000 \
  CERTAPI_JWT_KEY=${CERTAPI_JWT_KEY:-perf-measurement-key-perf-measurement-key} \
  CERTAPI_BOOTSTRAP_ADMIN_EMAIL=perf@example.org CERTAPI_BOOTSTRAP_ADMIN_PASSWORD=measure-the-stack-2026 \
  CERTAPI_TOKEN_TTL=2h env ${SERVICE_GOGC:+GOGC=$SERVICE_GOGC} ${SERVICE_GOMEMLIMIT:+GOMEMLIMIT=$SERVICE_GOMEMLIMIT} \
  "$work/certapi" serve 2>"$work/certapi.log" &
pids+=($!); api=$!
floor_flags=()
[ -n "${FLOOR_PREPARE:-}" ] && floor_flags+=(--prepare)
"$work/certload" floor --addr 127.0.0.1:$FLOOR_PORT "${floor_flags[@]}" 2>"$work/floor.log" &
pids+=($!); floor=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
sleep 0.5
# Each side must be the process started here, not another one left on its port.
kill -0 "$api" 2>/dev/null || { echo "perf: certapi did not start:" >&2; cat "$work/certapi.log" >&2; exit 1; }
kill -0 "$floor" 2>/dev/null || { echo "perf: the floor did not start:" >&2; cat "$work/floor.log" >&2; exit 1; }
idle=$(ps -o rss= -p "$api" | awk '{printf "%.1f", $1/1024}')

echo "## $DB, $(nproc) CPU, $CANDIDATES candidates, $DURATION per side and count, $ROUNDS round(s)${FLOOR_PREPARE:+, floor with prepared statements}"
echo
# The database server's CPU per request is reported when it runs on this machine.
server_pid=
[ "$DB" = mysql ] && server_pid=$(pgrep -xo mariadbd || pgrep -xo mysqld || true)
"$work/certload" run --target "http://127.0.0.1:$PORT" --floor "http://127.0.0.1:$FLOOR_PORT" \
  --target-pid "$api" --floor-pid "$floor" --server-pid "${server_pid:-0}" \
  --email perf@example.org --password measure-the-stack-2026 \
  --connections "$CONNECTIONS" --duration "$DURATION" --scenarios "$SCENARIOS" --rounds "$ROUNDS"
echo
echo "certapi resident memory: idle $idle MiB, after the run $(ps -o rss= -p "$api" | awk '{printf "%.1f", $1/1024}') MiB"
