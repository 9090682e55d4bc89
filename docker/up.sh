#!/usr/bin/env bash
# Start the deployment (docker-compose.yaml) and wait until the webserver serves our code
# location; idempotent. Images come from build_images.sh. Environment overrides:
#   CODEBOOST_DEPLOYMENT (compose project, default codeboost)
#   CODEBOOST_DATA_DIR (default data/deployment: dumps/, storage/, models/ for the code server)
#   CODEBOOST_WEBSERVER_PORT (default 3000, on 127.0.0.1), DEPLOYMENT_WAIT_S (default 180)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=compose.sh
source "$HERE/compose.sh"
export CODEBOOST_DATA_DIR="${CODEBOOST_DATA_DIR:-$(dirname "$HERE")/data/deployment}"
export CODEBOOST_WEBSERVER_PORT="${CODEBOOST_WEBSERVER_PORT:-3000}"
mkdir -p "$CODEBOOST_DATA_DIR/dumps"

compose up -d
url="http://127.0.0.1:$CODEBOOST_WEBSERVER_PORT"
for _ in $(seq "${DEPLOYMENT_WAIT_S:-180}"); do
    if curl -fsS "$url/graphql" -H 'Content-Type: application/json' \
        -d '{"query":"{ workspaceOrError { ... on Workspace { locationEntries { loadStatus } } } }"}' 2>/dev/null \
        | grep -q '"loadStatus": *"LOADED"'; then
        echo "deployment $DEPLOYMENT is up: $url (dumps go into $CODEBOOST_DATA_DIR/dumps)"
        exit 0
    fi
    sleep 1
done
echo "the webserver did not serve the code location within ${DEPLOYMENT_WAIT_S:-180}s" >&2
compose ps >&2
compose logs --tail 30 >&2
exit 1
