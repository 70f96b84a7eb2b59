#!/usr/bin/env bash
# The TypeScript example (examples/typescript) against a live service: builds and
# starts certapi on a fresh embedded database, generates the client's types from
# openapi.yaml, type-checks the example (a call the contract does not allow fails
# here) and runs its whole path. Needs Node.js and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-$(shuf -i 20000-60000 -n 1)}
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

CGO_ENABLED=0 go build -o "$work/certapi" ./cmd/certapi
CERTAPI_ADDR=127.0.0.1:$PORT CERTAPI_DATA_DIR="$work/data" CERTAPI_LOG_LEVEL=warn \
  CERTAPI_BOOTSTRAP_ADMIN_EMAIL=admin@example.org CERTAPI_BOOTSTRAP_ADMIN_PASSWORD=typed-client-example \
  "$work/certapi" serve 2>"$work/log" &
pid=$!

cd examples/typescript
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent generate
npm run --silent typecheck
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
CERTAPI_URL=http://127.0.0.1:$PORT CERTAPI_EMAIL=admin@example.org CERTAPI_PASSWORD=typed-client-example npm run --silent flow \
  || { echo "example: the flow failed; the service said:" >&2; cat "$work/log" >&2; exit 1; }
