#!/usr/bin/env bash
# Fault injection on loopback: builds certapi and the load client cmd/certfaults,
# then, under a write load, (1) stops MariaDB the way an operator would and starts
# it again, (2) kills the service with SIGKILL and restarts it on the same data,
# on SQLite and on MariaDB, (3) stops it with SIGTERM, on both. certfaults prints
# the counts and one PASS/FAIL line per bar; this script exits non-zero if any bar
# fails. docs/faults.md describes the bars and shows a run.
#
# The MariaDB scenarios need a local MariaDB that root can shut down over its
# socket (so, run as root) and an account allowed on databases named
# certapi_test_* (the one .ci/run creates); the database certapi_test_faults is
# created fresh and dropped at the end. The SQLite scenarios need neither. MariaDB is stopped for about DOWN_FOR during the run: anything else using
# it meanwhile sees the outage too. Whatever happens, MariaDB is running again
# when the script exits.
#
#   scripts/faults.sh                       # every scenario, about two minutes
#   SCENARIOS="kill-sqlite term-sqlite" scripts/faults.sh
#   WORKERS=16 DOWN_FOR=10s scripts/faults.sh
#   KEEP_LOGS=1 scripts/faults.sh           # keep the service's logs (kept anyway on failure)
#
# Scenarios: outage kill-sqlite kill-mariadb term-sqlite term-mariadb, whose load
# declares training sites; and outage-registrations, kill-mariadb-registrations,
# term-mariadb-registrations, whose load registers candidates, the writes that
# commit together on MySQL.
set -euo pipefail
cd "$(dirname "$0")/.."

SCENARIOS=${SCENARIOS:-outage kill-sqlite kill-mariadb term-sqlite term-mariadb outage-registrations kill-mariadb-registrations term-mariadb-registrations}
WORKERS=${WORKERS:-8}
DOWN_FOR=${DOWN_FOR:-5s}
# The service's request deadline (and HTTP write timeout) and its drain time on
# SIGTERM. An Idempotency-Key recorded by a write whose answer a dead process never
# added is in progress for the deadline plus 30 s: the kill scenarios wait that long.
WRITE_TIMEOUT=${WRITE_TIMEOUT:-5s}
SHUTDOWN_TIMEOUT=${SHUTDOWN_TIMEOUT:-10s}
MYSQL_HOST=${MYSQL_HOST:-127.0.0.1}
MYSQL_PORT=${MYSQL_PORT:-3306}
MYSQL_USER=${MYSQL_USER:-certapi_test}
MYSQL_PASSWORD=${MYSQL_PASSWORD:-certapi_test}
MYSQL_DB=certapi_test_faults

KEEP_LOGS=${KEEP_LOGS:-}

# The service reads only what each scenario sets below.
while read -r v; do unset "$v"; done < <(compgen -e | grep '^CERTAPI_' || true)

mariadb=
[[ " $SCENARIOS " =~ (outage|-mariadb) ]] && mariadb=1
if [[ -n $mariadb ]]; then
  [[ $(id -u) -eq 0 ]] || { echo "faults: run as root: MariaDB is shut down and started again over its root socket" >&2; exit 1; }
  client=$(command -v mariadb || command -v mysql || true)
  admin=$(command -v mariadb-admin || command -v mysqladmin || true)
  server=$(command -v mariadbd || command -v mysqld || ls /usr/sbin/mariadbd /usr/sbin/mysqld 2>/dev/null | head -n1 || true)
  for need in client admin server; do
    [[ -n ${!need} ]] || { echo "faults: no MariaDB $need found (apt-get install mariadb-server mariadb-client)" >&2; exit 1; }
  done
  # How an operator stops and starts the server: an orderly shutdown over the root
  # socket, and the server started again in the background as the mysql user.
  MARIADB_STOP=${MARIADB_STOP:-"$admin -uroot shutdown"}
  MARIADB_START=${MARIADB_START:-"start-stop-daemon --start --oknodo --background --exec $server -- --user=mysql"}
fi

