#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests: Debian's `postgresql`, in a directory of its own, on a free
# loopback port, owned by the `postgres` user (the server refuses to run as root, and tests run as root).
#
#   scripts/pg-server.sh start DIR   creates and starts a cluster in DIR; prints its URL on stdout
#   scripts/pg-server.sh stop DIR    stops it (the directory is left for the caller to remove)
#   scripts/pg-server.sh resume DIR  starts a stopped cluster again, on its port (tests of a restart)
#
# The URL names the `postgres` superuser over TCP with trust authentication: loopback only, for tests.
set -euo pipefail

action=${1:-}
dir=${2:-}
[ -n "$action" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|resume DIR" >&2; exit 2; }

as_postgres=()
[ "$(id -un)" = postgres ] || as_postgres=(runuser -u postgres --)

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bin" ]; then
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

case $action in
start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    chown postgres: "$dir" 2>/dev/null || true
    "${as_postgres[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1
    # A free port: the kernel's choice for a socket bound to port 0, released just before the server takes it.
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    echo "$port" >"$dir/port"
    "${as_postgres[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-p $port -k $dir/data -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
resume)
    dir=$(cd "$dir" && pwd)
    port=$(cat "$dir/port")
    "${as_postgres[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-p $port -k $dir/data -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
    ;;
stop)
    "${as_postgres[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
*)
    echo "usage: $0 start|stop|resume DIR" >&2
    exit 2
    ;;
esac
