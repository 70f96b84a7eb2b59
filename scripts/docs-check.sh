#!/usr/bin/env bash
# The reference page in a real browser: starts certapi, opens /docs in Debian's
# headless Chromium at a desktop and a phone width (tools/openapi/docs-check.mjs),
# and fails unless every operation, an enum's values and an example are shown with
# no console error. SCREENSHOTS=dir keeps the two screenshots.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-$(shuf -i 20000-60000 -n 1)}
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -o "$work/certapi" ./cmd/certapi
CERTAPI_ADDR=127.0.0.1:$PORT CERTAPI_DATA_DIR="$work/data" CERTAPI_LOG_LEVEL=warn "$work/certapi" serve 2>"$work/log" &
pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
cd tools/openapi
[ -d node_modules ] || npm ci --no-audit --no-fund
node docs-check.mjs "http://127.0.0.1:$PORT" ${SCREENSHOTS:+"$SCREENSHOTS"}