mariadb_up() { "$admin" -uroot --connect-timeout=2 ping >/dev/null 2>&1; }
ensure_mariadb() {
  mariadb_up && return 0
  echo "faults: starting MariaDB" >&2
  sh -c "$MARIADB_START" || true
  for _ in $(seq 120); do mariadb_up && return 0; sleep 0.5; done
  echo "faults: MariaDB does not answer" >&2
  return 1
}
sql() { "$client" -h"$MYSQL_HOST" -P"$MYSQL_PORT" -u"$MYSQL_USER" -p"$MYSQL_PASSWORD" -e "$1"; }

work=$(mktemp -d)
status=1
cleanup() {
  # MariaDB runs again whatever happened (the outage may have been cut short),
  # then the scenarios' database goes. The logs stay when something failed.
  if [[ -n $mariadb ]]; then
    ensure_mariadb && sql "DROP DATABASE IF EXISTS $MYSQL_DB" || true
  fi
  if [[ $status -eq 0 && -z $KEEP_LOGS ]]; then rm -rf "$work"; else echo "faults: the service's logs are in $work" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -n $mariadb ]]; then
  ensure_mariadb
  sql "DROP DATABASE IF EXISTS $MYSQL_DB; CREATE DATABASE $MYSQL_DB CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
fi

echo "faults: building"
CGO_ENABLED=0 go build -o "$work/certapi" ./cmd/certapi
go build -o "$work/certfaults" ./cmd/certfaults
echo "faults: $(nproc) CPUs, $(go env GOVERSION)${mariadb:+, MariaDB $("$server" --version | sed -E 's/^.*Ver ([^ ]+).*/\1/')}," \
  "$WORKERS writers, request deadline $WRITE_TIMEOUT, shutdown timeout $SHUTDOWN_TIMEOUT"

# The load is one caller: the general limit per caller stays on, above what it sends.
common=(CERTAPI_LOG_LEVEL=warn CERTAPI_TOKEN_TTL=1h CERTAPI_WRITE_TIMEOUT="$WRITE_TIMEOUT"
  CERTAPI_SHUTDOWN_TIMEOUT="$SHUTDOWN_TIMEOUT" CERTAPI_RATE_LIMIT=1000000000
  CERTAPI_BOOTSTRAP_ADMIN_EMAIL=admin@example.org CERTAPI_BOOTSTRAP_ADMIN_PASSWORD=a-long-enough-password-for-faults)
mariadb_env=(CERTAPI_DATABASE_URL="mysql://$MYSQL_USER:$MYSQL_PASSWORD@$MYSQL_HOST:$MYSQL_PORT/$MYSQL_DB"
  CERTAPI_JWT_KEY="$(head -c 32 /dev/urandom | base64)" CERTAPI_MIGRATE=true)

writes() { [[ $1 == *-registrations ]] && echo registrations || echo sites; }
failed=()
run() { # name, certfaults arguments...
  local name=$1
  shift
  echo
  if ! "$@" -bin "$work/certapi" -workers "$WORKERS" -log "$work/$name.log"; then
    failed+=("$name")
  fi
}
for s in $SCENARIOS; do
  case $s in
  outage | outage-registrations)
    run "$s" env "${common[@]}" "${mariadb_env[@]}" "$work/certfaults" outage -down-for "$DOWN_FOR" \
      -down "$MARIADB_STOP" -up "$MARIADB_START" -writes "$(writes "$s")"
    ensure_mariadb ;; # if the scenario stopped short, for the next ones
  kill-sqlite | term-sqlite)
    run "$s" env "${common[@]}" CERTAPI_DATA_DIR="$work/$s" "$work/certfaults" "${s%-*}" ;;
  kill-mariadb | term-mariadb | kill-mariadb-registrations | term-mariadb-registrations)
    run "$s" env "${common[@]}" "${mariadb_env[@]}" "$work/certfaults" "${s%%-*}" -writes "$(writes "$s")" ;;
  *)
    echo "faults: unknown scenario $s" >&2
    failed+=("$s") ;;
  esac
done

echo
if ((${#failed[@]})); then
  echo "faults: FAILED: ${failed[*]}"
  exit 1
fi
echo "faults: every bar passed ($SCENARIOS)"
status=0
