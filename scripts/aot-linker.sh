# Sourced by scripts/aot-publish.sh and scripts/pack.sh: makes sure Native AOT can link, and sets
# the array `aot_linker` to the extra MSBuild arguments that takes (empty when `clang` is on PATH).
# Native AOT links with clang. In order: `clang` on PATH; else a versioned `clang-NN` (Debian
# installs clang-14 without the plain name); else, when we are root, Debian's clang and zlib
# headers installed with apt-get; else it fails (return 1) saying what to install.
aot_linker=()
newest_versioned_clang() {
    compgen -c clang- | grep -E '^clang-[0-9]+$' | sort -t- -k2 -n | tail -n 1 || true
}
if ! command -v clang >/dev/null 2>&1; then
    versioned=$(newest_versioned_clang)
    if [ -z "$versioned" ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "clang is missing: installing clang and zlib1g-dev" >&2
        apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y clang zlib1g-dev >&2 \
            || echo "apt-get could not install clang" >&2
    fi
    if ! command -v clang >/dev/null 2>&1; then
        versioned=${versioned:-$(newest_versioned_clang)}
        if [ -z "$versioned" ]; then
            echo "Native AOT needs clang: install it (Debian: apt-get install clang zlib1g-dev) and run again" >&2
            return 1
        fi
        aot_linker=("-p:CppCompilerAndLinker=$versioned")
    fi
fi
