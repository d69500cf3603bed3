#!/usr/bin/env bash
# leakhunt report against heaptrack 1.4 on the same program (test/programs/leaky.c).
#
# What must agree, and the two known differences (../shared/reference/heaptrack.md §4):
#   - heaptrack's preload links libstdc++ into a pure-C target, whose
#     emergency exception-handling pool (one calloc of 72,704 B at _dl_init)
#     is one more allocation call and 72,704 B more at the peak; leakhunt's
#     preload allocates nothing through malloc, so: calls + 1, peak + 72,704.
#   - heaptrack_print over-counts temporary allocations: it compares
#     allocation-info indices (size + stack) in global order instead of
#     pointers, and resets its marker to index 0 after every free, so a free
#     of an info-0 block right after another free counts too (the pool is
#     info 0).  leakhunt counts what heaptrack_interpret would (exact): ours <=
#     theirs <= ours + 2 on this program.
#   - leaked bytes, in total and per site, agree exactly.
# Skipped (as passed, with a note) when heaptrack is not installed.
. "$LH_TOP/test/cli/lib.sh"

if ! command -v heaptrack >/dev/null || ! command -v heaptrack_print >/dev/null; then
	ok "heaptrack (skipped: heaptrack is not installed)"
	exit 0
fi
if [ ! -f "$(dirname "$LEAKHUNT")/libleakhunt.so" ]; then
	export LEAKHUNT_PRELOAD="$LH_TOP/build/libleakhunt.so"
	[ -f "$LEAKHUNT_PRELOAD" ] || make -C "$LH_TOP" -s build/libleakhunt.so >/dev/null
fi
cc -O2 -g -o "$T/leaky" "$LH_TOP/test/programs/leaky.c" || fail build "cc failed"
expect() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "got '$2', expected '$3'"; fi; }
# sum of the folded lines whose stack contains $1 (all lines when empty)
fsum() { awk -v f="$1" 'f == "" || index($0, f) { s += $NF } END { print s + 0 }' "$2"; }

timeout 60 "$LEAKHUNT" record -o "$T/lh" -- "$T/leaky" >/dev/null 2>&1 || fail record "leakhunt record failed"
(cd "$T" && timeout 120 heaptrack -o "$T/ht" ./leaky >"$T/ht.log" 2>&1) || fail heaptrack "heaptrack failed: $(tail -3 "$T/ht.log")"
ht="$T/ht.zst"
[ -f "$ht" ] || ht=$(ls "$T"/ht*.zst 2>/dev/null | head -1)
if [ -z "$ht" ]; then
	fail heaptrack-trace "no heaptrack trace in $T"
	exit 0
fi
heaptrack_print -f "$ht" -l 1 -F "$T/ht.peak" --flamegraph-cost-type peak >"$T/ht.txt" 2>/dev/null
heaptrack_print -f "$ht" -F "$T/ht.leaked" --flamegraph-cost-type leaked >/dev/null 2>&1
"$LEAKHUNT" report --json "$T/lh.lht" >"$T/lh.json"
"$LEAKHUNT" report --folded=leaked "$T/lh.lht" >"$T/lh.leaked"
js() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$T/lh.json"; }
ht_num() { sed -n "s/^$1: \([0-9]*\).*/\1/p" "$T/ht.txt"; }

ht_calls=$(ht_num 'calls to allocation functions')
ht_temp=$(ht_num 'temporary memory allocations')
lh_calls=$(js 'd["summary"]["calls"]')
lh_temp=$(js 'd["summary"]["temporary"]')
expect calls-plus-pool "$ht_calls" "$((lh_calls + 1))"
expect peak-plus-pool "$(fsum '' "$T/ht.peak")" "$(($(js 'd["summary"]["peak_bytes"]') + 72704))"
expect leaked-total "$(fsum '' "$T/ht.leaked")" "$(js 'd["summary"]["leaked_bytes"]')"
for site in leak_small leak_page leak_realloc leak_calloc; do
	expect "leaked-$site" "$(fsum "$site" "$T/ht.leaked")" "$(fsum "$site" "$T/lh.leaked")"
done
if [ -n "$ht_temp" ] && [ "$ht_temp" -ge "$lh_temp" ] && [ "$ht_temp" -le $((lh_temp + 2)) ]; then
	ok "temporary-overcount ($lh_temp exact, heaptrack_print $ht_temp)"
else
	fail temporary-overcount "heaptrack_print '$ht_temp', leakhunt '$lh_temp': expected ours <= theirs <= ours + 2"
fi
check heaptrack-leaked-text grep -q '^total memory leaked: 1.16M' "$T/ht.txt"
