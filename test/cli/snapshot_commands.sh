#!/usr/bin/env bash
# End-to-end: the heap snapshot commands on real snapshots of a real leaky Node
# program (demo/leaky-server.js), whose leak we know exactly: every request
# leaves one Order with 3 LineItems in a cache Map and one listener closure.
. "$(dirname "$0")/lib.sh"
N=2000
node "$LH_TOP/demo/leaky-server.js" "$T" $N >/dev/null || { fail setup "node could not write the snapshots"; exit 0; }
A=$T/before.heapsnapshot
B=$T/after.heapsnapshot

# jq-like checks with node: js EXPR FILE -> prints the value of EXPR over the JSON in FILE (as j)
js() {
	local body=$1
	case "$body" in *return*) ;; *) body="return ($body)" ;; esac
	node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); const v=(()=>{'"$body"'})(); console.log(typeof v==="object"?JSON.stringify(v):v)' "$2"
}
expect_eq() { # NAME GOT WANT
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "got '$2', want '$3'"; fi
}

for c in summary diff paths objects stats; do
	run_ok "$c-help" "$LEAKHUNT" "$c" --help && check "$c-help-text" grep -q "^usage: leakhunt $c" "$T/out"
done
# an option value the command cannot take is a usage error, exit status 2,
# as in report, record and watch (summary, diff, paths and objects gave 1)
for args in "summary --top x $B" "summary --sort bogus $B" "diff --filter [ $A $B" "paths --max-visits -1 $B Order" \
	"objects --top x $B"; do
	# shellcheck disable=SC2086 # the command's words
	"$LEAKHUNT" $args >/dev/null 2>&1
	rc=$?
	check "usage-status-${args%% *}-$(echo "$args" | cut -d' ' -f2)" test "$rc" = 2
done
# every command's --help fits an 80-column terminal and names -h, --help and
# -v, --verbose, which every command takes (record's, report's and sample's
# ran to 86 columns; snapshot, watch and sample did not list --help)
for c in summary diff paths objects record report snapshot watch sample core stats; do
	"$LEAKHUNT" "$c" --help >"$T/help.$c" 2>&1
	check "$c-help-width" awk 'length($0) > 80 { exit 1 }' "$T/help.$c"
	check "$c-help-lists-help" grep -q "^  -h, --help  " "$T/help.$c"
	check "$c-help-lists-verbose" grep -q "^  -v, --verbose  " "$T/help.$c"
	run_ok "$c-verbose-accepted" "$LEAKHUNT" "$c" --verbose --help
	# 'leakhunt help CMD' printed the command list, not CMD's help
	"$LEAKHUNT" help "$c" >"$T/help2.$c" 2>&1
	check "$c-help-command" cmp -s "$T/help.$c" "$T/help2.$c"
