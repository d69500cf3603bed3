#!/usr/bin/env bash
# leakhunt report on C programs with exactly known heap behaviour
# (test/programs/leaky.c, phases.c, threads.c, built here with cc): every
# number exact per site, every view, every export, suppressions, damage.
# Under the sanitizer build the CLI is sanitized but the preload never is.
. "$LH_TOP/test/cli/lib.sh"

P="$LH_TOP/test/programs"
if [ ! -f "$(dirname "$LEAKHUNT")/libleakhunt.so" ]; then
	export LEAKHUNT_PRELOAD="$LH_TOP/build/libleakhunt.so"
	[ -f "$LEAKHUNT_PRELOAD" ] || make -C "$LH_TOP" -s build/libleakhunt.so >/dev/null
fi
for prog in leaky phases threads mutual; do
	cc -O2 -g -pthread -o "$T/$prog" "$P/$prog.c" || fail "build-$prog" "cc failed"
done
rec() { timeout 60 "$LEAKHUNT" record "$@" >/dev/null 2>"$T/rec.err"; }
R() { "$LEAKHUNT" report "$@"; }
# js EXPR FILE: evaluate a python expression over the JSON document d
js() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$2"; }
# expect NAME GOT WANT
expect() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "got '$2', expected '$3'"; fi; }

rec -o "$T/leaky" -- "$T/leaky" || fail record-leaky "$(cat "$T/rec.err")"
rec -o "$T/ph5" -- "$T/phases" 5 || fail record-phases "$(cat "$T/rec.err")"
rec -o "$T/ph8" -- "$T/phases" 8 || fail record-phases8 "$(cat "$T/rec.err")"
rec -o "$T/th" -- "$T/threads" 8 || fail record-threads "$(cat "$T/rec.err")"
L="$T/leaky.lht"

# --- 1. summary, exact (leaky.c's header comment derives every number)
if run_ok json "$LEAKHUNT" report --json "$L"; then
	cp "$T/out" "$T/leaky.json"
	expect summary-calls "$(js 'd["summary"]["calls"]' "$T/leaky.json")" 2114
	expect summary-temporary "$(js 'd["summary"]["temporary"]' "$T/leaky.json")" 1002
	expect summary-peak "$(js 'd["summary"]["peak_bytes"]' "$T/leaky.json")" 7564667
	expect summary-leaked-bytes "$(js 'd["summary"]["leaked_bytes"]' "$T/leaky.json")" 1164667
	expect summary-leaked-blocks "$(js 'd["summary"]["leaked_blocks"]' "$T/leaky.json")" 1048
	expect summary-format "$(js 'd["format"]' "$T/leaky.json")" 1
	expect summary-complete "$(js 'd["summary"]["complete"]' "$T/leaky.json")" True
	# each leak: bytes, blocks, stack innermost first with "function"
	expect leaks-per-site "$(js '" ".join("%s:%d:%d" % (l["stack"][0]["function"], l["bytes"], l["blocks"]) for l in d["leaks"])' "$T/leaky.json")" \
		"leak_small:1000000:1000 leak_page:151552:37 leak_realloc:12345:1 leak_calloc:770:10"
	expect leaks-stack-outward "$(js 'd["leaks"][0]["stack"][1]["function"]' "$T/leaky.json")" main
	expect leaks-file-line "$(js 'd["leaks"][0]["stack"][0]["file"].endswith("leaky.c") and d["leaks"][0]["stack"][0]["line"] > 0' "$T/leaky.json")" True
	# per site: calls, temporaries, peak contribution
	site() { js "[s for s in d['sites'] if s['function'] == '$1'][0]['$2']" "$T/leaky.json"; }
	expect site-temporaries-calls "$(site temporaries calls)" 1000
	expect site-temporaries-temporary "$(site temporaries temporary)" 1000
	expect site-realloc-temporary "$(site leak_realloc temporary)" 2
	expect site-hump-peak "$(site hump peak_bytes)" 6400000
	expect site-leak-small-peak "$(site leak_small peak_bytes)" 1000000
	expect site-peak-sum "$(js 'sum(s["peak_bytes"] for s in d["sites"])' "$T/leaky.json")" 7564667
	expect histogram "$(js '" ".join("%d:%d" % (h["size"], h["count"]) for h in d["histogram"])' "$T/leaky.json")" \
		"64:1000 77:10 100:1 1000:1000 4096:37 5000:1 12345:1 100000:64"
