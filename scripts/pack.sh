#!/usr/bin/env bash
# Makes the `cascade` .NET tool packages in OUT (default ./nupkg), so that
#   dotnet tool install --global Cascade.Cli --add-source OUT
# installs the Native AOT binary on linux-x64 and the framework-dependent build elsewhere:
#   Cascade.Cli            the top-level package: it names the RID packages below
#   Cascade.Cli.linux-x64  the Native AOT binary with libe_sqlite3.so beside it (zero trim/AOT warnings)
#   Cascade.Cli.any        the framework-dependent fallback for every other platform (needs the .NET runtime)
# The native package is built only on linux-x64 (Native AOT does not cross-compile between OSes).
# Installs clang when it is missing and we are root (scripts/aot-linker.sh).
#   scripts/pack.sh [OUT]
set -euo pipefail
out=$(realpath -m "${1:-./nupkg}")
cd "$(dirname "$0")/.."

project=src/Cascade.Cli
# A tool package takes every file in the publish folder: start from empty ones, so that nothing an
# earlier publish left there (debug symbols, an old file) is shipped.
rm -rf "$project/bin/Release/net10.0/any/publish" "$project/bin/Release/net10.0/linux-x64/publish"
dotnet pack "$project" -c Release -o "$out"
dotnet pack "$project" -c Release -r any -p:PublishAot=false -o "$out"
if [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ]; then
    source scripts/aot-linker.sh
    dotnet pack "$project" -c Release -r linux-x64 -warnaserror "${aot_linker[@]}" -o "$out"
else
    echo "not on linux-x64: no native package; the tool installs the framework-dependent fallback" >&2
fi
