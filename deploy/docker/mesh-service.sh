#!/bin/sh
# Entry point of the personalization-mesh image: `mesh-service <service> [node options...]`.
# Starts dist/apps/<service>/src/main.js with `exec`, so node is PID 1 and gets SIGTERM directly
# (the apps drain in-flight messages on SIGTERM).
set -eu

service="${1:-${MESH_SERVICE:-}}"
[ "$#" -gt 0 ] && shift

case "$service" in
  ingest | identity | enrichment | recommendation | renderer | delivery) ;;
  *)
    echo "usage: mesh-service <ingest|identity|enrichment|recommendation|renderer|delivery> [node options...]" >&2
    echo "(got: '${service}')" >&2
    exit 64
    ;;
esac

exec node "$@" "/app/dist/apps/${service}/src/main.js"
