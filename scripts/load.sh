#!/usr/bin/env bash
# Load test of the built binary on loopback: starts certapi on a fresh embedded
# database (or on CERTAPI_DATABASE_URL), then drives it with wrk (Debian: apt-get
# install wrk) for DURATION seconds per scenario. Bounded in time; stops by itself.
#   scripts/load.sh            # 10 s per scenario, 2 threads, 16 connections
#   DURATION=30 CONNECTIONS=64 scripts/load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-16}
PORT=${PORT:-18089}
command -v wrk >/dev/null || { echo "load: wrk is needed (apt-get install wrk)" >&2; exit 1; }

work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -o "$work/certapi" ./cmd/certapi
CERTAPI_ADDR=127.0.0.1:$PORT CERTAPI_DATA_DIR="$work/data" CERTAPI_LOG_LEVEL=error \
  CERTAPI_BOOTSTRAP_ADMIN_EMAIL=load@example.org CERTAPI_BOOTSTRAP_ADMIN_PASSWORD=load-test-password \
  CERTAPI_TOKEN_TTL=1h "$work/certapi" serve 2>"$work/log" &
pid=$!
base=http://127.0.0.1:$PORT
for _ in $(seq 50); do curl -fs "$base/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
token=$(curl -fs -d grant_type=password -d username=load@example.org -d password=load-test-password "$base/v1/auth/token" |
  sed -E 's/.*"access_token":"([^"]+)".*/\1/')

cat >"$work/post.lua" <<LUA
counter = 0
request = function()
  counter = counter + 1
  local body = '{"name":"Load ' .. counter .. '-' .. math.random(1e9) .. '","address":{"line1":"1 rue","postal_code":"31000","city":"Toulouse","country_code":"FR"},"roles":["preparation"],"certification_codes":["RNCP26206"]}'
  return wrk.format("POST", "/v1/training-sites", {["Authorization"] = "Bearer $token", ["Content-Type"] = "application/json"}, body)
end
LUA

run() {
  echo "== $1"
  shift
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" | grep -E 'Requests/sec|Latency  |50%|99%|Non-2xx'
}
run "GET /v1/certifications/RNCP26206 (the whole referential)" -H "Authorization: Bearer $token" "$base/v1/certifications/RNCP26206"
run "GET /v1/training-sites?limit=20" -H "Authorization: Bearer $token" "$base/v1/training-sites?limit=20"
run "POST /v1/training-sites (one write transaction each)" -s "$work/post.lua" "$base"
echo "== resident memory of the server after the run: $(ps -o rss= -p "$pid" | awk '{printf "%.1f MiB", $1/1024}')"
