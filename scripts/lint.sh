#!/usr/bin/env bash
# The contract as the OpenAPI ecosystem reads it: Spectral (spectral:oas and the
# OWASP API security ruleset) and Redocly's recommended rules, with the versions
# tools/openapi pins, must find no error; then oasdiff (from the Go module proxy)
# refuses a breaking change against the contract of CONTRACT_BASE (a git revision:
# the previous commit by default; on a branch, the branch point), except the ones
# accepted, with their reason, in .ci/breaking-changes-accepted.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
(
  cd tools/openapi
  [ -d node_modules ] || npm ci --no-audit --no-fund
  npx --no-install spectral lint --ruleset .spectral.yaml --fail-severity error --display-only-failures ../../openapi.yaml
  npx --no-install redocly lint --config redocly.yaml ../../openapi.yaml
)
base=${CONTRACT_BASE:-HEAD^}
if git cat-file -e "$base:openapi.yaml" 2>/dev/null; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  git show "$base:openapi.yaml" >"$tmp/base.yaml"
  go run github.com/oasdiff/oasdiff@v1.37.0 breaking "$tmp/base.yaml" openapi.yaml --fail-on ERR \
    --err-ignore .ci/breaking-changes-accepted.txt
  echo "lint: no breaking change against $base"
else
  echo "lint: no contract at $base to compare with"
fi
