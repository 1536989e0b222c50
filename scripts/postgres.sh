#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on 127.0.0.1 for the tests (ECOSYSTEM.md 3), its files in DIR.
#   scripts/postgres.sh start DIR   prints the connection string of a fresh database (cascade_test)
#   scripts/postgres.sh stop DIR    stops the cluster and deletes DIR
# Installs Debian's postgresql with apt-get when it is missing and we are root. As root the
# cluster runs as the postgres user (initdb refuses root). It listens on the first free port from
# 55432, with trust authentication, fsync off (a throwaway) and its Unix socket in DIR, and never
# touches the machine's own clusters.
set -euo pipefail
cmd=${1:?usage: scripts/postgres.sh start|stop DIR}
dir=${2:?usage: scripts/postgres.sh start|stop DIR}

as_owner() {
    if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pgbin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

if [ "$cmd" = "stop" ]; then
    if [ -f "$dir/data/postmaster.pid" ] && bin=$(pgbin) && [ -n "$bin" ]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    exit 0
fi
[ "$cmd" = "start" ] || { echo "usage: scripts/postgres.sh start|stop DIR" >&2; exit 2; }

bin=$(pgbin)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
        echo "installing PostgreSQL (apt-get)" >&2
        apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
        bin=$(pgbin)
    else
        echo "PostgreSQL is needed for the PostgreSQL state tests (apt-get install postgresql)" >&2
        exit 1
    fi
fi

mkdir -p "$dir"
if [ "$(id -u)" = "0" ]; then chown postgres:postgres "$dir"; fi

port=55432
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || [ -e "/tmp/.s.PGSQL.$port" ]; do
    port=$((port + 1))
    [ "$port" -lt 55532 ] || { echo "no free port in 55432-55531" >&2; exit 1; }
done

as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c fsync=off -c full_page_writes=off -c max_connections=200" start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }
"$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qAtc "CREATE DATABASE cascade_test" >/dev/null
echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=cascade_test"
