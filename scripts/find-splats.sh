#!/usr/bin/env bash
# The one kernel-report detector of the project, for the guest (the kernel log of a test, of the
# whole run) and the host (the console). usage: find-splats.sh [FILE...]   (stdin without FILE)
#
# Prints every line that opens a kernel report, each prefixed with its file when given files,
# and exits 1 if there is one, 0 if the text is clean. Lines that user space wrote into the log
# (the harness's markers, virtme-ng-init's messages) never match. Forms are 7.3's, read from the source:
#   kernel/panic.c __warn      WARNING: <file>:<line> at <func>, CPU#<n>: <comm>/<pid>
#                              WARNING: at <func>, CPU#<n>   (and older "WARNING: CPU: ...")
#   lib/bug.c                  ------------[ cut here ]------------ (KERN_INFO for a plain WARN_ON)
#   BUG:, kernel BUG at, Oops, general protection fault, Kernel panic, Unable to handle
#   lockdep (kernel/locking/lockdep.c): every report's header starts with "WARNING: " (possible
#     recursive locking / circular locking dependency / irq lock inversion, inconsistent lock
#     state, bad unlock balance, held lock freed, lock held when returning to user space,
#     suspicious RCU usage ...), plus "INFO: trying to register non-static key" and
#     "DEBUG_LOCKS_WARN_ON"
#   RCU: "rcu: INFO: ... detected stalls", "self-detected stall" (both "detected stall"),
#     "suspicious RCU usage"
#   "BUG: sleeping function called from invalid context", "BUG: scheduling while atomic"
#   KASAN ("BUG: KASAN:"), UBSAN ("UBSAN:"), KFENCE ("BUG: KFENCE:"), kmemleak ("kmemleak: N new
#   suspected memory leaks"), hung tasks ("INFO: task ... blocked for more than"), soft and hard
#   lockups ("BUG: soft lockup", "watchdog: ... hard LOCKUP"), and any stack dump ("Call Trace:")
#
# One report is expected, and passed over: an allocation that failed because tests/failnth.c
# made it fail. Between failnth's markers ("rust_arraymap-harness: failnth injecting" ...
# "failnth done", or the end of the harness's point), mm/page_alloc.c warn_alloc()'s
# "<comm>: page allocation failure: ..." or "<comm>: vmalloc error: ..." and its stack dump, up
# to "</TASK>", are not reports; outside them they are (a "Call Trace:"). The count passed over
# goes to stderr.
set -uo pipefail

patterns=(
	'WARNING: '
	'\[ cut here \]'
	'BUG: '
	'kernel BUG at'
	'Oops'
	'general protection fault'
	'Kernel panic'
	'Unable to handle kernel'
	'DEBUG_LOCKS_WARN_ON'
	'INFO: trying to register non-static key'
	'possible recursive locking'
	'circular locking dependency'
	'inconsistent lock state'
	'lock inversion dependency'
	'bad unlock balance'
	'suspicious RCU usage'
	'detected stall'
	'sleeping function called from invalid context'
	'scheduling while atomic'
	'KASAN'
	'UBSAN'
	'KFENCE'
	'kmemleak: .*suspected memory leak'
	'INFO: task .* blocked for more than'
	'hard LOCKUP'
	'soft lockup'
	'Call Trace:'
)
re=$(IFS='|'; echo "${patterns[*]}")
# A file that cannot be read is an error (2), never a clean log.
for f in "$@"; do
	[ -r "$f" ] || { echo "find-splats: cannot read $f" >&2; exit 2; }
done
# The harness's markers carry test names, which may contain any of the words above;
# virtme-ng-init logs its own "WARNING: failed to run ..." through /dev/kmsg; the console also
# carries the guest's KTAP results ("ok 94 sanitizer_summary # ... KASAN reports 0"), which no
# kernel line starts like.
user='(rust_arraymap-harness|virtme-ng-init): |^(not )?ok [0-9]+ '

# without_injected_failures: the log without warn_alloc() reports inside failnth's markers.
without_injected_failures() {
	awk '
		index($0, "rust_arraymap-harness: failnth injecting") { inject = 1 }
		index($0, "rust_arraymap-harness: failnth done") { inject = 0 }
		index($0, "rust_arraymap-harness: end ") { inject = 0 }
		inject && /: (page allocation failure|vmalloc error): / { skip = 1; passed++; next }
		skip { if (index($0, "</TASK>")) skip = 0; next }
		{ print }
		END { if (passed) printf "find-splats: %d allocation failure(s) of injected faults passed over\n", passed > "/dev/stderr" }'
}

found=0
if [ $# -gt 0 ]; then
	for f in "$@"; do
		without_injected_failures <"$f" | grep -E -- "$re" | grep -Ev "$user" | sed "s|^|$f:|" &&
			found=1
	done
else
	without_injected_failures | grep -E -- "$re" | grep -Ev "$user" && found=1
fi
[ "$found" = 0 ]
