#!/usr/bin/env bash
# `leakhunt snapshot` captures the same heap that the process's own
# v8.writeHeapSnapshot writes (by the default method, which is write for a
# local target, and streamed): in a quiet process (all work done, only an
# idle timer) the per-class counts of the program's classes (Order,
# LineItem, and the Dates they hold) are equal in both snapshots.  The
# general classes (Array, closures, strings, numbers, Object) are within 3%:
# each way of taking a snapshot allocates a little of its own in the target
# (the inspector session and the evaluated expressions for ours; the v8
# module's snapshot stream, the SIGUSR2 handler and fs for the program's own),
# and node's internal Maps differ by a few for the same reason, so Map is not
# compared.
. "$(dirname "$0")/lib.sh"
have_node || { ok "skipped (no node)"; exit 0; }
P=
trap '[ -n "$P" ] && kill -9 "$P" 2>/dev/null' EXIT

cat >"$T/quiet.js" <<'JS'
const v8 = require('v8');
class Order { constructor(i) { this.id = i; this.user = 'u' + i; this.items = [new LineItem(i)]; this.when = new Date(i); } }
class LineItem { constructor(i) { this.sku = 'sku-' + (i % 50); this.qty = i % 7; } }
const cache = new Map();
for (let i = 0; i < 3000; i++) cache.set(i, new Order(i));
globalThis.app = { cache, handlers: Array.from({ length: 500 }, (_, i) => () => i) };
process.on('SIGUSR2', () => { v8.writeHeapSnapshot(process.argv[2]); console.log('written'); });
setInterval(() => {}, 1000);
console.log('ready');
JS
node --inspect-port=0 "$T/quiet.js" "$T/own.heapsnapshot" >"$T/node.out" 2>"$T/node.err" &
P=$!
for i in $(seq 300); do grep -q ready "$T/node.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$T/node.out" || { fail start "node did not start: $(head -c 300 "$T/node.err")"; exit 0; }

run_ok capture "$LEAKHUNT" snapshot "$P" -o "$T/captured.heapsnapshot" || exit 0
check capture-default-is-write grep -q "(method write)" "$T/err"
run_ok capture-stream "$LEAKHUNT" snapshot --method stream "$P" -o "$T/streamed.heapsnapshot"
check capture-stream-streamed grep -q "(method stream)" "$T/err"
kill -USR2 "$P"
for i in $(seq 300); do grep -q written "$T/node.out" 2>/dev/null && break; sleep 0.1; done
check own-written grep -q written "$T/node.out"
kill -9 "$P" 2>/dev/null
wait "$P" 2>/dev/null
P=

run_ok summary-captured "$LEAKHUNT" summary --json --all "$T/captured.heapsnapshot" && cp "$T/out" "$T/captured.json"
run_ok summary-own "$LEAKHUNT" summary --json --all "$T/own.heapsnapshot" && cp "$T/out" "$T/own.json"
for cls in Order LineItem Date Array Function '(string)' '(number)' Object; do
	counts=$(node -e '
		const fs = require("fs");
		const count = (f, name) => JSON.parse(fs.readFileSync(f, "utf8")).classes
			.filter(c => c.name === name).reduce((n, c) => n + c.count, 0);
		console.log(count(process.argv[1], process.argv[3]) + " " + count(process.argv[2], process.argv[3]))' \
		"$T/captured.json" "$T/own.json" "$cls")
	set -- $counts
	case "$cls" in
	Order | LineItem | Date)
		# the program's own objects: exactly equal
		if [ "$1" = "$2" ]; then ok "same-count/$cls ($1)"; else fail "same-count/$cls" "captured $1, own $2"; fi ;;
	*)
		# touched a little by either way of capturing: within 3%
		if [ "$1" -gt 0 ] && awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.03 * b) }'; then
			ok "near-count/$cls ($1 vs $2)"
		else
			fail "near-count/$cls" "captured $1, own $2"
		fi ;;
	esac
done
# --method stream: the chunks of HeapProfiler.takeHeapSnapshot; the
# program's classes as in the process's own snapshot
run_ok summary-streamed "$LEAKHUNT" summary --json --all "$T/streamed.heapsnapshot" && cp "$T/out" "$T/streamed.json"
for cls in Order LineItem Date; do
	counts=$(node -e '
		const fs = require("fs");
		const count = (f, name) => JSON.parse(fs.readFileSync(f, "utf8")).classes
			.filter(c => c.name === name).reduce((n, c) => n + c.count, 0);
		console.log(count(process.argv[1], process.argv[3]) + " " + count(process.argv[2], process.argv[3]))' \
		"$T/streamed.json" "$T/own.json" "$cls")
	set -- $counts
	if [ "$1" = "$2" ] && [ "$1" -gt 0 ]; then ok "streamed-same-count/$cls ($1)"; else fail "streamed-same-count/$cls" "streamed $1, own $2"; fi
done
rm -f "$T"/*.heapsnapshot