fi
if run_ok text "$LEAKHUNT" report "$L"; then
	check text-calls grep -qx 'calls to allocation functions: 2114 .*' "$T/out"
	check text-peak grep -q '^peak heap memory consumption: 7564667 B' "$T/out"
	check text-leaked grep -qx 'total memory leaked: 1164667 B (1.16 MB) in 1048 blocks' "$T/out"
	check text-four-lists test "$(grep -c '^top allocation sites by' "$T/out")" = 4
	# the hint only where --top hid a site: 6 sites, at most 6 with a nonzero cost each
	check text-no-more-hint test "$(grep -c 'top N shows more' "$T/out")" = 0
fi

# --- 2. views
if run_ok sort-leaked "$LEAKHUNT" report --sort leaked --top 2 "$L"; then
	check sort-leaked-order test "$(awk '/^Function/ { on = 1; next } on && /^[a-z]/ { print $1 }' "$T/out" | tr '\n' ' ')" = "leak_small leak_page "
fi
if run_ok bottom-up "$LEAKHUNT" report --bottom-up --sort leaked "$L"; then
	check bottom-up-root grep -qx '1000000 leak_small .*' "$T/out"
	check bottom-up-caller grep -qx '  1000000 main .*' "$T/out"
fi
if run_ok top-down "$LEAKHUNT" report --top-down "$L"; then
	check top-down-root grep -qx '7564667 main .*' "$T/out"
	check top-down-child grep -qx '  6400000 hump .*' "$T/out"
fi
if run_ok function "$LEAKHUNT" report --function main --sort calls "$L"; then
	check function-callees grep -qE '^leak_small +1000 ' "$T/out"
	check function-root-caller grep -qE '^\[root\] +2114 ' "$T/out"
fi
# recursion (main -> ping -> pong -> ping -> ... -> pong): every occurrence
# has its caller and callee, as in heaptrack_gui; the innermost one alone lost
# ping's caller main and pong's callee ping
rec -o "$T/mutual" -- "$T/mutual" 4 || fail record-mutual "$(cat "$T/rec.err")"
if run_ok function-recursive "$LEAKHUNT" report --function ping "$T/mutual.lht"; then
	expect function-recursive-callers "$(sed -n '/^callers:/,/^$/p' "$T/out" | awk '$2 == 1 { print $1 }' | sort | tr '\n' ' ')" "main pong "
fi
if run_ok function-recursive-callees "$LEAKHUNT" report --function pong "$T/mutual.lht"; then
	expect function-recursive-callees-list "$(sed -n '/^callees:/,$p' "$T/out" | awk '$2 == 1 { print $1 }' | sort | tr '\n' ' ')" "[self] ping "
	check function-recursive-inclusive-once grep -qE '^pong +1 +0 +1000 ' "$T/out"
fi
# three different functions named helper (two statics of the program in two
# files, one in a library): three sites, as heaptrack has them; the name
# alone made them one of 22 blocks
cc -O2 -g -shared -fPIC -o "$T/libsamename.so" "$P/samename_lib.c" &&
	cc -O2 -g -o "$T/samename" "$P/samename.c" "$P/samename_b.c" -L"$T" -lsamename -Wl,-rpath,"$T" ||
	fail build-samename "cc failed"
rec -o "$T/samename" -- "$T/samename" || fail record-samename "$(cat "$T/rec.err")"
if run_ok same-name-apart "$LEAKHUNT" report --json "$T/samename.lht"; then
	expect same-name-sites "$(js '" ".join(sorted("%s=%d" % (s["function"].replace(" ", "_"), s["leaked_blocks"]) for s in d["sites"]))' "$T/out")" \
		"helper_(libsamename.so)=10 helper_(samename,_samename.c)=5 helper_(samename,_samename_b.c)=7"
fi
run_ok same-name-function "$LEAKHUNT" report --function 'helper (libsamename.so)' "$T/samename.lht" &&
	check same-name-function-inclusive grep -qE '^helper \(libsamename.so\) +10 +0 +3330 ' "$T/out"
