#!/usr/bin/env bash
# Stop the deployment. With --volumes also delete its Postgres data and Dagster storage.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=compose.sh
source "$HERE/compose.sh"
export CODEBOOST_DATA_DIR="${CODEBOOST_DATA_DIR:-$(dirname "$HERE")/data/deployment}"
compose down --remove-orphans "$@"
