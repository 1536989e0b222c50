#!/usr/bin/env bash
# Runs the original cloud system, rebuilt on 127.0.0.1, from a clean state, and tears it all down:
#   - a bucket on s3rver (scripts/s3rver.sh: installs Node.js when missing and root, then s3rver);
#   - receiver.mjs, the "remote pipelines" (a stand-in for AWS Data Pipeline's ActivatePipeline);
#   - `cascade run` with its API on 127.0.0.1 (the SNS subscription posts there), rescanning the
#     bucket only every 10 minutes, so the chain moves on notifications alone;
#   - then, for each partition, player_entry's marker written into the bucket and its notification
#     posted as SNS would; the chain runs to bi_import; status, timings and the markers are printed.
#   examples/s3/run.sh [PARTITION...]          default: 20190312 20190313
# CASCADE=path/to/cascade runs that binary (e.g. the Native AOT one from scripts/aot-publish.sh);
# by default the repository's src/Cascade.Cli is built and run with dotnet, as in the README.
# Exit 0 when every job ran exactly once per partition and succeeded; non-zero otherwise.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
partitions=("$@")
[ ${#partitions[@]} -gt 0 ] || partitions=(20190312 20190313)
for p in "${partitions[@]}"; do
    [[ $p =~ ^[0-9]{8}$ ]] || { echo "run.sh: '$p' is not a daily partition (YYYYMMDD)" >&2; exit 2; }
done

bucket=pipeline-markers
prefix=done/
topic=arn:aws:sns:us-east-1:123456789012:pipeline-markers
limit=60   # seconds the chain may take before the script gives up

start=$SECONDS
work=$(mktemp -d -t cascade-s3-example.XXXXXX)
s3pid="" receiverpid="" cascadepid=""
stop() {   # stop PID: SIGTERM, then wait until it is gone (s3rver is not our child: poll), at most 10 s
    [ -n "$1" ] || return 0
    kill -TERM "$1" 2>/dev/null || return 0
    wait "$1" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
}
cleanup() {
    stop "$cascadepid"
    stop "$receiverpid"
    stop "$s3pid"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
say() { echo "run.sh: $*"; }
fail() { echo "run.sh: $*" >&2; exit 1; }

# Which cascade: $CASCADE, else this repository's, built once and run with dotnet (the same as
# `dotnet run --project src/Cascade.Cli --` without a build check before every command).
if [ -n "${CASCADE:-}" ]; then
    program=$(command -v "$CASCADE") && [ -x "$program" ] || fail "CASCADE=$CASCADE is not an executable"
    [[ $program == /* ]] || program=$PWD/$program
    cascade=("$program")
else
    say "building cascade (dotnet build src/Cascade.Cli)"
    dotnet build "$repo/src/Cascade.Cli" -nologo -v q >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; fail "the build failed"; }
    say "built in $((SECONDS - start)) s"
    dll=$(dotnet msbuild "$repo/src/Cascade.Cli" -nologo -getProperty:TargetPath)
    cascade=(dotnet "$dll")
fi

# The bucket: s3rver on an ephemeral port of 127.0.0.1; a plain unsigned PUT makes the bucket.
mkdir "$work/s3.data"
s3url=$(bash "$repo/scripts/s3rver.sh" "$work/s3.data" 2>"$work/s3.err" | tail -n 1) \
    || { cat "$work/s3.err" >&2; fail "s3rver did not start"; }
s3pid=$(cat "$work/s3.data/pid")
curl -fsS -X PUT "$s3url/$bucket" -o /dev/null || fail "could not create the bucket $bucket"
say "s3rver at $s3url with bucket $bucket (at $((SECONDS - start)) s)"

# What the pipeline's producers, the receiver and cascade share.
CASCADE_API_TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
cascadeport=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
api=http://127.0.0.1:$cascadeport
export CASCADE_API_TOKEN EXAMPLE_S3_URL=$s3url EXAMPLE_BUCKET=$bucket EXAMPLE_PREFIX=$prefix \
    EXAMPLE_TOPIC_ARN=$topic EXAMPLE_CASCADE_URL=$api EXAMPLE_TIMELINE=$work/timeline
: >"$work/timeline"

# The remote pipelines.
node "$here/receiver.mjs" "$work/receiver.port" &
receiverpid=$!
for _ in $(seq 1 100); do
    [[ $(cat "$work/receiver.port" 2>/dev/null) =~ ^[0-9]+$ ]] && break
    kill -0 "$receiverpid" 2>/dev/null || fail "the receiver did not start"
    sleep 0.1
done
receiverport=$(cat "$work/receiver.port")

# The pipeline, with this s3rver's address, and the scheduler with its API.
mkdir "$work/pipeline"
sed "s#endpoint: http://127.0.0.1:4569#endpoint: $s3url#" "$here/cascade.yaml" >"$work/pipeline/cascade.yaml"
grep -q "endpoint: $s3url" "$work/pipeline/cascade.yaml" || fail "cascade.yaml has no endpoint line to point at s3rver"
(
    cd "$work/pipeline"
    export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER DATAPIPELINE_ENDPOINT=http://127.0.0.1:$receiverport
    exec "${cascade[@]}" run --urls "$api"
) &
cascadepid=$!
for _ in $(seq 1 600); do
    curl -fs -o /dev/null "$api/readyz" && break
    kill -0 "$cascadepid" 2>/dev/null || fail "cascade run stopped before it was ready"
    sleep 0.1
done
curl -fs -o /dev/null "$api/readyz" || fail "cascade run was not ready within 60 s"
say "cascade run is ready on $api (at $((SECONDS - start)) s)"

# The external job finishes: its marker into the bucket, and the bucket's notification to cascade.
chain=$SECONDS
for p in "${partitions[@]}"; do
    node "$here/bucket.mjs" player_entry "$p" || fail "could not write player_entry's marker for $p"
done

# Wait until bi_import succeeded for every partition, as cascade records it.
want=${#partitions[@]}
while :; do
    done_now=$(curl -fs "$api/api/runs?job=bi_import&state=succeeded" | grep -o '"partition": *"[0-9]*"' | wc -l || true)
    [ "${done_now:-0}" -ge "$want" ] && break
    [ $((SECONDS - chain)) -lt "$limit" ] || fail "bi_import did not succeed for all partitions within $limit s"
    kill -0 "$cascadepid" 2>/dev/null || fail "cascade run stopped"
    sleep 0.1
done
say "the chain ran for ${partitions[*]} in $((SECONDS - chain)) s after player_entry's markers (rescan interval: 10m)"
curl -fs "$api/api/jobs" >"$work/jobs.json"
curl -fs "$api/metrics" | grep '^cascade_notifications_total' | sed 's/^/  /' || true

kill -TERM "$cascadepid"
rc=0
wait "$cascadepid" || rc=$?
cascadepid=""
[ "$rc" = 0 ] || fail "cascade run exited $rc"

echo
(cd "$work/pipeline" && "${cascade[@]}" status)
(cd "$work/pipeline" && "${cascade[@]}" status --json) >"$work/status.json"
echo
node "$here/report.mjs" "$work/status.json" "$work/jobs.json" "$work/timeline" "${partitions[@]}" \
    || fail "the chain did not run as it should"
echo
echo "the markers (in s3rver's bucket):"
curl -fs "$s3url/$bucket?list-type=2&prefix=$prefix" | grep -o '<Key>[^<]*</Key>' | sed "s#<Key>\(.*\)</Key>#  s3://$bucket/\1#"
say "done in $((SECONDS - start)) s; stopping s3rver and the receiver"
