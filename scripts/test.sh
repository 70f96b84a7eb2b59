#!/usr/bin/env bash
# Every test, on the embedded SQLite and on MariaDB/MySQL, then a bounded fuzz run:
# what `make test` runs.
#
# MariaDB: CERTAPI_TEST_MYSQL_DSN names a server account that may create and drop
# databases named certapi_test_* (e.g. "user:pass@tcp(127.0.0.1:3306)/"). Without
# it, this script starts a throwaway MariaDB from the installed server binaries, in
# a temporary directory, on a free port, and removes it afterwards; where the server
# is not installed it installs Debian's mariadb-server when it can (as root, with
# apt-get), and otherwise says what to install.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

mariadbd=$(command -v mariadbd 2>/dev/null || true)
[ -z "$mariadbd" ] && [ -x /usr/sbin/mariadbd ] && mariadbd=/usr/sbin/mariadbd

if [ -z "${CERTAPI_TEST_MYSQL_DSN:-}" ]; then
  if [ -z "$mariadbd" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "test: installing mariadb-server for the MySQL suite"
      DEBIAN_FRONTEND=noninteractive apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null
      mariadbd=/usr/sbin/mariadbd
    else
      echo "test: the MySQL suite needs MariaDB: install mariadb-server (Debian/Ubuntu: sudo apt-get install mariadb-server), or set CERTAPI_TEST_MYSQL_DSN to a server of yours" >&2
      exit 1
    fi
  fi
  installdb=$(command -v mariadb-install-db || command -v mysql_install_db)
  admin=$(command -v mariadb-admin || command -v mysqladmin)
  client=$(command -v mariadb || command -v mysql)

  tmp=$(mktemp -d "${TMPDIR:-/tmp}/certapi-mariadb.XXXXXX")
  user=$(id -un)
  if [ "$(id -u)" = 0 ]; then
    # mariadbd does not run as root: the throwaway server runs as mysql.
    user=mysql
    chown "$user" "$tmp"
  fi
  port=
  for p in $(shuf -i 20000-60000 -n 50); do
    if ! (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null; then port=$p; break; fi
  done
  [ -n "$port" ] || { echo "test: no free port for MariaDB" >&2; exit 1; }
  pid=
  cleanup() {
    if [ -n "$pid" ]; then
      "$admin" --no-defaults --socket="$tmp/mysqld.sock" -uroot shutdown >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
  }
  trap cleanup EXIT
  "$installdb" --no-defaults --user="$user" --datadir="$tmp/data" --auth-root-authentication-method=normal \
    --skip-test-db >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; exit 1; }
  "$mariadbd" --no-defaults --user="$user" --datadir="$tmp/data" --socket="$tmp/mysqld.sock" \
    --pid-file="$tmp/mysqld.pid" --port="$port" --bind-address=127.0.0.1 --skip-name-resolve \
    --innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=2 --log-error="$tmp/error.log" 2>>"$tmp/error.log" &
  pid=$!
  for i in $(seq 1 100); do
    "$admin" --no-defaults --socket="$tmp/mysqld.sock" -uroot ping >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { echo "test: the throwaway MariaDB did not start:" >&2; cat "$tmp/error.log" >&2; exit 1; }
    [ "$i" = 100 ] && { echo "test: the throwaway MariaDB did not answer" >&2; exit 1; }
    sleep 0.1
  done
  "$client" --no-defaults --socket="$tmp/mysqld.sock" -uroot <<'SQL'
CREATE USER 'certapi_test'@'127.0.0.1' IDENTIFIED BY 'certapi_test';
GRANT ALL PRIVILEGES ON `certapi\_test\_%`.* TO 'certapi_test'@'127.0.0.1';
SQL
  export CERTAPI_TEST_MYSQL_DSN="certapi_test:certapi_test@tcp(127.0.0.1:$port)/"
  echo "test: a throwaway MariaDB ($("$mariadbd" --version | awk '{print $3}')) on 127.0.0.1:$port"
fi

"$GO" vet ./...
"$GO" test -count=1 ./...
GO=$GO scripts/fuzz.sh
