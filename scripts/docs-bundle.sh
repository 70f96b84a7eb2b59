#!/usr/bin/env bash
# Refreshes the reference page's script (internal/httpapi/reference) from the Redoc
# version tools/openapi pins. The bundle shows a logo it would fetch from Redocly's
# CDN; the page loads nothing from elsewhere, so the copy built into the binary
# shows an empty image instead.
set -euo pipefail
cd "$(dirname "$0")/.."
(cd tools/openapi && { [ -d node_modules ] || npm ci --no-audit --no-fund; })
src=tools/openapi/node_modules/redoc/bundles
dst=internal/httpapi/reference
logo='https://cdn.redoc.ly/redoc/logo-mini.svg'
empty="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"
grep -q "$logo" "$src/redoc.standalone.js" || { echo "docs-bundle: the bundle no longer fetches $logo: check what it loads" >&2; exit 1; }
sed "s|$logo|$empty|g" "$src/redoc.standalone.js" >"$dst/redoc.standalone.js"
cp "$src/redoc.standalone.js.LICENSE.txt" "$dst/"
cp tools/openapi/node_modules/redoc/LICENSE "$dst/LICENSE.redoc"
echo "docs-bundle: redoc $(node -p "require('./tools/openapi/node_modules/redoc/package.json').version") in $dst"
