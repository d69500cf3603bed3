#!/usr/bin/env bash
# End-to-end: `leakhunt snapshot` against real node processes: a timer target
# whose inspector we open (SIGUSR1) and must close again (with the default
# --method auto, which picks write for a local target, and with stream and
# write forced), a busy `for(;;)` target, one started with --inspect=0, one
# whose port 9229 is taken, one killed during the capture (each with the
# default and with --method stream), Ctrl-C during a capture, targets that cannot write our file (auto
# falls back to stream), and processes that are not node at all.
# Targets use --inspect-port=0 so that SIGUSR1 opens a random port: parallel
# test runs never fight over 9229.  Every target is killed on exit.
. "$(dirname "$0")/lib.sh"
have_node || { ok "skipped (no node)"; exit 0; }

# a valid snapshot: JSON that parses, node count consistent with the meta
valid_snapshot() {
	node -e 'const s=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));
		const n=s.snapshot.meta.node_fields.length;
		process.exit(s.nodes.length===s.snapshot.node_count*n && s.nodes.length>0 ? 0 : 1)' "$1"
}

mode_of() { stat -c %a "$1"; }

TIMER='globalThis.keep=[]; setInterval(()=>{keep.push({at:Date.now()}); if(keep.length>1000) keep.shift()},20); console.log("ready")'

run_ok help "$LEAKHUNT" snapshot --help && check help-text grep -q "^usage: leakhunt snapshot" "$T/out"
run_fail no-args "give one PID" "$LEAKHUNT" snapshot

# 1. a timer target: we open the inspector, take the snapshot, close it again
start_node timer --inspect-port=0 -e "$TIMER" && {
	S=$T/timer.heapsnapshot
	run_ok timer-capture "$LEAKHUNT" snapshot "$P" -o "$S"
	check timer-auto-picks-write grep -q "written by pid $P (method write)" "$T/err"
	check timer-stdout-names-file grep -qx "$S" "$T/out"
	check timer-valid valid_snapshot "$S"
	check timer-mode-0600 test "$(mode_of "$S")" = 600
	check timer-no-temp-left test -z "$(ls "$T" | grep -E '\.partial$')"
	check timer-inspector-closed-again not_listening "$P"
	run_ok timer-loads "$LEAKHUNT" stats "$S"
	check timer-stats-nodes grep -q "nodes" "$T/out"
	cp "$S" "$T/timer.copy"
	run_fail timer-no-overwrite "already exists.*never overwrites" "$LEAKHUNT" snapshot "$P" -o "$S"
	check timer-untouched cmp -s "$S" "$T/timer.copy"
	# a second capture in a row, after the inspector was closed, streamed; default file name
	mkdir -p "$T/cwd"
	(cd "$T/cwd" && "$LEAKHUNT" snapshot --method stream "$P" >"$T/out" 2>"$T/err"); rc=$?
	check timer-second-capture test $rc = 0
	check timer-second-streamed grep -q "(method stream)" "$T/err"
	check timer-second-valid valid_snapshot "$T/cwd/$(cat "$T/out")"
	check timer-second-mode-0600 test "$(mode_of "$T/cwd/$(cat "$T/out")")" = 600
	check timer-default-name bash -c "ls '$T/cwd' | grep -qE '^$P-[0-9]{8}-[0-9]{6}\\.heapsnapshot\$'"
	check timer-second-closed not_listening "$P"
	check timer-target-alive kill -0 "$P"
	# --method write: the target writes the file itself, with the same guarantees
	W=$T/timer-write.heapsnapshot
	run_ok write-capture "$LEAKHUNT" snapshot --method write "$P" -o "$W"
	check write-says-by-target grep -q "written by pid $P" "$T/err"
	check write-valid valid_snapshot "$W"
	check write-mode-0600 test "$(mode_of "$W")" = 600
	check write-no-temp-left test -z "$(ls "$T" | grep -E '\.partial$')"
	check write-inspector-closed-again not_listening "$P"
	run_fail write-no-overwrite "already exists.*never overwrites" "$LEAKHUNT" snapshot --method write "$P" -o "$W"
	# a relative -o: the target's cwd is not ours, it gets an absolute name
	(cd "$T/cwd" && "$LEAKHUNT" snapshot --method write -o rel.heapsnapshot "$P" >"$T/out" 2>"$T/err"); rc=$?
	check write-relative test $rc = 0 -a -s "$T/cwd/rel.heapsnapshot"
	check write-target-alive kill -0 "$P"
}
run_fail method-bad "--method is 'auto', 'stream' or 'write'" "$LEAKHUNT" snapshot --method copy 1
run_fail method-write-needs-pid "needs the target's PID" "$LEAKHUNT" snapshot --method write --url ws://127.0.0.1:1/x

