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
