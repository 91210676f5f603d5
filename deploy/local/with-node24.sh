#!/usr/bin/env bash
# Runs a command under Node 24 with up-to-date dependencies, from the repository root:
#   bash deploy/local/with-node24.sh npm run --silent mesh:start
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source deploy/local/node24.sh

use_node24
install_dependencies_if_stale
exec "$@"
