#!/usr/bin/env bash
# scenario: alone
# docker_files: docker/ checked without a Docker engine (issue 14, item 11).
# tests/scenario/docker_files.py parses docker/compose.yaml as YAML and reads
# the Dockerfile it builds, the .dockerignore of the build context and the
# configurations the image ships and compose mounts; it checks the paths
# they name (in comments too), USER and HEALTHCHECK, that the published
# ports reach listeners on all addresses (the stats port too), the fixed
# addresses, `proxy -t` on each configuration, builds the proxy from only
# what the build stage copies, and runs the HEALTHCHECK against the proxy
# running the image's configuration.  Where a Docker engine answers
# (`docker info`), `docker compose config` must accept the compose file too.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

python3 -c 'import yaml' 2>/dev/null || fail "python3 has no yaml module (Debian: python3-yaml; make deps installs it)"

rc=0
python3 "$TOPSRC/tests/scenario/docker_files.py" "$TOPSRC" "$PROXY" "$TMPDIR" || rc=1

if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    if docker compose -f "$TOPSRC/docker/compose.yaml" config -q; then
        echo "ok: docker compose config accepts docker/compose.yaml"
    else
        echo "wrong: docker compose config rejects docker/compose.yaml"
        rc=1
    fi
else
    echo "note: no Docker engine answers (docker info): docker compose config not run"
fi

[ "$rc" = 0 ] || fail "docker/ has problems (the wrong: lines above)"
echo "PASS: docker/compose.yaml, its Dockerfile, .dockerignore and configurations check out"
