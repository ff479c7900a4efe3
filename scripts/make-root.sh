#!/usr/bin/env bash
# Build the Debian 13 (trixie) toolchain root in the cache, keyed by this
# script and root-packages.txt. An unchanged key is never rebuilt.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -e "$ROOT/.complete" ] && exit 0
[ "$(id -u)" = 0 ] || die "making the root needs root (debootstrap, chroot)"

# The mirror this host's apt already uses.
mirror=$(grep -hoE '(https?://[^ ]+/debian)/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
	/etc/apt/sources.list.d/*.list 2>/dev/null | head -n1 | tr -d ' ' || true)
mirror=${mirror%/}
[ -n "$mirror" ] || die "no Debian mirror found in /etc/apt sources"

command -v debootstrap >/dev/null || { log "installing debootstrap on the host"; apt-get install -y -q debootstrap >/dev/null; }

log "creating the trixie root in $ROOT (debootstrap, ~1 min)"
rm -rf "$ROOT.tmp"
debootstrap --variant=minbase --include=ca-certificates trixie "$ROOT.tmp" "$mirror" >"$CACHE/debootstrap.log" 2>&1 ||
	{ tail -n 20 "$CACHE/debootstrap.log"; die "debootstrap failed"; }

cat >"$ROOT.tmp/etc/apt/sources.list" <<EOS
deb $mirror trixie main
deb $mirror trixie-updates main
deb $mirror trixie-backports main
EOS
cp /etc/resolv.conf "$ROOT.tmp/etc/resolv.conf" 2>/dev/null || true
# pip inside the root verifies the registry with the host's CA bundle.
mkdir -p "$ROOT.tmp/usr/local/share/ca-certificates"
cp /etc/ssl/certs/ca-certificates.crt "$ROOT.tmp/usr/local/share/ca-certificates/host-bundle.crt"
echo 'APT::Install-Recommends "false";' >"$ROOT.tmp/etc/apt/apt.conf.d/90norecommends"

pkgs=$(grep -vE '^\s*(#|$)' "$TOP/scripts/root-packages.txt" | tr '\n' ' ')
log "installing the toolchain into the root (apt, ~2 min)"
RA_ROOT="$ROOT.tmp" "$TOP/scripts/in-root.sh" bash -euo pipefail -c "
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q $pkgs
	python3 -m venv /opt/vng
	/opt/vng/bin/pip install -q --cert /usr/local/share/ca-certificates/host-bundle.crt 'virtme-ng>=1.42'
	ln -sf /opt/vng/bin/vng /usr/local/bin/vng
	apt-get clean
" >"$CACHE/root-apt.log" 2>&1 || { tail -n 30 "$CACHE/root-apt.log"; die "installing the root failed"; }

touch "$ROOT.tmp/.complete"
rm -rf "$ROOT"
mv "$ROOT.tmp" "$ROOT"
log "root ready: $ROOT"
