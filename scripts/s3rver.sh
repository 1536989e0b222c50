#!/usr/bin/env bash
# Starts s3rver 3.7.1 (an S3-compatible server on Node.js) on 127.0.0.1 for the tests, in the
# background, storing its objects in DATA_DIR; prints its URL on stdout and writes its pid to
# DATA_DIR/pid once it answers.
#   scripts/s3rver.sh DATA_DIR
# Installs Node.js and npm with apt-get when they are missing and we are root. s3rver itself is
# installed once into ~/.cache/cascade-test-tools. It accepts only the credentials S3RVER/S3RVER.
# Two fixes for s3rver 3.7.1 (docs/decisions/0016-s3-marker-store.md):
#  - Node's OpenSSL 3 refuses the DES it encrypts listing continuation tokens with: run it with
#    --openssl-legacy-provider, or ListObjectsV2 pagination answers 500;
#  - its copy handler decodes x-amz-copy-source with decodeURI, which leaves the %2F that AWS SDKs
#    send (correctly) for '/': patched to decodeURIComponent, or every CopyObject says NoSuchBucket.
set -euo pipefail
data=${1:?usage: scripts/s3rver.sh DATA_DIR}

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
        echo "installing Node.js and npm (apt-get)" >&2
        apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >&2
    else
        echo "Node.js and npm are needed for s3rver (apt-get install nodejs npm)" >&2
        exit 1
    fi
fi

tools=${CASCADE_TEST_TOOLS:-$HOME/.cache/cascade-test-tools}/s3rver-3.7.1
js=$tools/node_modules/s3rver/bin/s3rver.js
if [ ! -f "$js" ]; then
    mkdir -p "$tools"
    npm install --silent --no-audit --no-fund --prefix "$tools" s3rver@3.7.1 >&2
fi
copy=$tools/node_modules/s3rver/lib/controllers/object.js
sed -i "s/decodeURI(ctx.headers\['x-amz-copy-source'\])/decodeURIComponent(ctx.headers['x-amz-copy-source'])/" "$copy"
grep -q "decodeURIComponent(ctx.headers\['x-amz-copy-source'\])" "$copy" || { echo "s3rver's copy handler is not as expected; cannot patch it" >&2; exit 1; }

port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
node --openssl-legacy-provider "$js" -d "$data" -a 127.0.0.1 -p "$port" --no-vhost-buckets --silent >"$data-server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
        echo "$pid" >"$data/pid"
        echo "http://127.0.0.1:$port"
        exit 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.1
done
cat "$data-server.log" >&2
kill "$pid" 2>/dev/null || true
echo "s3rver did not answer on 127.0.0.1:$port" >&2
exit 1