run_ok same-name-ambiguous "$LEAKHUNT" report --function helper "$T/samename.lht" &&
	check same-name-ambiguous-said grep -q "more than one function is named so; give one of: .*'helper (libsamename.so)'" "$T/out"
# --filter and suppressions take the program's name of it too
run_ok same-name-filter "$LEAKHUNT" report --json --filter '^helper$' "$T/samename.lht" &&
	expect same-name-filter-all "$(js 'sum(s["leaked_blocks"] for s in d["sites"])' "$T/out")" 22
# --diff against a run where the library's helper does not allocate: the
# program's two helpers are the same sites in both (one trace named them
# 'helper (samename, samename.c)', the other 'helper (samename.c)': each
# was a site removed and another added)
rec -o "$T/samename-nolib" -- "$T/samename" nolib || fail record-samename-nolib "$(cat "$T/rec.err")"
if run_ok same-name-diff "$LEAKHUNT" report --diff --json "$T/samename.lht" "$T/samename-nolib.lht"; then
	expect same-name-diff-sites "$(js '" ".join(sorted("%s=%d" % (s["function"].replace(" ", "_"), s["new"]["leaked_blocks"] - s["old"]["leaked_blocks"]) for s in d["sites"]))' "$T/out")" \
		"helper_(libsamename.so)=-10 helper_(samename,_samename.c)=0 helper_(samename,_samename_b.c)=0"
fi
printf 'leak:helper\n' >"$T/samename.supp"
run_ok same-name-suppressed "$LEAKHUNT" report --json --suppressions "$T/samename.supp" "$T/samename.lht" &&
	expect same-name-suppressed-all "$(js 'd["summary"]["leaked_blocks"]' "$T/out")" 0
# two helpers in two files named util.c: two sites, each shown with its
# file's path (by the last part both were 'helper (util.c)', one site)
mkdir -p "$T/one" "$T/two"
cp "$P/samename_b.c" "$T/one/util.c" && cp "$P/samename_b.c" "$T/two/util.c" &&
	(cd "$T" && cc -O2 -g -c -o one.o one/util.c && cc -O2 -g -Dhelper_b=helper_c -c -o two.o two/util.c &&
		cc -O2 -g -o samefile "$P/samefile.c" one.o two.o) || fail build-samefile "cc failed"
rec -o "$T/samefile" -- "$T/samefile" || fail record-samefile "$(cat "$T/rec.err")"
if run_ok same-file-apart "$LEAKHUNT" report --json "$T/samefile.lht"; then
	expect same-file-sites "$(js '" ".join(sorted("%s=%d" % (s["function"].replace(" ", "_"), s["leaked_blocks"]) for s in d["sites"]))' "$T/out")" \
		"helper_(one/util.c)=3 helper_(two/util.c)=4"
fi
run_ok histogram-text "$LEAKHUNT" report --histogram "$L" && check histogram-bucket grep -qE '^ *64-127 +1011 ' "$T/out"

# --- 3. --at: phase A holds 10 x 1,000,000 B for 400 ms, phase B leaks 5 x 200,000 B
P5="$T/ph5.lht"
if run_ok at-time "$LEAKHUNT" report --json --at 0.2 "$P5"; then
	expect at-time-bytes "$(js 'd["at"]["bytes"]' "$T/out")" 10000000
	expect at-time-site "$(js 'd["at"]["sites"][0]["function"] + ":" + str(d["at"]["sites"][0]["blocks"])' "$T/out")" phase_a:10
	# ms is the sample the state was taken at, no earlier than the moment asked for
	expect at-time-requested "$(js 'str(d["at"]["requested_ms"]) + ":" + str(200 <= d["at"]["ms"] < 400)' "$T/out")" 200:True
fi
if run_ok at-later "$LEAKHUNT" report --at 600ms "$P5"; then
	check at-later-bytes grep -q '^live heap at .*: 1000000 B in 5 blocks' "$T/out"
fi
if run_ok at-peak "$LEAKHUNT" report --at peak "$P5"; then
	check at-peak-bytes grep -q '^live heap at the peak, .*: 10000000 B in 10 blocks' "$T/out"
