#!/usr/bin/env bash
# The loader's errors as a user sees them: `leakhunt stats FILE` on every
# broken fixture (test/data/fail_*.heapsnapshot) must exit 1, not die by a
# signal, with one message naming the file and the byte offset.  The pass_*
# fixtures must load.  Then the same for a real snapshot cut short, as a file
# still being written is, and for things that are not snapshot files at all.
. "$LH_TOP/test/cli/lib.sh"

# exit status exactly 1 (run_fail already rules out 0 and signals)
exits_1() { "$@" >/dev/null 2>&1; [ $? -eq 1 ]; }

for f in "$LH_DATA"/fail_*.heapsnapshot; do
	name=$(basename "$f" .heapsnapshot)
	run_fail "$name" "^error: cannot read '$f': .*\(at byte [0-9]+\)" "$LEAKHUNT" stats "$f"
	check "$name/exit-1" exits_1 "$LEAKHUNT" stats "$f"
	check "$name/one-line" test "$(wc -l <"$T/err")" -eq 1
done

for f in "$LH_DATA"/pass_load_*.heapsnapshot; do
	run_ok "$(basename "$f" .heapsnapshot)" "$LEAKHUNT" stats "$f"
done

run_fail directory "cannot read '$LH_DATA'.*directory" "$LEAKHUNT" stats "$LH_DATA"
# a compressed snapshot is named so, with how to decompress it (it said
# "expected '{' at the start, found byte 0x1f")
printf '{"snapshot":{}}' | gzip >"$T/gz.heapsnapshot"
run_fail gzip-said "cannot read '$T/gz.heapsnapshot': not a heap snapshot but a gzip-compressed file: decompress it first \(gunzip" "$LEAKHUNT" summary "$T/gz.heapsnapshot"
run_fail missing "cannot open '$T/missing.heapsnapshot'" "$LEAKHUNT" stats "$T/missing.heapsnapshot"
mkfifo "$T/fifo.heapsnapshot"
run_fail fifo "cannot read '$T/fifo.heapsnapshot': not a regular file" timeout 10 "$LEAKHUNT" stats "$T/fifo.heapsnapshot"

if have_node; then
	real="$T/real.heapsnapshot"
	node -e 'globalThis.keep = Array.from({length: 100}, (_, i) => ({i}));
		require("v8").writeHeapSnapshot(process.argv[1])' "$real" >/dev/null
	run_ok real "$LEAKHUNT" stats "$real"
	size=$(stat -c %s "$real")
	for cut in 1 500 $((size / 3)) $((size / 2)) $((size - 1000)) $((size - 1)); do
		head -c "$cut" "$real" >"$T/cut.heapsnapshot"
		run_fail "real-cut-$cut" "cannot read '$T/cut.heapsnapshot': .*(truncated|ends).*\(at byte [0-9]+\)" \
			"$LEAKHUNT" stats "$T/cut.heapsnapshot"
	done
else
	ok "real: skipped, no node"
fi
