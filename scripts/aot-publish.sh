#!/usr/bin/env bash
# Publishes `cascade` as a Native AOT binary with every warning an error (trim and AOT analysis
# included, one line per warning), and prints the binary's path on the last line.
#   scripts/aot-publish.sh [RID]        RID defaults to linux-x64
# Native AOT links with clang: when `clang` is missing and we are root, it installs Debian's
# clang and zlib headers first (apt-get); otherwise it uses a versioned clang-NN if there is one.
set -euo pipefail
cd "$(dirname "$0")/.."

rid=${1:-linux-x64}
linker=()

if ! command -v clang >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "clang is missing: installing clang and zlib1g-dev" >&2
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y clang zlib1g-dev
    else
        versioned=$(compgen -c clang- | grep -E '^clang-[0-9]+$' | sort -t- -k2 -n | tail -n 1 || true)
        if [ -z "$versioned" ]; then
            echo "Native AOT needs clang: install it (Debian: apt-get install clang zlib1g-dev) and run again" >&2
            exit 1
        fi
        linker=("-p:CppCompilerAndLinker=$versioned")
    fi
fi

dotnet publish src/Cascade.Cli -c Release -r "$rid" \
    -p:PublishAot=true -p:TreatWarningsAsErrors=true -p:IlcTreatWarningsAsErrors=true \
    -p:TrimmerSingleWarn=false -warnaserror "${linker[@]}"

echo "$PWD/src/Cascade.Cli/bin/Release/net10.0/$rid/publish/cascade"