fi
if run_ok timeline "$LEAKHUNT" report --timeline "$P5"; then
	check timeline-chart grep -qE '^ *10.0 MB \| *#+' "$T/out"
	R --json "$P5" >"$T/ph.json"
	# the heap series: 10 MB for a while, then 1 MB; calls and temporaries end at the totals
	expect timeline-heap-levels "$(js '" ".join(sorted(set(str(p["heap"]) for p in d["timeline"] if p["heap"] in (10000000, 1000000))))' "$T/ph.json")" "1000000 10000000"
	expect timeline-last "$(js '"%d/%d" % (d["timeline"][-1]["calls"], d["timeline"][-1]["temporary"])' "$T/ph.json")" 115/100
	expect phases-peak "$(js 'd["summary"]["peak_bytes"]' "$T/ph.json")" 10000000
fi
# --top bigger than the timeline: every point once, at once (each row
# number up to --top was tried: 10^10 ran for minutes)
if run_ok timeline-huge-top timeout 20 "$LEAKHUNT" report --timeline --top 18446744073709551615 "$P5"; then
	expect timeline-huge-top-rows "$(awk '/^ *Time /{ on = 1; next } on && NF' "$T/out" | wc -l)" "$(js 'len(d["timeline"])' "$T/ph.json")"
fi

# --- 4. --diff: phases 8 leaks 3 more blocks of 200,000 B from the same site
if run_ok diff "$LEAKHUNT" report --diff --json "$P5" "$T/ph8.lht"; then
	expect diff-site "$(js '[(s["new"]["leaked_bytes"] - s["old"]["leaked_bytes"], s["new"]["leaked_blocks"] - s["old"]["leaked_blocks"]) for s in d["sites"] if s["new"]["leaked_bytes"] != s["old"]["leaked_bytes"]]' "$T/out")" "[(600000, 3)]"
fi
run_ok diff-text "$LEAKHUNT" report --diff "$P5" "$T/ph8.lht" && check diff-text-row grep -qE '\+600000 +\+3 ' "$T/out"
# --diff has no other view or export: they were ignored (--speedscope wrote no file)
run_fail diff-speedscope 'diff shows the change per site' "$LEAKHUNT" report --diff --speedscope "$T/d.json" "$P5" "$T/ph8.lht"
check diff-speedscope-no-file test ! -e "$T/d.json"
run_fail diff-leaks 'diff shows the change per site' "$LEAKHUNT" report --diff --leaks "$P5" "$T/ph8.lht"

# --- 5. exports
if run_ok folded "$LEAKHUNT" report --folded=leaked "$L"; then
	expect folded-sum "$(awk '{ s += $NF } END { print s }' "$T/out")" 1164667
	check folded-root-first grep -qx 'main;leak_small 1000000' "$T/out"
fi
run_ok folded-peak "$LEAKHUNT" report --folded=peak "$L" && expect folded-peak-sum "$(awk '{ s += $NF } END { print s }' "$T/out")" 7564667
run_ok folded-temporary "$LEAKHUNT" report --folded=temporary "$L" && expect folded-temporary-sum "$(awk '{ s += $NF } END { print s }' "$T/out")" 1002
run_ok folded-cost "$LEAKHUNT" report --folded --cost peak "$L" && expect folded-cost-sum "$(awk '{ s += $NF } END { print s }' "$T/out")" 7564667
run_fail cost-alone 'cost of --folded' "$LEAKHUNT" report --cost peak "$L"
if run_ok folded-calls "$LEAKHUNT" report --folded "$L"; then
	expect folded-calls-sum "$(awk '{ s += $NF } END { print s }' "$T/out")" 2114
	# leak_realloc's three call sites are three stacks and one line
	expect folded-one-line-per-stack "$(awk '{ $NF = ""; print }' "$T/out" | sort | uniq -d)" ""
	check folded-merged grep -qx 'main;leak_realloc 3' "$T/out"
