#!/usr/bin/env bash
# Sourced by .ci/run: starts a throwaway PostgreSQL (Debian's package) on
# loopback for the MLflow receiver's shared-store tests and exports
# MODELGATE_TEST_POSTGRES (a DSN whose user may create databases).
# Run as root (CI), the server runs as the postgres user; otherwise as the
# current user. The data directory lives under /tmp and is removed on exit.
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$pg_bin" ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y postgresql || { $sudo apt-get update && $sudo apt-get install -y postgresql; }
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi
pg_port=${MODELGATE_PG_PORT:-55432}
# A port something already listens on (another run's server) is skipped.
while (exec 3<>"/dev/tcp/127.0.0.1/$pg_port") 2>/dev/null; do pg_port=$((pg_port + 1)); done
pg_dir=$(mktemp -d /tmp/modelgate-pg.XXXXXX)
chmod 755 "$pg_dir"
pg_as=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$pg_dir"
  pg_as=(runuser -u postgres --)
fi
"${pg_as[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U modelgate --no-sync >"$pg_dir/initdb.log"
"${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_dir -c max_connections=200" start >/dev/null
"$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U modelgate modelgate
export MODELGATE_TEST_POSTGRES="postgres://modelgate@127.0.0.1:$pg_port/modelgate?sslmode=disable"
export MODELGATE_REQUIRE_POSTGRES=1
trap '"${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null 2>&1; rm -rf "$pg_dir"' EXIT
echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port"