done
# getopt's own complaints name the command as our own usage errors do
# ("leakhunt VERB: ..."), exit status 2, in every command: an unknown
# option, and an option without its argument (the last option given)
for c in summary:--top diff:--top paths:--max objects:--top stats: snapshot:-o watch:-o sample:-o \
	record:-o report:--top core:-o; do
	opt=${c#*:} c=${c%%:*}
	run_fail "$c-unknown-option" "^leakhunt $c: unrecognized option '--bogus'" "$LEAKHUNT" "$c" --bogus
	"$LEAKHUNT" "$c" --bogus >/dev/null 2>&1
	check "$c-unknown-option-status" test $? = 2
	[ -n "$opt" ] || continue
	run_fail "$c-missing-argument" "^leakhunt $c: option (requires an argument -- '${opt#-}'|'$opt' requires an argument)" \
		"$LEAKHUNT" "$c" "$opt"
done
# every usage error (exit status 2) has one form, "leakhunt VERB: ...", as
# getopt's: record's and report's option values said "error: --sample
# '1.5': ...", and report's --filter was found late (status 1).  None needs
# a file to read or a process: the options are checked first.
lht=$T/none.lht
for args in "summary --top x $B" "summary --sort bogus $B" "diff --filter [ $A $B" "diff --binary x $A $B" \
	"paths -n 0 $B Order" "paths --max-visits -1 $B Order" "objects --top x $B" "objects --print 1 --refs 2 $B" \
	"stats" "snapshot --port x" "snapshot --method x 1" "watch --interval 1ms 1" "watch --keep 3 1" \
	"sample --duration x 1" "sample --timeout x 1" "core x" "record --sample 1.5 -- true" "record -p x" \
	"record --depth 0 -- true" "record --unwind x -- true" "record --duration 1 -- true" "record -p 1 -- true" \
	"report --top x $lht" "report --at soon $lht" "report --sort nope $lht" "report --filter ( $lht" \
	"report --suppressions /nonexistent.supp $lht" "report --json --folded $lht" "report --cost peak $lht"; do
	verb=${args%% *}
	name="usage-form-$verb-$(echo "$args" | cut -d' ' -f2,3 | tr -cd 'a-z0-9. ' | tr ' ' -)"
	# shellcheck disable=SC2086 # the command's words
	"$LEAKHUNT" $args >/dev/null 2>"$T/err"
	rc=$?
	check "$name-status" test "$rc" = 2
	check "$name" grep -q "^leakhunt $verb: " "$T/err"
	check "$name-one-form" sh -c "! grep -q '^error: ' '$T/err'"
done
run_fail unknown-command "did you mean 'summary'" "$LEAKHUNT" sumary x
run_fail missing-file "cannot open '.*nope.heapsnapshot'" "$LEAKHUNT" summary "$T/nope.heapsnapshot"
run_fail directory "is a directory" "$LEAKHUNT" stats "$T"
run_fail summary-no-args "give exactly one snapshot" "$LEAKHUNT" summary
run_fail bad-top "--top needs a whole number" "$LEAKHUNT" summary --top x "$A"

# summary
run_ok summary-json "$LEAKHUNT" summary --json --all "$B" && cp "$T/out" "$T/summary.json"
expect_eq summary-format "$(js 'j.format' "$T/summary.json")" "leakhunt.summary/1"
expect_eq summary-order-count "$(js 'j.classes.find(c=>c.name==="Order").count' "$T/summary.json")" $((2 * N))
expect_eq summary-lineitem-count "$(js 'j.classes.find(c=>c.name==="LineItem").count' "$T/summary.json")" $((6 * N))
expect_eq summary-fields "$(js 'Object.keys(j.classes[0]).join(",")' "$T/summary.json")" "name,key,count,shallow_size,retained_size,distance"
expect_eq summary-sorted "$(js 'j.classes.every((c,i)=>i==0||j.classes[i-1].retained_size>=c.retained_size)' "$T/summary.json")" true
expect_eq summary-order-key "$(js '/^\d+,\d+,\d+,Order$/.test(j.classes.find(c=>c.name==="Order").key)' "$T/summary.json")" true
run_ok summary-text "$LEAKHUNT" summary --top 5 "$B"
check summary-text-header grep -q "Retained size" "$T/out"
check summary-text-more grep -q "more classes" "$T/out"
run_ok summary-filter "$LEAKHUNT" summary --json --filter '^(Order|LineItem)$' "$B"
expect_eq summary-filter-rows "$(js 'j.classes.map(c=>c.name).sort().join(",")' "$T/out")" "LineItem,Order"
run_ok summary-objects "$LEAKHUNT" summary --json --objects Order --top 3 "$B"
expect_eq summary-objects-count "$(js 'j.count+"/"+j.instances.length' "$T/out")" "$((2 * N))/3"
expect_eq summary-objects-sorted "$(js 'j.instances[0].retained_size>=j.instances[2].retained_size' "$T/out")" true

# diff: exactly N new Orders, 3N new LineItems, none deleted
run_ok diff-json "$LEAKHUNT" diff --json --all "$A" "$B" && cp "$T/out" "$T/diff.json"
expect_eq diff-format "$(js 'j.format' "$T/diff.json")" "leakhunt.diff/1"
expect_eq diff-order "$(js 'const r=j.classes.find(c=>c.name==="Order"); return [r.new_count,r.deleted_count,r.count_delta].join(",")' "$T/diff.json")" "$N,0,$N"
expect_eq diff-lineitem "$(js 'const r=j.classes.find(c=>c.name==="LineItem"); return [r.new_count,r.deleted_count].join(",")' "$T/diff.json")" "$((3 * N)),0"
expect_eq diff-fields "$(js 'Object.keys(j.classes[0]).join(",")' "$T/diff.json")" "name,key,new_count,deleted_count,count_delta,alloc_size,freed_size,size_delta"
expect_eq diff-arith "$(js 'j.classes.every(c=>c.count_delta===c.new_count-c.deleted_count&&c.size_delta===c.alloc_size-c.freed_size)' "$T/diff.json")" true
run_ok diff-new-only "$LEAKHUNT" diff --json --new-only Order --top 2 "$A" "$B"
expect_eq diff-new-only-count "$(js 'j.count' "$T/out")" "$N"
run_ok diff-self "$LEAKHUNT" diff --json "$B" "$B"
expect_eq diff-self-empty "$(js 'j.classes.length' "$T/out")" 0

# paths: an Order is held by the cache Map
run_ok paths-class "$LEAKHUNT" paths --json "$B" Order
expect_eq paths-found "$(js 'j.paths.length>0' "$T/out")" true
expect_eq paths-ends-at-target "$(js 'j.paths.every(p=>p[p.length-1].to_id===j.id)' "$T/out")" true
expect_eq paths-chained "$(js 'j.paths.every(p=>p.every((h,i)=>i==0||p[i-1].to_id===h.from_id))' "$T/out")" true
expect_eq paths-through-map "$(js 'j.paths.some(p=>p.some(h=>/^Map @/.test(h.from)))' "$T/out")" true
expect_eq paths-shortest-first "$(js 'j.paths.every((p,i)=>i==0||j.paths[i-1].length<=p.length)' "$T/out")" true
id=$(js 'j.id' "$T/out")
run_ok paths-id "$LEAKHUNT" paths "$B" "@$id"
check paths-id-text grep -q "^path 1" "$T/out"
run_fail paths-bad-id "no object with id @4294967295" "$LEAKHUNT" paths "$B" @4294967295
# a string label is cut at 40 bytes, but not inside a UTF-8 character
node -e 'globalThis.h = {s: "a\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"};
	require("v8").writeHeapSnapshot(process.argv[1])' "$T/utf8.heapsnapshot"
if run_ok utf8-labels "$LEAKHUNT" summary --objects "(string)" --all "$T/utf8.heapsnapshot"; then
	check utf8-labels-cut grep -q '"a\(é\)\{19\}\.\.\."' "$T/out"
	check utf8-labels-valid iconv -f UTF-8 -t UTF-8 "$T/out" -o /dev/null
fi
# names in the tables read back to one name each: a backslash is escaped (a
# class named with the four characters \x01 read as one named with the byte
# 0x01), and C1 controls (U+0085, U+009B: CSI to some terminals) as \uNNNN;
# every row still lines up, and --json keeps the names as they are
node -e 'const dir = process.argv[1], v8 = require("v8");
	v8.writeHeapSnapshot(dir + "/names-a.heapsnapshot");
	/* a class of its own source each: classes made at one site share a name */
	const mk = n => new Function("return {" + JSON.stringify(n) + ": class {}}[" + JSON.stringify(n) + "]")();
	const names = ["Esc\\x01", "Esc\x01", "Nel\u0085", "Csi\u009b31m", "Back\\slash", "\u00dcmlaut\u0080",
		"\u6f22\u5b57", "e\u0301x"];
	globalThis.keep = names.flatMap((n, i) => { const C = mk(n); return Array.from({length: 1000 + i}, () => new C()); });
	v8.writeHeapSnapshot(dir + "/names-b.heapsnapshot")' "$T"
# the rows of names, in order, then whether every line puts column COL at the
# header's place (COL 0: every line as wide as the header), in the columns a
# terminal shows (a CJK character takes two, a combining mark none)
table_names() {
	python3 -c '
import sys, unicodedata
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
col = sys.argv[2]
cw = lambda c: 0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
w = lambda l: sum(map(cw, l))
def idx(l, c): # the index of the character at column c of l
	for i in range(len(l) + 1):
		if w(l[:i]) >= c: return i
h = next(i for i, l in enumerate(lines) if l.startswith(("Class ", "Count ")))
rows = [l for l in lines[h + 1:] if l and not l.startswith("... ")]
at = lambda l: w(l) if col == "0" else w(l[:l.index(col)])
keys = ("Esc", "Nel", "Csi", "Back", "mlaut", "\u6f22", "e\u0301")
print(" ".join(r.split("  ")[0] if col == "0" else r[idx(r, at(lines[h])):] for r in rows if any(k in r for k in keys)))
print(all(at(r) == at(lines[h]) for r in rows) if col == "0" else
	all(r[idx(r, at(lines[h])) - 2:idx(r, at(lines[h]))] == "  " and r[idx(r, at(lines[h]))] != " " and
	    w(r[:idx(r, at(lines[h]))]) == at(lines[h]) for r in rows))' "$@"
}
names_want='éx 漢字 Ümlaut\u0080 Back\\slash Csi\u009b31m Nel\u0085 Esc\x01 Esc\\x01'
if run_ok names-summary "$LEAKHUNT" summary --all "$T/names-b.heapsnapshot"; then
	expect_eq names-summary-escaped "$(table_names "$T/out" 0)" "$names_want
True"
fi
if run_ok names-diff "$LEAKHUNT" diff --all "$T/names-a.heapsnapshot" "$T/names-b.heapsnapshot"; then
	expect_eq names-diff-escaped "$(table_names "$T/out" 0)" "$names_want
True"
fi
if run_ok names-objects "$LEAKHUNT" objects --all "$T/names-b.heapsnapshot"; then
	expect_eq names-objects-escaped "$(table_names "$T/out" Constructor)" "$names_want
True"
fi
run_ok names-json "$LEAKHUNT" summary --json --all "$T/names-b.heapsnapshot" &&
	expect_eq names-json-raw "$(js 'return JSON.stringify(j.classes.filter(c=>c.count>=1000&&c.count<1006).map(c=>c.name)) ===
		JSON.stringify(["\u00dcmlaut\u0080","Back\\slash","Csi\u009b31m","Nel\u0085","Esc\x01","Esc\\x01"])' "$T/out")" true
# names outside the tables are escaped as in them (paths sent a raw U+0085,
# which some terminals take for a control, and raw escape sequences)
nel=$(printf 'Nel\302\205')
if run_ok names-paths "$LEAKHUNT" paths "$T/names-b.heapsnapshot" "$nel"; then
	check names-paths-escaped grep -q '^Nel\\u0085 @[0-9]*: retained' "$T/out"
	check names-paths-hop-escaped grep -q -- '--> Nel\\u0085 @[0-9]*$' "$T/out"
	check names-paths-no-c1 sh -c "! grep -q '$nel' '$T/out'"
fi
if run_ok names-instances "$LEAKHUNT" summary --objects "$nel" --top 2 "$T/names-b.heapsnapshot"; then
	check names-instances-escaped grep -q ': 1002 instances of Nel\\u0085$' "$T/out"
	check names-instances-no-c1 sh -c "! grep -q '$nel' '$T/out'"
fi
run_ok names-paths-json "$LEAKHUNT" paths --json "$T/names-b.heapsnapshot" "$nel" &&
	expect_eq names-paths-json-raw "$(js '/^Nel\u0085 @\d+$/.test(j.name)' "$T/out")" true
# output that does not reach stdout (a full disk) fails the command: it said
# nothing and exited 0
for c in summary stats; do
	run_fail "$c-stdout-full" "cannot write the output" sh -c '"$@" >/dev/full' sh "$LEAKHUNT" "$c" "$B"
done
# -n 0 asked for nothing and was told the object is unreachable
run_fail paths-max-zero "--max needs at least 1" "$LEAKHUNT" paths -n 0 "$B" Order
# a search cut short by --max-visits is not an unreachable object
run_ok paths-visits-short "$LEAKHUNT" paths --max-visits 2 "$B" Order
check paths-visits-short-said grep -q "before the search stopped" "$T/out"
check paths-visits-short-not-unreachable sh -c "! grep -q unreachable '$T/out'"
run_ok paths-visits-short-json "$LEAKHUNT" paths --json --max-visits 2 "$B" Order
expect_eq paths-visits-short-truncated "$(js 'j.truncated+","+j.paths.length' "$T/out")" "true,0"

# objects: the Order shape is one group (its Smi field "id" has no edge in a
# heap snapshot, so it is not listed: docs/objects.md)
run_ok objects-json "$LEAKHUNT" objects --json --all "$B" && cp "$T/out" "$T/objects.json"
expect_eq objects-order "$(js 'const g=j.groups.find(g=>g.constructor==="Order"); return g.count+":"+g.properties.join(",")' "$T/objects.json")" "$((2 * N)):user,items,createdAt"
expect_eq objects-sorted "$(js 'j.groups.every((g,i)=>i==0||j.groups[i-1].count>=g.count)' "$T/objects.json")" true
run_ok objects-refs "$LEAKHUNT" objects --json --refs "@$id" "$B"
expect_eq objects-refs-some "$(js 'j.refs.length>0' "$T/out")" true

# stats: counts agree with the file's own header
run_ok stats-json "$LEAKHUNT" stats --json "$B"
expect_eq stats-nodes "$(js 'j.node_count' "$T/out")" "$(head -c 2000 "$B" | grep -o '"node_count":[0-9]*' | cut -d: -f2)"
# the Statistics total is the Summary's heap total plus memory outside the JS heap
expect_eq stats-total-matches-summary "$(js 'return j.statistics.total - j.extra_native_bytes' "$T/out")" "$(js 'j.total_size' "$T/summary.json")"