fi
# an export on stdout is all of it: what it cannot show is refused, not
# dropped (--json --folded printed the JSON alone)
run_fail json-and-folded '--json and --folded both print to stdout: pick one' "$LEAKHUNT" report --json --folded "$L"
run_fail folded-and-leaks '--folded prints only folded stacks' "$LEAKHUNT" report --folded=leaked --leaks "$L"
run_fail json-and-function '--json has no trees and no --function view' "$LEAKHUNT" report --json --function main "$L"
run_ok json-and-leaks "$LEAKHUNT" report --json --leaks --timeline "$L" &&
	expect json-and-leaks-kept "$(js 'len(d["leaks"])' "$T/out")" 4
if run_ok speedscope "$LEAKHUNT" report --speedscope "$T/s.json" "$L"; then
	expect speedscope-leaked "$(js '[sum(p["weights"]) for p in d["profiles"] if p["name"] == "memory leaked"][0]' "$T/s.json")" 1164667
	expect speedscope-schema "$(js 'd["$schema"]' "$T/s.json")" https://www.speedscope.app/file-format-schema.json
	expect speedscope-frames-valid "$(js 'all(0 <= f < len(d["shared"]["frames"]) for p in d["profiles"] for s in p["samples"] for f in s)' "$T/s.json")" True
fi
# the export never overwrites a file, the trace itself least of all; a trace
# that cannot be read leaves no export behind
cp "$L" "$T/self.lht"
run_fail speedscope-over-trace "cannot write '.*/self.lht': the file exists; choose another name or remove it" \
	"$LEAKHUNT" report --speedscope "$T/self.lht" "$T/self.lht"
check speedscope-over-trace-kept cmp -s "$L" "$T/self.lht"
cp "$T/s.json" "$T/s-before.json"
run_fail speedscope-exists "cannot write '.*/s.json': the file exists" "$LEAKHUNT" report --speedscope "$T/s.json" --leaks "$L"
check speedscope-exists-kept cmp -s "$T/s.json" "$T/s-before.json"
run_fail speedscope-no-trace "cannot open '.*/no-such.lht'" "$LEAKHUNT" report --speedscope "$T/s-none.json" "$T/no-such.lht"
check speedscope-no-trace-no-file test ! -e "$T/s-none.json"

# --- 6. frames: inline, --filter, module+offset
if run_ok inline "$LEAKHUNT" report --sort leaked --json "$P5"; then
	expect inline-site "$(js 'd["leaks"][0]["stack"][0]["function"]' "$T/out")" inl_alloc
	# --no-inline names the function that holds the address; when the symbol
	# table lacks the containing function (see docs/report.md) it keeps the inline
	if [ "$(js 'd["leaks"][0]["stack"][1]["function"]' "$T/out")" = phase_b ]; then
		R --no-inline --json "$P5" >"$T/ni.json"
		expect no-inline-site "$(js 'd["leaks"][0]["stack"][0]["function"]' "$T/ni.json")" phase_b
	else
		ok "no-inline-site (skipped: the symbol table has no frame for inl_alloc's containing function)"
	fi
fi
if run_ok filter "$LEAKHUNT" report --filter '^leak_(small|page)$' --folded=leaked "$L"; then
	expect filter-lines "$(wc -l <"$T/out")" 2
fi
run_fail filter-bad 'bad --filter' "$LEAKHUNT" report --filter '(' "$L"
# --leaks is a view too: the filter keeps the same leaking stacks as "leaks" in --json
if run_ok filter-leaks "$LEAKHUNT" report --leaks --filter '^leak_(small|page)$' "$L"; then
	expect filter-leaks-stacks "$(grep -c ' leaked in ' "$T/out")" 2
	expect filter-leaks-sites "$(awk '/ leaked in /{getline; print $1}' "$T/out" | tr '\n' ' ')" "leak_small leak_page "
fi
strip -o "$T/leaky_stripped" "$T/leaky"
if rec -o "$T/stripped" -- "$T/leaky_stripped" && run_ok unresolved "$LEAKHUNT" report --leaks "$T/stripped.lht"; then
	check unresolved-module-offset grep -qE '^  leaky_stripped\+0x[0-9a-f]+$' "$T/out"
fi

