#!/usr/bin/env bash
# Publishes `cascade` as a Native AOT binary with every warning an error (trim and AOT analysis
# included, one line per warning), and prints the binary's path on the last line.
#   scripts/aot-publish.sh [RID]        RID defaults to linux-x64
# Installs clang when it is missing and we are root (scripts/aot-linker.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

rid=${1:-linux-x64}
source scripts/aot-linker.sh

# PublishAot and the warnings-as-errors settings are in src/Cascade.Cli/Cascade.Cli.csproj.
dotnet publish src/Cascade.Cli -c Release -r "$rid" -warnaserror "${aot_linker[@]}" >&2

echo "$PWD/src/Cascade.Cli/bin/Release/net10.0/$rid/publish/cascade"