# 2. a target busy in synchronous code: the inspector still answers
start_node busy --inspect-port=0 -e 'console.log("ready"); for(;;){}' && {
	run_ok busy-capture "$LEAKHUNT" snapshot "$P" -o "$T/busy.heapsnapshot"
	check busy-valid valid_snapshot "$T/busy.heapsnapshot"
	check busy-auto-picks-write grep -q "(method write)" "$T/err"
	# the close waits for the event loop, which a busy target never runs: we say so
	check busy-says-still-open grep -q "is still open on port" "$T/err"
	run_ok busy-stream "$LEAKHUNT" snapshot --method stream "$P" -o "$T/busy-stream.heapsnapshot"
	check busy-stream-valid valid_snapshot "$T/busy-stream.heapsnapshot"
}

# 3. --inspect=0: the inspector is already open on a random port; we leave it open
start_node open0 --inspect=0 -e "$TIMER" && {
	run_ok open0-capture "$LEAKHUNT" snapshot "$P" -o "$T/open0.heapsnapshot"
	check open0-valid valid_snapshot "$T/open0.heapsnapshot"
	check open0-left-open listening "$P"
	run_ok open0-stream "$LEAKHUNT" snapshot --method stream "$P" -o "$T/open0-stream.heapsnapshot"
	check open0-stream-valid valid_snapshot "$T/open0-stream.heapsnapshot"
	check open0-stream-left-open listening "$P"
	# by port or URL the pid is only what the other end says: auto streams
	port=$(sed -n 's|.*ws://127.0.0.1:\([0-9]*\)/.*|\1|p' "$T/open0.err" | head -1)
	run_ok open0-by-port "$LEAKHUNT" snapshot -v --port "$port" -o "$T/open0-port.heapsnapshot"
	check open0-by-port-streams grep -q "method: stream (the target was named by --url or --port" "$T/err"
	url=$(sed -n 's|.*\(ws://127.0.0.1:[0-9]*/[-0-9a-f]*\).*|\1|p' "$T/open0.err" | head -1)
	run_ok open0-by-url "$LEAKHUNT" snapshot --url "$url" -o "$T/open0-url.heapsnapshot"
	check open0-by-url-streams grep -q "(method stream)" "$T/err"
	run_fail open0-wrong-pid "belongs to pid $P, not pid 1\b|pid 1 .*not a node|permission denied" \
		"$LEAKHUNT" snapshot 1 --port "$port" -o "$T/wrong.heapsnapshot"
	check open0-wrong-pid-no-file test ! -e "$T/wrong.heapsnapshot"
}

# 4. not node, no such process, a remote URL, a port nobody listens on
sleep 60 & pids+=("$!")
run_fail not-node "is not a node process" "$LEAKHUNT" snapshot "$!" -o "$T/x.heapsnapshot"
check not-node-still-alive kill -0 "$!"
run_fail no-such-pid "no process with pid" "$LEAKHUNT" snapshot 4999999 -o "$T/x.heapsnapshot"
run_fail remote-refused "not a loopback address.*--allow-remote" "$LEAKHUNT" snapshot --url ws://10.255.255.1:9229/x -o "$T/x.heapsnapshot"
run_fail nothing-listens "connection refused" "$LEAKHUNT" snapshot --port 1 -o "$T/x.heapsnapshot"
check failures-left-no-file test ! -e "$T/x.heapsnapshot"

