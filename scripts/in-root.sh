#!/usr/bin/env bash
# Run a command inside the toolchain root, in a private mount namespace: the
# mounts die with the command, so deleting the cache never touches the host.
# The repo and the cache appear at the same paths inside as outside.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

root=${RA_ROOT:-$ROOT}
[ -d "$root" ] || die "no root at $root: run scripts/make-root.sh"

exec unshare --mount --propagation private -- /bin/bash -euo pipefail -c '
	root=$1 top=$2 cache=$3 cwd=$4; shift 4
	mount --rbind /dev "$root/dev"
	mount -t proc proc "$root/proc"
	mount --rbind /sys "$root/sys"
	for d in "$top" "$cache"; do
		mkdir -p "$root$d"
		mount --bind "$d" "$root$d"
	done
	exec chroot "$root" /usr/bin/env -i HOME=/root TERM="${TERM:-dumb}" \
		PATH=/opt/vng/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin LANG=C.UTF-8 \
		${CI:+CI=$CI} /bin/bash -c "cd \"\$0\" 2>/dev/null || cd /; exec \"\$@\"" "$cwd" "$@"
' in-root "$root" "$TOP" "$CACHE" "$PWD" "$@"
