#!/usr/bin/env bash
# Runs every test project (unit, integration, end-to-end) and ends with one plain line:
#   N passed, N failed, N skipped
# The product that is tested is the product that ships: it first publishes the Native AOT binary
# (scripts/aot-publish.sh: zero trim/AOT warnings; installs clang when missing and run as root) and
# exports CASCADE_CLI, so the end-to-end tests run that binary; unit and integration tests run on
# the JIT build. When the publish fails the script fails under CI=true; elsewhere it says so and the
# end-to-end tests run `dotnet cascade.dll` instead. Before that, scripts/test-tools.sh installs the
# Debian packages the tests use as real parts (promtool, chromium), when missing and run as root.
# Exit code: dotnet test's (non-zero when any test fails), or the publish's under CI=true.
set -uo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp -t cascade-test.XXXXXX)
publish=$(mktemp -t cascade-publish.XXXXXX)
trap 'rm -f "$log" "$publish"' EXIT

start=$SECONDS
source scripts/test-tools.sh
if bash scripts/aot-publish.sh >"$publish" 2>&1; then
    CASCADE_CLI=$(tail -n 1 "$publish")
    export CASCADE_CLI
    echo "end-to-end tests run the Native AOT binary $CASCADE_CLI (published in $((SECONDS - start)) s)"
else
    cat "$publish" >&2
    if [ "${CI:-}" = "true" ]; then
        echo "the Native AOT publish failed (CI=true): no tests run" >&2
        exit 1
    fi
    echo "the Native AOT publish failed: the end-to-end tests run \`dotnet cascade.dll\` instead" >&2
    unset CASCADE_CLI
fi

dotnet test Cascade.slnx --configuration Release 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

echo "took $((SECONDS - start)) s"
awk '/^(Passed|Failed)! +- Failed: /{gsub(",","");for(i=1;i<=NF;i++){if($i=="Failed:")f+=$(i+1);if($i=="Passed:")p+=$(i+1);if($i=="Skipped:")s+=$(i+1)}} END{printf "%d passed, %d failed, %d skipped\n",p,f,s}' "$log"
exit "$rc"