# 5. port 9229 taken by another node process: the target cannot open it
# (9229 may be held already, by another test run: then the holder says so and the case is skipped)
start_node holder -e 'require("net").createServer().listen(9229,"127.0.0.1",()=>console.log("ready")).on("error",e=>{console.log("ready, but busy "+e.code)})'
holder=$P
if grep -qx ready "$T/holder.out"; then
	start_node taken -e "$TIMER" && {
		run_fail port-taken "port 9229 is in use by pid $holder" "$LEAKHUNT" snapshot --timeout 3 "$P" -o "$T/x.heapsnapshot"
		run_fail port-taken-stream "port 9229 is in use by pid $holder" "$LEAKHUNT" snapshot --method stream --timeout 3 "$P" -o "$T/x.heapsnapshot"
	}
else
	ok "port-taken (skipped: 9229 is in use here)"
fi
kill "$holder" 2>/dev/null

# 6. the target dies during the capture: no file that looks complete is left.
# Without --keep-partial by the default method (the target writing), with it
# streamed.
BIG='globalThis.keep=[]; for(let i=0;i<400000;i++) keep.push({i, s:"k"+i}); console.log("ready"); setInterval(()=>{},1000)'
# Each case spends ~15 s in node building the graph; under the sanitizers
# (LH_SANITIZED=1) one case covers leakhunt's error paths, the other adds
# only node-side time.
keeps="no yes"
[ "${LH_SANITIZED:-0}" = 1 ] && keeps=yes
for keep in $keeps; do
	start_node "big-$keep" --inspect-port=0 -e "$BIG" || continue
	out=$T/dies-$keep.heapsnapshot
	opt=(); [ $keep = yes ] && opt=(--keep-partial --method stream)
	"$LEAKHUNT" snapshot "${opt[@]}" "$P" -o "$out" >"$T/out" 2>"$T/err" &
	lh=$!
	for i in $(seq 600); do
		[ -n "$(find "$T" -maxdepth 1 -name "dies-$keep.heapsnapshot.*.partial" -size +0 2>/dev/null)" ] && break
		kill -0 "$lh" 2>/dev/null || break
		sleep 0.05
	done
	kill -9 "$P"; wait "$P" 2>/dev/null
	wait "$lh"; rc=$?
	check "dies-$keep-fails" test "$rc" = 1
	check "dies-$keep-message" grep -qE "exited (during the capture|while writing)|closed the connection" "$T/err"
	check "dies-$keep-no-final-file" test ! -e "$out"
	if [ $keep = yes ]; then
		check dies-keep-partial-kept test -s "$out.partial"
		check dies-keep-partial-mode test "$(mode_of "$out.partial")" = 600
	else
		check dies-no-partial-left test -z "$(find "$T" -maxdepth 1 -name "dies-no*partial")"
	fi
done

# 6b. Ctrl-C during the capture (once the temporary file has data): the
# capture stops, nothing is left, and the inspector leakhunt opened is closed
# again once the target has finished the snapshot V8 cannot stop; before, the
# signal killed leakhunt on the spot and left the inspector open.  Job control
# (set -m) so that the background leakhunt does not ignore SIGINT.
for m in write stream; do
	start_node "int-$m" --inspect-port=0 -e "$BIG" || continue
	out=$T/int-$m.heapsnapshot
	set -m
	"$LEAKHUNT" snapshot --method $m "$P" -o "$out" >"$T/out" 2>"$T/err" &
	lh=$!
	set +m
	for i in $(seq 600); do
		[ -n "$(find "$T" -maxdepth 1 -name "int-$m.heapsnapshot.*.partial" -size +0 2>/dev/null)" ] && break
		kill -0 "$lh" 2>/dev/null || break
		sleep 0.05
	done
	kill -INT "$lh"
	wait "$lh"; rc=$?
	check "interrupt-$m-fails" test "$rc" = 1
	check "interrupt-$m-message" grep -q "interrupted (Ctrl-C) during the capture" "$T/err"
	check "interrupt-$m-no-file" test -z "$(ls "$T" | grep "^int-$m\.heapsnapshot")"
	check "interrupt-$m-inspector-closed" not_listening "$P"
	check "interrupt-$m-target-alive" kill -0 "$P"
	kill -9 "$P" 2>/dev/null
