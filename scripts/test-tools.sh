#!/usr/bin/env bash
# Installs the Debian packages the tests use as real parts, when they are missing and we are root:
#   promtool (package prometheus): checks /metrics as Prometheus parses it;
#   chromium (package chromium, /usr/bin/chromium): the browser the dashboard's tests drive with
#   Playwright (never a browser download). The first install takes about 2 minutes.
# Services are never started by the install (a policy-rc.d refuses them for its duration).
# Sourced by scripts/test.sh; a package that cannot be installed is reported, and the tests that
# need it fail under CI=true.
test_tools_missing=()
command -v promtool >/dev/null 2>&1 || test_tools_missing+=(prometheus)
[ -x /usr/bin/chromium ] || test_tools_missing+=(chromium)

if [ ${#test_tools_missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing ${test_tools_missing[*]} (apt-get)"
        policy=/usr/sbin/policy-rc.d
        made_policy=
        if [ ! -e "$policy" ]; then
            printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && made_policy=1
        fi
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${test_tools_missing[@]}"; } >/dev/null 2>&1 \
            || echo "could not install ${test_tools_missing[*]}: the tests that need them fail under CI=true" >&2
        [ -n "$made_policy" ] && rm -f "$policy"
    else
        echo "missing ${test_tools_missing[*]} (not root, or no apt-get): the tests that need them fail under CI=true" >&2
    fi
fi
