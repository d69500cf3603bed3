#!/usr/bin/env bash
# End-to-end: `leakhunt core PID` on C programs (test/programs/*.c, built
# here with cc), checked with gdb: processes whose shape the node tests of
# core.sh do not have.
. "$(dirname "$0")/lib.sh"
PR="$LH_TOP/test/programs"
have_gdb() { command -v gdb >/dev/null 2>&1; }

# a main thread ended with pthread_exit is a zombie without memory: it was
# taken for a thread we may not trace ("ptrace of thread N: Operation not
# permitted"), and /proc/PID/mem for the memory of a process that had none
cc -O1 -g -pthread -o "$T/mainzombie" "$PR/mainzombie.c" || fail build-mainzombie "cc failed"
start_cmd mainzombie "$T/mainzombie" && {
	for i in $(seq 50); do grep -q "^State:.*Z" "/proc/$P/status" && break; sleep 0.1; done
	run_ok mainzombie-core "$LEAKHUNT" core "$P" -o "$T/core.mainzombie"
	check mainzombie-one-thread grep -q "paused .*: 1 threads" "$T/err"
	check mainzombie-still-runs kill -0 "$P"
	if have_gdb && [ -e "$T/core.mainzombie" ]; then
		gdb -batch -ex 'x/s marker' -ex bt "$T/mainzombie" "$T/core.mainzombie" >"$T/gdb.out" 2>&1
		check mainzombie-memory grep -q '<marker>:.*"mainzombie marker"' "$T/gdb.out"
		check mainzombie-bt grep -qE "^#[0-9]+ .* in waiter " "$T/gdb.out"
	fi
	rm -f "$T/core.mainzombie"
}

# a file size limit (ulimit -f) killed the command with SIGXFSZ: no message,
# and the half-written FILE.partial left behind
cc -O1 -g -o "$T/sparse" "$PR/sparse.c" || fail build-sparse "cc failed"
start_cmd sparse "$T/sparse" 1 && {
	run_fail filesize-limit "cannot write '.*core.limit.partial': File too large" \
		bash -c 'ulimit -f 1024; exec "$@"' - "$LEAKHUNT" core "$P" -o "$T/core.limit"
	check filesize-limit-no-file test ! -e "$T/core.limit" -a ! -e "$T/core.limit.partial"
	check filesize-limit-still-runs kill -0 "$P"
}

# a 16 GB MAP_NORESERVE mapping, one page of it written: the untouched pages
# were read, each mapped to the zero page by the reading (seconds of pause,
# and 32 MB more page tables in the process: its VmPTE); they are holes
start_cmd sparse16 "$T/sparse" 16 && {
	B=$(sed -n 's/^ready //p' "$T/sparse16.out")
	pte() { sed -n "s/^VmPTE:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$P/status"; }
	before=$(pte)
	run_ok sparse-core "$LEAKHUNT" core "$P" -o "$T/core.sparse"
	after=$(pte)
	check sparse-page-tables-unchanged test -n "$before" -a $((after - before)) -lt 1024
	check sparse-copied-little grep -qE "paused .* [0-9.]+ (kB|MB) copied" "$T/err"
	if have_gdb && [ -e "$T/core.sparse" ]; then
		gdb -batch -ex "x/s $B + 1048576" -ex "x/2gx $B + 8388608" "$T/sparse" "$T/core.sparse" >"$T/gdb.out" 2>&1
		check sparse-written-page grep -q '"sparse marker"' "$T/gdb.out"
		check sparse-untouched-zeros grep -qE ':\s+0x0+\s+0x0+$' "$T/gdb.out"
	fi
	rm -f "$T/core.sparse"
}

# SIGTERM (or Ctrl-C: a background job here ignores SIGINT) while the core
# is written (1 GB of written pages) left FILE.partial, half written; the
# target runs on
start_cmd sparse-term "$T/sparse" 2 1024 && {
	"$LEAKHUNT" core "$P" -o "$T/core.term" >"$T/term.out" 2>&1 &
	L=$!
	for i in $(seq 200); do [ -e "$T/core.term.partial" ] && break; sleep 0.01; done
	kill -TERM "$L"
	wait "$L"
	check sigterm-no-partial test ! -e "$T/core.term.partial"
	check sigterm-still-runs kill -0 "$P"
	rm -f "$T/core.term"
}

