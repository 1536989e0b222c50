#!/usr/bin/env bash
# Runs every test project (unit, integration, end-to-end) and ends with one plain line:
#   N passed, N failed, N skipped
# The product that is tested is the product that ships: it first publishes the Native AOT binary
# (scripts/aot-publish.sh: zero trim/AOT warnings; installs clang when missing and run as root) and
# exports CASCADE_CLI, so the end-to-end tests run that binary; unit and integration tests run on
# the JIT build. When the publish fails the script fails under CI=true; elsewhere it says so and the
# end-to-end tests run `dotnet cascade.dll` instead. Before that, scripts/test-tools.sh installs the
# Debian packages the tests use as real parts (promtool, chromium), when missing and run as root;
# scripts/postgres.sh and scripts/s3rver.sh start the PostgreSQL and S3 servers (torn down on exit).
# Exit code: dotnet test's (non-zero when any test fails), or the publish's under CI=true.
set -uo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp -t cascade-test.XXXXXX)
publish=$(mktemp -t cascade-publish.XXXXXX)
s3pid=""
s3data=""
pgdir=""
cleanup() {
    if [ -n "$s3pid" ]; then kill "$s3pid" 2>/dev/null; wait "$s3pid" 2>/dev/null; fi
    [ -n "$s3data" ] && rm -rf "$s3data" "$s3data-server.log"
    [ -n "$pgdir" ] && bash scripts/postgres.sh stop "$pgdir"
    rm -f "$log" "$publish"
}
trap cleanup EXIT

# The S3-compatible server of the marker-store tests: s3rver on 127.0.0.1 (scripts/s3rver.sh
# installs Node.js when missing and we are root, then s3rver itself). Its URL is exported as
# CASCADE_TEST_S3_URL; without it the S3 tests fail under CI=true and say they did not run elsewhere.
s3data=$(mktemp -d -t cascade-s3.XXXXXX)
if s3url=$(bash scripts/s3rver.sh "$s3data" 2>"$s3data.log"); then
    s3pid=$(cat "$s3data/pid")
    export CASCADE_TEST_S3_URL=$s3url
    echo "S3 tests use s3rver at $s3url"
else
    cat "$s3data.log" >&2
    echo "s3rver did not start: the S3 tests $([ "${CI:-}" = "true" ] && echo fail || echo do not run)" >&2
fi
rm -f "$s3data.log"

# The PostgreSQL of the state-store tests: a throwaway cluster on 127.0.0.1 (scripts/postgres.sh
# installs Debian's postgresql when missing and we are root). The connection string of a fresh
# database is exported as CASCADE_TEST_PG; without it the PostgreSQL tests fail under CI=true and
# say they did not run elsewhere.
pgdir=$(mktemp -d -t cascade-pg.XXXXXX)
if pgurl=$(bash scripts/postgres.sh start "$pgdir" 2>"$pgdir.log"); then
    export CASCADE_TEST_PG=$pgurl
    echo "PostgreSQL tests use $pgurl"
else
    cat "$pgdir.log" >&2
    echo "PostgreSQL did not start: the PostgreSQL tests $([ "${CI:-}" = "true" ] && echo fail || echo do not run)" >&2
fi
rm -f "$pgdir.log"

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

# The engine's tests again with the scheduler's state in PostgreSQL (TempPipeline reads
# CASCADE_TEST_STATE): the same scenarios on both stores.
if [ -n "${CASCADE_TEST_PG:-}" ]; then
    echo "the engine's tests again, state in PostgreSQL"
    CASCADE_TEST_STATE=postgres dotnet test tests/Cascade.Engine.Tests --configuration Release --no-build 2>&1 | tee -a "$log"
    pgrc=${PIPESTATUS[0]}
    [ "$rc" -ne 0 ] || rc=$pgrc
fi

echo "took $((SECONDS - start)) s"
awk '/^(Passed|Failed)! +- Failed: /{gsub(",","");for(i=1;i<=NF;i++){if($i=="Failed:")f+=$(i+1);if($i=="Passed:")p+=$(i+1);if($i=="Skipped:")s+=$(i+1)}} END{printf "%d passed, %d failed, %d skipped\n",p,f,s}' "$log"
exit "$rc"
