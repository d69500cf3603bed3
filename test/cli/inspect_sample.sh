#!/usr/bin/env bash
# End-to-end: `leakhunt sample` on a real node process with one function
# that keeps what it allocates (retainWidgets, which must top the table) and
# one that makes garbage (churn, which must not show: its objects die); the
# saved .heapprofile read back with --input as a table, --json, --folded and
# --speedscope; a target that exits while sampled; usage errors.  The target
# uses --inspect-port=0 (SIGUSR1 opens a random port) and is killed on exit.
. "$(dirname "$0")/lib.sh"
have_node || { ok "skipped (no node)"; exit 0; }
# jsv EXPR FILE: evaluate EXPR with J = the parsed JSON file
jsv() { node -e 'const J=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); const v=('"$1"'); console.log(typeof v==="object"?JSON.stringify(v):v)' "$2"; }
expect_eq() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "got '$2', want '$3'"; fi; }

run_ok help "$LEAKHUNT" sample --help && check help-text grep -q "^usage: leakhunt sample" "$T/out"
run_fail no-duration "give --duration" "$LEAKHUNT" sample 1
run_fail bad-interval "--interval needs a byte count" "$LEAKHUNT" sample --interval 0 --duration 1s 1
# strtol's own overflow took this for a small number
run_fail bad-interval-overflow "--interval needs a byte count" "$LEAKHUNT" sample --interval 9223372036854775807k --duration 1s 1
run_fail folded-and-json "pick one" "$LEAKHUNT" sample --folded --json --input x
# --top 4294967296 wrapped to 0, "all rows"
run_fail top-too-big "--top needs a whole number" "$LEAKHUNT" sample --top 4294967296 --input x
run_fail input-missing "cannot (open|read) 'nope.heapprofile'" "$LEAKHUNT" sample --input nope.heapprofile
echo '{"nodes":[]}' >"$T/cpu.json"
run_fail input-not-profile "no \"head\" object" "$LEAKHUNT" sample --input "$T/cpu.json"

# the line numbers below (retainWidgets at 2) are checked: keep the layout
cat >"$T/app.js" <<'JS'
const kept = [];
function retainWidgets() {
	for (let i = 0; i < 2000; i++) kept.push({ id: i, name: 'widget' + i, tags: [i, i + 1] });
	if (kept.length > 400000) kept.length = 0;
}
function churn() { let g = []; for (let i = 0; i < 5000; i++) g.push({ i }); return g.length; }
setInterval(() => { retainWidgets(); churn(); }, 20);
console.log('ready');
JS
start_node app --inspect-port=0 "$T/app.js" && {
	H=$T/app.heapprofile
	run_ok live "$LEAKHUNT" sample "$P" --duration 1500ms --interval 16k -o "$H" --speedscope "$T/app.speedscope.json"
	check live-top-function awk 'NR==4 && $8=="retainWidgets" {f=1} END {exit !f}' "$T/out"
	check live-location grep -qE "retainWidgets +$T/app.js:2\$" "$T/out"
	check live-header grep -qE "^[0-9.]+ [kMG]?B live in [0-9]+ samples, one per 16384 bytes.* of pid $P\$" "$T/out"
	# garbage is dropped when collected; what churn made since the last
	# scavenge may still count (CI once saw 1.2%), never a real share
	check live-little-churn awk '$8=="churn" && $3+0 >= 5 {f=1} END {exit f}' "$T/out"
	check live-inspector-closed not_listening "$P"
	check live-target-alive kill -0 "$P"
	check live-saved-mode test "$(stat -c %a "$H")" = 600
	expect_eq live-saved-is-profile "$(jsv 'typeof J.head.callFrame + " " + Array.isArray(J.samples)' "$H")" "object true"
	expect_eq speedscope "$(jsv 'J.profiles[0].type + " " + J.profiles[0].unit + " " + (J.profiles[0].samples.length === J.profiles[0].weights.length)' "$T/app.speedscope.json")" "sampled bytes true"
	# an -o that exists or cannot be created is said before sampling, not
	# after --duration (the profile was lost then), and the target is not touched
	cp "$H" "$T/app.copy"
	start=$(date +%s)
	run_fail no-overwrite "cannot write '$H': the file exists" "$LEAKHUNT" sample "$P" --duration 30s -o "$H"
	check no-overwrite-at-once test $(($(date +%s) - start)) -lt 10
	check no-overwrite-untouched cmp -s "$H" "$T/app.copy"
	check no-overwrite-not-opened not_listening "$P"
	start=$(date +%s)
	run_fail no-such-dir "cannot create '$T/nodir/x.heapprofile': No such file" \
		"$LEAKHUNT" sample "$P" --duration 30s -o "$T/nodir/x.heapprofile"
	check no-such-dir-at-once test $(($(date +%s) - start)) -lt 10
	start=$(date +%s)
	run_fail speedscope-exists-at-once "cannot write '$H': the file exists" \
		"$LEAKHUNT" sample "$P" --duration 30s -o "$T/new.heapprofile" --speedscope "$H"
	check speedscope-exists-at-once-time test $(($(date +%s) - start)) -lt 10
	check speedscope-exists-no-profile-left test ! -e "$T/new.heapprofile"

	run_ok input-json "$LEAKHUNT" sample --input "$H" --json
	cp "$T/out" "$T/app.json"
	expect_eq json-format "$(jsv 'J.format' "$T/app.json")" "leakhunt.sample/1"
	expect_eq json-top "$(jsv 'J.functions[0].name + ":" + J.functions[0].line' "$T/app.json")" "retainWidgets:2"
	expect_eq json-stacks-sum "$(jsv 'J.stacks.reduce((a, s) => a + s.bytes, 0) === J.total_bytes' "$T/app.json")" true
	expect_eq json-self-le-total "$(jsv 'J.functions.every(f => f.self_bytes <= f.total_bytes)' "$T/app.json")" true
	run_ok input-folded "$LEAKHUNT" sample --input "$H" --folded
	check folded-leaf-is-top awk '{n=$NF; $NF=""; if (n+0 > max) {max=n+0; top=$0}} END {exit top !~ /;retainWidgets [^;]*app.js:2 $/}' "$T/out"
	check folded-sum test "$(awk '{s+=$NF} END {print s}' "$T/out")" = "$(jsv 'J.total_bytes' "$T/app.json")"
	run_ok input-table "$LEAKHUNT" sample --input "$H" --top 1
	check input-table-top awk 'NR==4 && $8=="retainWidgets" {f=1} END {exit !f}' "$T/out"
	check input-table-more grep -q "more functions (--top 0 shows all)" "$T/out"
	# --speedscope FILE is a new file: not even the profile given to --input
	# is overwritten (it was truncated)
	run_fail speedscope-no-overwrite "the file exists" "$LEAKHUNT" sample --input "$H" --speedscope "$H"
	check speedscope-input-kept test "$(jsv 'typeof J.head.callFrame' "$H")" = object
	run_ok speedscope-stdout "$LEAKHUNT" sample --input "$H" --speedscope -
	check speedscope-stdout-json test "$(jsv 'J.profiles[0].type' "$T/out")" = sampled
}