# the notes gdb reads beside memory, against gcore's answers for the same
# process: NT_X86_XSTATE (the upper halves of ymm0/ymm1 were unavailable), an
# NT_SIGINFO per thread ($_siginfo could not be read), NT_FILE's mapping of a
# file deleted since ("(deleted)": it was left out), pr_fpvalid set
cc -O1 -g -pthread -o "$T/corenotes" "$PR/corenotes.c" || fail build-corenotes "cc failed"
# prstatus_fpvalid CORE / prpsinfo_ids CORE: fields gdb does not show, read from the notes
prnote() {
	python3 - "$@" <<'PY'
import struct, sys
d = open(sys.argv[2], 'rb').read()
phoff, = struct.unpack_from('<Q', d, 0x20); phnum, = struct.unpack_from('<H', d, 0x38)
for i in range(phnum):
    typ, _, off, _, _, size = struct.unpack_from('<IIQQQQ', d, phoff + i * 56)
    pos = off
    while typ == 4 and pos < off + size:
        nsz, dsz, ntype = struct.unpack_from('<III', d, pos)
        desc = pos + 12 + (nsz + 3) // 4 * 4
        if sys.argv[1] == 'fpvalid' and ntype == 1:
            print(struct.unpack_from('<i', d, desc + 328)[0])
        if sys.argv[1] == 'ids' and ntype == 3:
            print('%d %d %d' % struct.unpack_from('<IIi', d, desc + 16))
        pos = desc + (dsz + 3) // 4 * 4
PY
}
notes_gdb() {
	gdb -batch -ex 'p/x $ymm0.v4_int64' -ex 'p/x $ymm1.v4_int64' -ex 'p $_siginfo.si_signo' \
		-ex 'thread 2' -ex 'p $_siginfo.si_signo' -ex 'info proc mappings' "$T/corenotes" "$1" 2>&1 |
		grep -E '^\$[0-9]|\(deleted\)$|siginfo'
}
start_cmd corenotes "$T/corenotes" "$T/corenotes.data" && {
	run_ok corenotes-core "$LEAKHUNT" core "$P" -o "$T/core.notes"
	check corenotes-fpvalid test "$(prnote fpvalid "$T/core.notes" | sort -u)" = 1
	if have_gdb && [ -e "$T/core.notes" ]; then
		notes_gdb "$T/core.notes" >"$T/out"
		check corenotes-ymm0 grep -qx '$1 = {0x1111111111111111, 0x2222222222222222, 0x3333333333333333, 0x4444444444444444}' "$T/out"
		check corenotes-ymm1 grep -qx '$2 = {0xdeadbeefcafef00d, 0x123456789abcdef, 0xfedcba9876543210, 0x5555aaaa5555aaaa}' "$T/out"
		check corenotes-siginfo-main grep -qx '$3 = 19' "$T/out"
		check corenotes-siginfo-thread2 grep -qx '$4 = 19' "$T/out"
		check corenotes-deleted-file grep -qE "^ +0x[0-9a-f]+ +0x[0-9a-f]+ +0x1000 +0x0 $T/corenotes.data \(deleted\)$" "$T/out"
		if command -v gcore >/dev/null 2>&1 && gcore -o "$T/gcore.notes" "$P" >/dev/null 2>&1; then
			notes_gdb "$T/gcore.notes.$P" >"$T/gcore.out"
			check corenotes-as-gcore diff "$T/gcore.out" "$T/out"
		fi
	fi
	rm -f "$T/core.notes" "$T/gcore.notes".*
}

# NT_PRPSINFO's pr_uid and pr_gid were ours (root's), not those of the process
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
	start_cmd nobody setpriv --reuid=65534 --regid=65534 --clear-groups "$T/sparse" 1 && {
		run_ok nobody-core "$LEAKHUNT" core "$P" -o "$T/core.nobody"
		check nobody-prpsinfo-ids test "$(prnote ids "$T/core.nobody")" = "65534 65534 $P"
		rm -f "$T/core.nobody"
	}
fi

# a thread seized while a signal was delivered to it stops for that signal
# (a signal-delivery stop): detaching with 0 discarded it.  60 cores of a
# process that signals itself without end: some land on a delivery (4 of 60
# here before the fix lost 4 signals); every signal sent must be handled
cc -O1 -g -o "$T/sigcount" "$PR/sigcount.c" || fail build-sigcount "cc failed"
start_cmd sigcount "$T/sigcount" && {
	for i in $(seq 60); do
		"$LEAKHUNT" core "$P" -o "$T/core.sig" >/dev/null 2>&1 || break
		rm -f "$T/core.sig"
	done
	kill -USR2 "$P"
	for i in $(seq 100); do grep -q "^sent" "$T/sigcount.out" && break; sleep 0.1; done
	check sigcount-no-signal-lost grep -qE "^sent ([0-9]+) handled \1$" "$T/sigcount.out"
}
