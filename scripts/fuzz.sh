#!/usr/bin/env bash
# A bounded fuzz run of every target: `scripts/fuzz.sh` (FUZZTIME per target, 4s by
# default). The committed corpora under testdata/fuzz run with the ordinary tests;
# this run looks for new inputs. A target fails when it finds one (the engine writes
# it under testdata/fuzz and prints "Failing input written to"), or on any error
# but one: the engine's known report of "context deadline exceeded" when -fuzztime
# runs out while a worker is busy (golang/go#51484), which finds nothing and is
# reported as a warning.
set -uo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-4s}
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-1s}
targets=(
  ./internal/httpapi/:FuzzCheckOneJSONValue
  ./internal/httpapi/:FuzzPage
  ./internal/httpapi/:FuzzResultCursors
  ./internal/certification/:FuzzParseGrade
  ./internal/certification/:FuzzValidUntil
  ./internal/certification/:FuzzCheckAwardPeriod
  ./internal/auth/:FuzzVerify
  ./internal/auth/:FuzzVerifyIssued
)
failed=0
for t in "${targets[@]}"; do
  pkg=${t%%:*} name=${t##*:}
  out=$("$GO" test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" "$pkg" 2>&1)
  rc=$?
  if [ $rc -eq 0 ]; then
    echo "fuzz: $name ok"
  elif ! grep -q 'Failing input written to' <<<"$out" && ! grep -q 'panic:' <<<"$out" &&
       grep -q 'context deadline exceeded' <<<"$out"; then
    echo "fuzz: $name: warning: the engine stopped with \"context deadline exceeded\" at the end of -fuzztime and found nothing (golang/go#51484)"
  else
    echo "$out"
    echo "fuzz: $name FAILED" >&2
    failed=1
  fi
done
exit $failed