# --- 1. suppressions: LeakSanitizer format, the built-in DTV one, totals shown
printf '# ours\nleak:leak_page\n\nleak:^leak_cal*oc$\nrace:ignored\n' >"$T/supp.txt"
if run_ok suppressions "$LEAKHUNT" report --json --suppressions "$T/supp.txt" "$L"; then
	expect supp-leaked "$(js '"%d/%d" % (d["summary"]["leaked_bytes"], d["summary"]["leaked_blocks"])' "$T/out")" 1012345/1001
	expect supp-suppressed "$(js '"%d/%d" % (d["summary"]["suppressed_bytes"], d["summary"]["suppressed_blocks"])' "$T/out")" 152322/47
fi
run_ok suppressions-text "$LEAKHUNT" report --suppressions "$T/supp.txt" "$L" &&
	check suppressions-text-line grep -qx 'suppressed leaks: 152322 B (152 kB) in 47 blocks' "$T/out"
printf 'not a suppression\n' >"$T/badsupp.txt"
run_fail suppressions-bad "line 1 is not 'kind:pattern'" "$LEAKHUNT" report --suppressions "$T/badsupp.txt" "$L"
if run_ok threads-dtv "$LEAKHUNT" report --json "$T/th.lht"; then
	# 8 threads leak 100 x 48 B each; glibc's DTV blocks are suppressed
	expect threads-leaked "$(js '"%d/%d" % (d["summary"]["leaked_bytes"], d["summary"]["leaked_blocks"])' "$T/out")" 38400/800
	R --json --no-builtin-suppressions "$T/th.lht" >"$T/raw.json"
	expect threads-dtv-counted "$(js 'd["summary"]["leaked_blocks"] > 800 and d["summary"]["suppressed_blocks"] == 0' "$T/raw.json")" True
fi

# --- 7. damage: cut, corrupted, not a trace, newer version
# cut inside the last chunk a program thread wrote: every chunk before it stays readable
python3 - "$T/th.lht" "$T/cut.lht" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
off, last = 32, None
while off + 8 <= len(data):
    n, tid = struct.unpack_from('<II', data, off)
    n &= 0x7fffffff  # format v2: bit 31 marks a compressed chunk
    if tid:
        last = (off, n)
    off += 8 + n
open(sys.argv[2], 'wb').write(data[:last[0] + 8 + last[1] // 2])
PY
if run_ok cut "$LEAKHUNT" report --json "$T/cut.lht"; then
	check cut-message grep -q 'is cut short: the trace ends inside a chunk at byte [0-9]*' "$T/err"
	expect cut-complete "$(js 'd["summary"]["complete"]' "$T/out")" False
	check cut-has-events test "$(js 'd["summary"]["calls"]' "$T/out")" -gt 0
fi
# an unknown record type in the middle: report up to there, say where
python3 - "$L" "$T/bad.lht" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], 'rb').read())
off = 32
while off + 8 <= len(data):
    n, tid = struct.unpack_from('<II', data, off)
    n &= 0x7fffffff  # format v2: bit 31 marks a compressed chunk
    if tid and n > 16:
        data[off + 8] = 0xee  # first record of the first program chunk
        break
    off += 8 + n
open(sys.argv[2], 'wb').write(data)
PY
if run_ok damaged "$LEAKHUNT" report "$T/bad.lht"; then
	check damaged-message grep -q 'unknown record type 0xee at byte' "$T/err"
fi
printf 'not a trace at all, just text\n' >"$T/text.lht"
run_fail not-a-trace "cannot read '.*text.lht': not a leakhunt trace" "$LEAKHUNT" report "$T/text.lht"
{ printf 'LEAKHUNT'; printf '\x63\x00\x00\x00\x20\x00\x00\x00'; head -c 16 /dev/zero; } >"$T/newer.lht"
run_fail newer-version 'version 99 is newer than this leakhunt reads' "$LEAKHUNT" report "$T/newer.lht"
{ printf 'LEAKHUNT'; printf '\x00\x00\x00\x00\x20\x00\x00\x00'; head -c 16 /dev/zero; } >"$T/version0.lht"
run_fail version-0 "cannot read '.*/version0.lht': damaged header: trace format version 0 does not exist \(versions are 1 to 3\)" \
	"$LEAKHUNT" report "$T/version0.lht"
