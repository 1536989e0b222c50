# Sourced by scripts/aot-publish.sh and scripts/pack.sh: makes sure Native AOT can link, and sets
# the array `aot_linker` to the extra MSBuild arguments that takes (empty when `clang` is on PATH).
# Native AOT links with clang: when `clang` is missing and we are root, it installs Debian's clang
# and zlib headers first (apt-get); otherwise it uses a versioned clang-NN if there is one, and
# fails (return 1) when there is none.
aot_linker=()
if ! command -v clang >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "clang is missing: installing clang and zlib1g-dev" >&2
        apt-get update >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y clang zlib1g-dev >&2
    else
        versioned=$(compgen -c clang- | grep -E '^clang-[0-9]+$' | sort -t- -k2 -n | tail -n 1 || true)
        if [ -z "$versioned" ]; then
            echo "Native AOT needs clang: install it (Debian: apt-get install clang zlib1g-dev) and run again" >&2
            return 1
        fi
        aot_linker=("-p:CppCompilerAndLinker=$versioned")
    fi
fi
