# Helpers for the end-to-end tests in test/cli/.  Source this first.
# Every check prints "ok cli/<script>/<what>" or "FAIL ..." with the reason.
#   $LEAKHUNT   the binary under test      $LH_TMP   scratch directory
#   $LH_TOP     the repository             $LH_DATA  test/data
set -u
LH_SCRIPT=$(basename "$0" .sh)
LH_DATA="$LH_TOP/test/data"
T="$LH_TMP/$LH_SCRIPT"
rm -rf "$T"
mkdir -p "$T"

ok() { echo "ok cli/$LH_SCRIPT/$1"; }
fail() { echo "FAIL cli/$LH_SCRIPT/$1: $2"; }

# run_ok NAME CMD...: CMD must exit 0; output in $T/out, $T/err
run_ok() {
	local name=$1 rc; shift
	"$@" >"$T/out" 2>"$T/err"; rc=$?
	if [ $rc -eq 0 ] && ! grep -q "runtime error:" "$T/err"; then ok "$name"; return 0; fi
	fail "$name" "exit $rc from: $* -- $(head -c 400 "$T/err")"
	return 1
}

# run_fail NAME PATTERN CMD...: CMD must exit non-zero (not by a signal), with
# stderr matching the extended regex PATTERN
run_fail() {
	local name=$1 pat=$2 rc; shift 2
	"$@" >"$T/out" 2>"$T/err"; rc=$?
	if [ $rc -eq 0 ]; then fail "$name" "succeeded but should fail: $*"; return 1; fi
	if [ $rc -gt 128 ]; then fail "$name" "killed by signal $((rc - 128)): $*"; return 1; fi
	if ! grep -qE -- "$pat" "$T/err"; then
		fail "$name" "stderr does not match /$pat/: $(head -c 400 "$T/err")"; return 1
	fi
	ok "$name"
}

# check NAME CONDITION-CMD...: passes when the command succeeds
check() {
	local name=$1; shift
	if "$@"; then ok "$name"; return; fi
	# what the last command printed, for a failure seen only on another machine
	fail "$name" "check failed: $* -- last output: $(head -c 600 "$T/out" 2>/dev/null | tr '\n' '|')"
}

# make_snapshot OUT SCRIPT [ARGS]: run SCRIPT under node and write a heap snapshot of it to OUT
# (the script calls v8.writeHeapSnapshot itself, given OUT as its last argument)
have_node() { command -v node >/dev/null 2>&1; }

# Node targets for the live-process tests.  start_node NAME NODE-ARGS... runs
# node in the background and waits until it prints "ready" (a failure is
# reported as NAME-start); it sets $P.  Every target is killed when the script
# exits (a script that sets its own EXIT trap kills its own).
pids=()
lh_kill_targets() { local p; for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; }
trap lh_kill_targets EXIT
start_node() {
	local name=$1; shift
	start_cmd "$name" node "$@"
}

# listening PID: does PID own a listening TCP socket?
listening() {
	local p=$1 ino
	for ino in $(ls -l "/proc/$p/fd" 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\].*/\1/p'); do
		awk -v i="$ino" '$4=="0A" && $10==i {f=1} END {exit !f}' "/proc/$p/net/tcp" "/proc/$p/net/tcp6" && return 0
	done
	return 1
}
not_listening() { ! listening "$1"; }

# start_cmd NAME CMD...: run CMD (node, or a wrapper that execs node:
# setpriv, unshare, so that $P is node's own pid) until it prints "ready".
start_cmd() {
	local name=$1 i; shift
	"$@" >"$T/$name.out" 2>"$T/$name.err" &
	P=$!
	pids+=("$P")
	for i in $(seq "${START_TRIES:-300}"); do
		grep -q ready "$T/$name.out" 2>/dev/null && return 0
		kill -0 "$P" 2>/dev/null || break
		sleep 0.1
	done
	fail "$name-start" "$1 did not start: $(head -c 300 "$T/$name.err")"
	return 1
}