# a target that exits while sampled: node waits for us to disconnect, so we
# stop at once (not after --duration) with the profile so far
start_node exits --inspect-port=0 -e 'console.log("ready"); setTimeout(()=>{}, 1000)' && {
	run_ok exits "$LEAKHUNT" sample "$P" --duration 20s -o "$T/exits.heapprofile"
	check exits-says-so grep -q "pid $P is exiting: the profile covers" "$T/err"
	check exits-file test -s "$T/exits.heapprofile"
	check exits-not-held grep -qE ", [0-9]\.[0-9] s of pid" "$T/out"
	sleep 0.3
	check exits-gone bash -c "! kill -0 $P 2>/dev/null"
}
# Two clients on one target (the inspector is one, and so is V8's sampling
# heap profiler).  wait_for FILE PATTERN: until a line of FILE matches.
wait_for() {
	local i
	for i in $(seq 400); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
	return 1
}
GROW='globalThis.k=[]; process.on("SIGUSR2", () => require("inspector").close());
	setInterval(()=>{for(let i=0;i<2000;i++)k.push({i,s:"x"+i})},50); console.log("ready")'
# a opens the inspector, b attaches and reads a's profiler; a ends first:
# a left the inspector open for b (closing it ended b's session, and b lost
# its profile: "did the target exit?"), a's stop ended the profiler under b,
# which shows its last copy and fails; b, the last to leave, closes it
start_node two --inspect-port=0 -e "$GROW" && {
	"$LEAKHUNT" sample -v "$P" --duration 60s >"$T/a.out" 2>"$T/a.err" &
	a=$!
	wait_for "$T/a.err" "^sampling for"
	"$LEAKHUNT" sample -v "$P" --duration 60s -o "$T/b.heapprofile" >"$T/b.out" 2>"$T/b.err" &
	b=$!
	wait_for "$T/b.err" "kept a copy of the profile"
	kill -INT "$a"; wait "$a"
	check two-first-ok test $? = 0
	check two-first-leaves-open grep -q "the inspector of pid $P stays open on port [0-9]*: 1 other client uses it" "$T/a.err"
	wait "$b"
	check two-second-fails test $? = 1
	check two-second-says grep -q "was running in pid $P, started by another client.*the client stopped it" "$T/b.err"
	check two-second-shared-said grep -q "the profile is the last copy taken" "$T/b.err"
	check two-second-table grep -q "live in [0-9]* samples" "$T/b.out"
	check two-second-saved test -s "$T/b.heapprofile"
	check two-closed-by-last not_listening "$P"
	# the other order: b, reading a's profiler, ends first and leaves it
	# running: a's profile is whole (b's stop or its session's end stopped
	# V8's profiler under a); a, alone again, closes the inspector
	"$LEAKHUNT" sample -v "$P" --duration 60s >"$T/a.out" 2>"$T/a.err" &
	a=$!
	wait_for "$T/a.err" "^sampling for"
	run_ok two-reader "$LEAKHUNT" sample "$P" --duration 1s
	check two-reader-said grep -q "was already running in pid $P, started by another client" "$T/err"
	check two-reader-no-interval sh -c "! grep -q 'one per' '$T/out'"
	check two-owner-still-sampling kill -0 "$a"
	kill -INT "$a"; wait "$a"
	check two-owner-ok test $? = 0
	check two-owner-whole sh -c "! grep -q 'error' '$T/a.err'"
	check two-owner-closes not_listening "$P"
	# the program closes its inspector under a sample: the last copy is
	# kept, shown and saved, and the run fails
	"$LEAKHUNT" sample -v "$P" --duration 60s -o "$T/c.heapprofile" >"$T/c.out" 2>"$T/c.err" &
	c=$!
	wait_for "$T/c.err" "kept a copy of the profile"
	kill -USR2 "$P"; wait "$c"
	check closed-fails test $? = 1
	check closed-says grep -q "closed our session after .*, though the target still runs: another client closed the inspector (or the program did); the profile is the last copy taken, of the first" "$T/c.err"
	check closed-table grep -q "live in [0-9]* samples" "$T/c.out"
	check closed-saved test -s "$T/c.heapprofile"
	check closed-target-alive kill -0 "$P"
}
exit 0
