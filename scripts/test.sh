#!/usr/bin/env bash
# Runs every test project (unit, integration, end-to-end) and ends with one plain line:
#   N passed, N failed, N skipped
# It needs only the .NET SDK. Exit code: dotnet test's (non-zero when any test fails).
set -uo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp -t cascade-test.XXXXXX)
trap 'rm -f "$log"' EXIT

dotnet test Cascade.slnx --configuration Release 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

awk '/^(Passed|Failed)! +- Failed: /{gsub(",","");for(i=1;i<=NF;i++){if($i=="Failed:")f+=$(i+1);if($i=="Passed:")p+=$(i+1);if($i=="Skipped:")s+=$(i+1)}} END{printf "%d passed, %d failed, %d skipped\n",p,f,s}' "$log"
exit "$rc"