done

# 7. targets that cannot write our file: auto streams instead, and says why
# (as another user, into a directory only we can enter; in another mount
# namespace, where our path would name another file; writeHeapSnapshot
# replaced by one that throws); --method write fails there and leaves nothing.
fallback_ok() { # NAME FILE: the streamed file is complete, private, alone
	check "$1-valid" valid_snapshot "$2"
	check "$1-mode-0600" test "$(mode_of "$2")" = 600
	check "$1-no-temp-left" test -z "$(ls "$(dirname "$2")" | grep -E '\.[A-Za-z0-9]{6}\.partial$')"
}
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	mkdir -m 700 "$T/private"
	start_cmd nobody setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
		node --inspect-port=0 -e "$TIMER" && {
		run_ok other-user "$LEAKHUNT" snapshot "$P" -o "$T/private/nobody.heapsnapshot"
		check other-user-says-why grep -q "could not write the snapshot itself (.*EACCES.*); streaming it" "$T/err"
		check other-user-streamed grep -q "(method stream, after write failed)" "$T/err"
		fallback_ok other-user "$T/private/nobody.heapsnapshot"
		check other-user-ours test "$(stat -c %u "$T/private/nobody.heapsnapshot")" = 0
		check other-user-closed-again not_listening "$P"
		# where nobody may write (in /tmp: the checkout may be out of its reach),
		# it writes the file itself, and it stays private
		shared=$(mktemp -d /tmp/leakhunt-test.XXXXXX) && chmod 1777 "$shared"
		run_ok other-user-write "$LEAKHUNT" snapshot "$P" -o "$shared/nobody.heapsnapshot"
		check other-user-write-by-target grep -q "(method write)" "$T/err"
		fallback_ok other-user-write "$shared/nobody.heapsnapshot"
		check other-user-write-ours test "$(stat -c %u "$shared/nobody.heapsnapshot")" = 0
		rm -rf "$shared"
	}
else
	ok "other-user (skipped: needs root, setpriv and a nobody user)"
fi
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
	start_cmd mntns unshare -m node --inspect-port=0 -e "$TIMER" && {
		run_ok mount-ns "$LEAKHUNT" snapshot -v "$P" -o "$T/mntns.heapsnapshot"
		check mount-ns-streams grep -q "method: stream (it is in another mount namespace" "$T/err"
		fallback_ok mount-ns "$T/mntns.heapsnapshot"
		run_fail mount-ns-write-refused "cannot write .*another mount namespace.*--method stream" \
			"$LEAKHUNT" snapshot --method write "$P" -o "$T/mntns-write.heapsnapshot"
		check mount-ns-write-no-file test -z "$(ls "$T" | grep mntns-write)"
	}
else
	ok "mount-ns (skipped: cannot unshare -m here)"
fi
start_node throws --inspect-port=0 -e 'require("v8").writeHeapSnapshot=()=>{throw new Error("no writing here")}; '"$TIMER" && {
	run_ok write-throws "$LEAKHUNT" snapshot --keep-partial "$P" -o "$T/throws.heapsnapshot"
	check write-throws-says-why grep -q "could not write the snapshot itself (.*no writing here); streaming it" "$T/err"
	fallback_ok write-throws "$T/throws.heapsnapshot"
	run_fail write-throws-forced "threw: Error: no writing here" \
		"$LEAKHUNT" snapshot --method write --keep-partial "$P" -o "$T/throws-write.heapsnapshot"
	check write-throws-forced-no-file test -z "$(ls "$T" | grep throws-write)"
	check write-throws-closed-again not_listening "$P"
}
exit 0