head -c 20 "$L" >"$T/cut-header.lht"
run_fail cut-header "cannot read '.*/cut-header.lht': cut short inside its header \(20 of 32 bytes\)" \
	"$LEAKHUNT" report "$T/cut-header.lht"
run_fail missing-file "cannot .*no-such.lht" "$LEAKHUNT" report "$T/no-such.lht"
# a FIFO (or a device) is refused at once: opening it must not wait for a writer
mkfifo "$T/fifo.lht"
run_fail fifo "cannot read '.*/fifo.lht': not a regular file" timeout 10 "$LEAKHUNT" report "$T/fifo.lht"
run_fail bad-sort 'bad cost' "$LEAKHUNT" report --sort nope "$L"
run_fail bad-at 'bad --at' "$LEAKHUNT" report --at soon "$L"
# a time that is not a number of ms a uint64 holds: infinite, NaN, far too late
for at in 1e17 inf 1e20 nan -1 1e13ms; do
	run_fail "bad-at-range-$at" "bad --at '$at': not a time from 0 to 1000000000 seconds" "$LEAKHUNT" report --at "$at" "$L"
done
run_ok at-latest "$LEAKHUNT" report --at 1e9 "$L"

# --- sampled traces say so: their counts are estimates (record.sh checks them)
if rec --sample 65536 -o "$T/sampled" -- "$T/leaky"; then
	if run_ok sampled-json "$LEAKHUNT" report --json "$T/sampled.lht"; then
		expect sampled-mean "$(js 'd["sample_mean"]' "$T/out")" 65536
		expect sampled-estimate-at-least-recorded "$(js 'd["summary"]["calls"] >= d["summary"]["sampled_calls"] > 0' "$T/out")" True
	fi
	expect unsampled-mean "$(js 'd["sample_mean"]' "$T/leaky.json")" 0
	# the timeline's highest heap is the peak, even between two RSS samples
	expect timeline-max-is-peak "$(js 'max(p["heap_max"] for p in d["timeline"]) == d["summary"]["peak_bytes"]' "$T/leaky.json")" True
	expect unsampled-all-recorded "$(js 'd["summary"]["sampled_calls"] == d["summary"]["calls"]' "$T/leaky.json")" True
	run_ok sampled-text "$LEAKHUNT" report "$T/sampled.lht" && check sampled-notice grep -q '^sampled recording' "$T/out"
	run_ok sampled-diff "$LEAKHUNT" report --diff "$L" "$T/sampled.lht" &&
		check sampled-diff-note grep -q '^(new is a sampled recording: its numbers are estimates' "$T/out"
	# a change in temporaries is no order either when one side has none estimated
	run_fail sampled-diff-sort-temporary "temporary allocations are not estimated" \
		"$LEAKHUNT" report --diff --sort temporary "$L" "$T/sampled.lht"
	run_fail sampled-diff-sort-temporary-json "temporary allocations are not estimated" \
		"$LEAKHUNT" report --diff --json --sort temporary "$T/sampled.lht" "$L"
else
	fail record-sampled "$(cat "$T/rec.err")"
fi

# --- the pass on one CPU and on two (reader and analyzer threads, docs/report.md
# "How it reads") gives the same model, on a trace long enough to cycle the queue
cc -O2 -g -pthread -o "$T/churn" "$P/churn.c" || fail build-churn "cc failed"
if rec -o "$T/churn" -- "$T/churn" 200000 2; then
	if run_ok two-cpus "$LEAKHUNT" report --json --at 0.01 "$T/churn.lht"; then
		mv "$T/out" "$T/churn2.json"
		expect churn-calls "$(js 'd["summary"]["calls"] >= 200000 and d["summary"]["missing_events"] == 0' "$T/churn2.json")" True
		if command -v taskset >/dev/null; then
			run_ok one-cpu taskset -c 0 "$LEAKHUNT" report --json --at 0.01 "$T/churn.lht" &&
				check one-cpu-same cmp -s "$T/out" "$T/churn2.json"
		else
			ok "one-cpu (skipped: taskset is not installed)"
		fi
	fi
else
	fail record-churn "$(cat "$T/rec.err")"
fi
