#!/bin/sh
# build.sh: what `make deb` runs.  Builds build/proxy_VERSION_ARCH.deb from
# the ./proxy binary with dpkg-deb: the binary (stripped), the man page,
# /etc/proxy/proxy.conf and busy.html as conffiles, the systemd unit, the copyright and
# changelog, and Depends computed by dpkg-shlibdeps.
#   conf/deb/build.sh PROXY_BINARY VERSION [OUTDIR]   (OUTDIR: build/)
set -eu
bin=$1 version=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
arch=$(dpkg --print-architecture)
work=$(mktemp -d "${TMPDIR:-/tmp}/proxy-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root

install -D -m 755 "$bin" "$root/usr/sbin/proxy"
strip --remove-section=.comment --remove-section=.note --strip-unneeded "$root/usr/sbin/proxy"
install -D -m 644 "$top/conf/proxy.conf" "$root/etc/proxy/proxy.conf"
# The waiting-room page proxy.conf's `error-page 503 busy.html` names.
install -D -m 644 "$top/conf/busy.html" "$root/etc/proxy/busy.html"
install -D -m 644 "$top/conf/proxy.service" "$root/lib/systemd/system/proxy.service"
install -d -m 755 "$root/usr/share/man/man8" "$root/usr/share/doc/proxy"
gzip -9n <"$top/conf/proxy.8" >"$root/usr/share/man/man8/proxy.8.gz"
install -m 644 "$top/conf/deb/copyright" "$root/usr/share/doc/proxy/copyright"
printf 'proxy (%s) unstable; urgency=medium\n\n  * Built from the repository by make deb.\n\n -- proxy developers <maintainers@proxy.example.org>  %s\n' \
    "$version" "$(date -R)" | gzip -9n >"$root/usr/share/doc/proxy/changelog.Debian.gz"
chmod 644 "$root/usr/share/man/man8/proxy.8.gz" "$root/usr/share/doc/proxy/changelog.Debian.gz"

# dpkg-shlibdeps wants a debian/control naming the package.
mkdir -p "$work/debian"
printf 'Source: proxy\n\nPackage: proxy\nArchitecture: any\n' >"$work/debian/control"
depends=$(cd "$work" && dpkg-shlibdeps -O root/usr/sbin/proxy 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

install -d -m 755 "$root/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$depends/" \
    "$top/conf/deb/control" >"$root/DEBIAN/control"
printf '/etc/proxy/proxy.conf\n/etc/proxy/busy.html\n' >"$root/DEBIAN/conffiles"
install -m 755 "$top/conf/deb/postinst" "$top/conf/deb/prerm" "$top/conf/deb/postrm" "$root/DEBIAN/"
(cd "$root" && find . -type f ! -path './DEBIAN/*' ! -path './etc/*' -printf '%P\0' | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 644 "$root/DEBIAN/md5sums" "$root/DEBIAN/control" "$root/DEBIAN/conffiles"

outdir=${3:-$top/build}
mkdir -p "$outdir"
out=$outdir/proxy_${version}_${arch}.deb
dpkg-deb --root-owner-group --build "$root" "$out" >/dev/null
echo "deb: $out"
