# Sourced by up.sh, down.sh and the Makefile: `ensure_compose` installs Debian's docker-compose
# when neither `docker compose` nor `docker-compose` is there; `compose ARGS` runs Docker Compose
# on docker-compose.yaml for the deployment named $CODEBOOST_DEPLOYMENT (default codeboost).
DEPLOYMENT="${CODEBOOST_DEPLOYMENT:-codeboost}"
COMPOSE_FILE_PATH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/docker-compose.yaml"

ensure_compose() {
    docker compose version >/dev/null 2>&1 && return 0
    command -v docker-compose >/dev/null 2>&1 && return 0
    echo "installing docker-compose" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends docker-compose >/dev/null 2>&1 \
        || { apt-get update -qq && apt-get install -y -qq --no-install-recommends docker-compose >/dev/null; }
}

compose() {
    ensure_compose
    if docker compose version >/dev/null 2>&1; then
        docker compose -p "$DEPLOYMENT" -f "$COMPOSE_FILE_PATH" "$@"
    else
        docker-compose -p "$DEPLOYMENT" -f "$COMPOSE_FILE_PATH" "$@"
    fi
}
