#!/usr/bin/env bash
# scenario: alone
# deb_package.sh: what `make deb` builds (conf/deb/build.sh on the proxy
# under test).  The package holds the binary, the man page proxy(8), the
# unit, /etc/proxy/proxy.conf as a conffile, copyright and changelog; its
# Depends come from dpkg-shlibdeps (libev, liburing, libc); the postinst
# makes the proxy user only where it is missing; lintian reports no error.
# The shipped configuration passes `proxy -t`.
set -u
. "${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/support/lib.sh"

sh "$TOPSRC/conf/deb/build.sh" "$PROXY" 0.1.0-1 "$TMPDIR" >"$TMPDIR/build.out" 2>&1 || fail "build.sh failed: $(cat "$TMPDIR/build.out")"
deb=$(ls "$TMPDIR"/proxy_0.1.0-1_*.deb 2>/dev/null) || fail "no package built"
echo "built $(basename "$deb")"

dpkg-deb -c "$deb" | awk '{print $6}' >"$TMPDIR/files"
for f in ./usr/sbin/proxy ./usr/share/man/man8/proxy.8.gz ./lib/systemd/system/proxy.service \
         ./etc/proxy/proxy.conf ./etc/proxy/busy.html ./usr/share/doc/proxy/copyright ./usr/share/doc/proxy/changelog.Debian.gz; do
    grep -qx "$f" "$TMPDIR/files" || fail "the package lacks $f"
done
[ "$(dpkg-deb -f "$deb" Package)" = proxy ] || fail "wrong package name"
dep=$(dpkg-deb -f "$deb" Depends)
for lib in libev4 liburing2 libc-ares2 libc6 adduser; do
    case "$dep" in *"$lib"*) ;; *) fail "Depends ($dep) lacks $lib" ;; esac
done
echo "Depends: $dep"
mkdir -p "$TMPDIR/ctl"; dpkg-deb -e "$deb" "$TMPDIR/ctl"
[ "$(cat "$TMPDIR/ctl/conffiles" | tr '\n' ' ')" = "/etc/proxy/proxy.conf /etc/proxy/busy.html " ] ||
    fail "conffiles: $(cat "$TMPDIR/ctl/conffiles")"
grep -q 'getent passwd proxy' "$TMPDIR/ctl/postinst" || fail "the postinst does not make the proxy user"
# An upgrade restarts a running service on the new binary; a removal stops it.
grep -q 'systemctl restart proxy' "$TMPDIR/ctl/postinst" || fail "the postinst does not restart the service on an upgrade"
grep -q 'systemctl stop proxy' "$TMPDIR/ctl/prerm" || fail "no prerm stopping the service on removal"
sh -n "$TMPDIR/ctl/postinst" && sh -n "$TMPDIR/ctl/prerm" && sh -n "$TMPDIR/ctl/postrm" || fail "a maintainer script does not parse"

# The packaged binary runs and its configuration checks.
mkdir -p "$TMPDIR/root"; dpkg-deb -x "$deb" "$TMPDIR/root"
"$TMPDIR/root/usr/sbin/proxy" -V | grep -q '^proxy ' || fail "the packaged binary does not run"
"$TMPDIR/root/usr/sbin/proxy" -t -c "$TMPDIR/root/etc/proxy/proxy.conf" >/dev/null || fail "the packaged configuration does not pass proxy -t"
# It is the package's reference ("Every directive appears here"): every
# directive form of the language has a line in it.
python3 "$TOPSRC/tests/support/conf_covers_directives.py" "$TOPSRC/src" "$TMPDIR/root/etc/proxy/proxy.conf" ||
    fail "the packaged proxy.conf lacks directives (above)"
# Its waiting-room example, uncommented, finds the page it names.
sed 's/^#error-page 503 busy.html/error-page 503 busy.html/' "$TMPDIR/root/etc/proxy/proxy.conf" >"$TMPDIR/root/etc/proxy/waiting.conf"
grep -q '^error-page 503 busy.html' "$TMPDIR/root/etc/proxy/waiting.conf" || fail "proxy.conf has no error-page 503 busy.html example"
out=$("$TMPDIR/root/usr/sbin/proxy" -t -c "$TMPDIR/root/etc/proxy/waiting.conf" 2>&1) ||
    fail "the packaged configuration with its error-page example does not pass proxy -t: $out"
zcat "$TMPDIR/root/usr/share/man/man8/proxy.8.gz" | grep -q '^\.Sh SYNOPSIS' || fail "the man page is not mdoc"

if command -v lintian >/dev/null; then
    lintian --no-tag-display-limit "$deb" >"$TMPDIR/lintian.out" 2>&1
    grep '^E:' "$TMPDIR/lintian.out" && fail "lintian errors (above)"
    echo "lintian: no errors ($(grep -c '^W:' "$TMPDIR/lintian.out") warnings)"
else
    echo "lintian not installed: not run (make deps installs it)"
fi
echo "PASS"
