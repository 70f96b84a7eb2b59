#!/usr/bin/env bash
# Peak resident memory of certapi while it streams the holders declaration of a
# large dataset: builds certapi and certload, bulk-loads CANDIDATES certified
# candidates (100,000 by default) into a fresh embedded database, starts certapi,
# downloads the flux of every award, checks it against the Caisse des Dépôts' schema
# when xmllint is installed, and prints certapi's peak RSS (VmHWM) before and after.
#
#   scripts/declaration-memory.sh
#   CANDIDATES=10000 scripts/declaration-memory.sh
#   KEEP=/tmp/decl-data scripts/declaration-memory.sh   # keep the dataset, reuse it next time
set -euo pipefail
cd "$(dirname "$0")/.."
CANDIDATES=${CANDIDATES:-100000}
PORT=${PORT:-18095}
KEEP=${KEEP:-}

work=$(mktemp -d)
api=
cleanup() {
  [ -n "$api" ] && { kill "$api" 2>/dev/null || true; wait "$api" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT

CGO_ENABLED=0 go build -o "$work/certapi" ./cmd/certapi
CGO_ENABLED=0 go build -o "$work/certload" ./cmd/certload

data=${KEEP:-$work/data}
export CERTAPI_DATA_DIR=$data CERTAPI_DATABASE_URL=
if [ ! -f "$data/certapi.db" ]; then
  "$work/certload" seed --candidates "$CANDIDATES"
fi

CERTAPI_ADDR=127.0.0.1:$PORT CERTAPI_LOG_LEVEL=error CERTAPI_MIGRATE=true \
  CERTAPI_BOOTSTRAP_ADMIN_EMAIL=declare@example.org CERTAPI_BOOTSTRAP_ADMIN_PASSWORD=holders-within-three-months \
  CERTAPI_CDC_CLIENT_ID=03BHY312 CERTAPI_CDC_CONTRACT_ID=MCFCER000775 \
  CERTAPI_WRITE_TIMEOUT=5m "$work/certapi" serve 2>"$work/certapi.log" &
api=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
kill -0 "$api" 2>/dev/null || { echo "certapi did not start:" >&2; cat "$work/certapi.log" >&2; exit 1; }

peak() { awk '/^VmHWM/ {printf "%.1f", $2/1024}' "/proc/$api/status"; }
rss() { awk '/^VmRSS/ {printf "%.1f", $2/1024}' "/proc/$api/status"; }
token=$(curl -fs -X POST "http://127.0.0.1:$PORT/v1/auth/token" \
  -d grant_type=password -d username=declare@example.org -d password=holders-within-three-months |
  sed -E 's/.*"access_token":"([^"]*)".*/\1/')
before=$(peak)

start=$(date +%s.%N)
curl -fsS -H "Authorization: Bearer $token" -o "$work/flux.xml" \
  "http://127.0.0.1:$PORT/v1/exports/holders-declaration?from=1900-01-01&to=2199-12-31"
end=$(date +%s.%N)

records=$(grep -c '<passageCertification>' "$work/flux.xml")
echo "flux: $records records, $(du -m "$work/flux.xml" | cut -f1) MiB, in $(awk "BEGIN {printf \"%.1f\", $end - $start}") s"
if command -v xmllint >/dev/null; then
  xmllint --noout --stream --schema internal/cdc/testdata/holders-declaration-1.1.2.xsd "$work/flux.xml" 2>&1 | tail -1
fi
echo "certapi peak RSS: $before MiB before the export, $(peak) MiB after (resident now: $(rss) MiB)"
