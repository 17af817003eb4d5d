#!/bin/sh
# Installs the Debian packages named as arguments that are not installed yet.
# Runs `apt-get update` only when something is missing.  Needs root to
# install; without it, says what to install and fails.
missing=""
for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
    exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || exit 1
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null || exit 1
# Debian starts the services of haproxy and nginx on install; the benchmark
# runs its own instances, so keep the system ones out of the way.
for svc in haproxy nginx varnish keepalived; do
    case "$missing" in *"$svc"*) (service "$svc" stop || true) >/dev/null 2>&1 ;; esac
done
exit 0
