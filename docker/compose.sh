# Sourced by up.sh and down.sh: `compose ARGS` runs Docker Compose on docker-compose.yaml for
# the deployment named $CODEBOOST_DEPLOYMENT (default codeboost), installing Debian's
# docker-compose when neither `docker compose` nor `docker-compose` is there.
DEPLOYMENT="${CODEBOOST_DEPLOYMENT:-codeboost}"
COMPOSE_FILE_PATH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/docker-compose.yaml"

compose() {
    if docker compose version >/dev/null 2>&1; then
        docker compose -p "$DEPLOYMENT" -f "$COMPOSE_FILE_PATH" "$@"
    else
        if ! command -v docker-compose >/dev/null 2>&1; then
            echo "installing docker-compose" >&2
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null \
                || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
                    apt-get install -y -qq --no-install-recommends docker-compose >/dev/null; }
        fi
        docker-compose -p "$DEPLOYMENT" -f "$COMPOSE_FILE_PATH" "$@"
    fi
}
