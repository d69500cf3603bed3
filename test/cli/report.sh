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
# file's path (by the last part both were 'helper (util.c)', one site),
# under the compilation directory as addr2line shows it
mkdir -p "$T/one" "$T/two"
cp "$P/samename_b.c" "$T/one/util.c" && cp "$P/samename_b.c" "$T/two/util.c" &&
	(cd "$T" && cc -O2 -g -c -o one.o one/util.c && cc -O2 -g -Dhelper_b=helper_c -c -o two.o two/util.c &&
		cc -O2 -g -o samefile "$P/samefile.c" one.o two.o) || fail build-samefile "cc failed"
rec -o "$T/samefile" -- "$T/samefile" || fail record-samefile "$(cat "$T/rec.err")"
if run_ok same-file-apart "$LEAKHUNT" report --json "$T/samefile.lht"; then
	expect same-file-sites "$(js '" ".join(sorted("%s=%d" % (s["function"].replace(" ", "_"), s["leaked_blocks"]) for s in d["sites"]))' "$T/out")" \
		"helper_($T/one/util.c)=3 helper_($T/two/util.c)=4"
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

# --- --html: one self-contained page (an export as in 5., after the
# suppressions and the sampled trace that it uses too).  page HTML OUT: parse it with
# python's html.parser (strict UTF-8, every element closed in order) and
# write what the tests read as JSON: the parse errors, every src/href, the
# embedded data, the site tables, the leaks and the summary rows
cat >"$T/page.py" <<'PY'
import html.parser, json, sys

VOID = {'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr'}

class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open, self.errors, self.urls, self.data, self.scripts = [], [], [], '', 0
        self.tables, self.leaks, self.summary, self.views = {}, [], {}, {}
        self.cell = None  # [text, data-v] of the open td/th
        self.row = None
        self.table = None
        self.rows = None  # where the body rows of the open table go
        self.thead = False
    def attrs_seen(self, tag, a):
        self.urls += [v for k, v in a.items() if k in ('src', 'href', 'xlink:href', 'action', 'srcset', 'poster')]
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.attrs_seen(tag, a)
        if tag == 'script':
            self.scripts += 1
        if tag == 'table':
            self.table = a.get('id')
            self.rows = None
            if self.table and self.table.startswith('sites-'):
                self.rows = self.tables[self.table[6:]] = []
            elif self.table in ('functions-table', 'histogram'):
                self.rows = self.views[self.table] = []
        if tag == 'thead':
            self.thead = True
        if tag == 'tr':
            self.row = []
        if tag in ('td', 'th'):
            self.cell = ['', a.get('data-v')]
        if tag == 'details' and 'leak' in (a.get('class') or '').split():
            self.leaks.append({'bytes': int(a['data-bytes']), 'blocks': int(a['data-blocks']), 'frames': []})
        if tag not in VOID:
            self.open.append((tag, a))
    def handle_startendtag(self, tag, attrs):
        self.attrs_seen(tag, dict(attrs))
    def handle_endtag(self, tag):
        if not self.open or self.open[-1][0] != tag:
            self.errors.append('</%s> closes <%s> at line %d' % (tag, self.open[-1][0] if self.open else '', self.getpos()[0]))
            return
        self.open.pop()
        if tag in ('td', 'th') and self.row is not None:
            self.row.append(self.cell)
        if tag == 'tr':
            if self.table == 'summary':
                self.summary[self.row[0][0]] = self.row[1][0]
            elif self.rows is not None and not self.thead:
                self.rows.append(self.row)
            elif self.table is None and self.leaks and self.row:
                self.leaks[-1]['frames'].append(self.row[0][0])
        if tag == 'table':
            self.table = self.rows = None
        if tag == 'thead':
            self.thead = False
    def handle_data(self, d):
        if self.open and self.open[-1][0] == 'script' and self.open[-1][1].get('id') == 'lh-data':
            self.data += d
        if self.cell is not None:
            self.cell[0] += d

raw = open(sys.argv[1], 'rb').read()
p = Page()
p.feed(raw.decode('utf-8'))
p.close()
if p.open:
    p.errors.append('never closed: ' + ' '.join(t for t, _ in p.open))
json.dump({'errors': p.errors, 'urls': p.urls, 'scripts': p.scripts, 'data': json.loads(p.data),
           'tables': p.tables, 'leaks': p.leaks, 'summary': p.summary,
           'functions': p.views.get('functions-table'), 'histogram': p.views.get('histogram'),
           'script_ends': raw.count(b'</script'), 'size': len(raw)}, open(sys.argv[2], 'w'))
PY
page() {
	python3 "$T/page.py" "$1" "$2" 2>"$T/page.err" && return 0
	fail "$(basename "$1")-parse" "$(tail -1 "$T/page.err")"
	return 1
}
# same_functions PAGE TRACE [OPTIONS]: every row of the functions view (the
# table and the embedded data) against the text report's --function NAME
# with the same options: the inclusive and self rows and the callers and
# callees, names and every number; prints True or the first difference
cat >"$T/functions.py" <<'PY'
import json, subprocess, sys

page = json.load(open(sys.argv[1])); fn = page["data"]["functions"]
def text(name):
    out = subprocess.run([sys.argv[3], "report", "--function", name] + sys.argv[4:] + [sys.argv[2]],
                         capture_output=True, text=True, check=True).stdout
    lists, cur = {}, None
    for line in out.split("\nfunction ", 1)[1].splitlines()[1:]:
        if line.endswith(":"):
            cur = lists[line.split(" ")[0].rstrip(":")] = []
        elif line and not line.startswith("Function "):
            parts = line.rsplit(None, 6)  # the name may hold spaces: "helper (libtwo.so)"
            cur.append([parts[0]] + [int(x) for x in parts[1:]])
    return lists
bad = []
for i, r in enumerate(fn["rows"]):
    name = fn["names"][r["name"]]
    want = text(name)
    got = {"inclusive": [[name] + r["total"]], "self": [[name] + r["self"]],
           "callers": [[fn["names"][n]] + c for n, c in r["callers"]],
           "callees": [[fn["names"][n]] + c for n, c in r["callees"]]}
    if got != want:
        bad.append("%s: page %s, text %s" % (name, got, want))
    # the table's cells: the function, then inclusive and self calls, temporary, peak, leaked
    row = page["functions"][i]
    cells = [row[0][0]] + [int(c[1]) for c in row[1:]]
    if cells != [name] + [r["total"][k] for k in (0, 1, 3, 4)] + [r["self"][k] for k in (0, 1, 3, 4)]:
        bad.append("%s: table row %s" % (name, cells))
print(bad[0] if bad else True)
PY
same_functions() { python3 "$T/functions.py" "$1" "$2" "$LEAKHUNT" "${@:3}"; }
# script PAGE QUERY: the page's own script run by node on the page's data,
# in a fake document of the elements the script reaches (an honest check of
# the script's logic and its use of the data, not of a browser: no layout,
# no HTML parser, the functions table rebuilt from the data); what it did
# as JSON: the function shown first, the one a click picks, and after a
# search for QUERY the flame frames drawn as matches and the rows kept
cat >"$T/script.js" <<'JS'
// The page's own script on its own data under node, in a fake document of
// the elements it reaches (not a browser: no layout, no CSS, no HTML parser;
// the functions table is rebuilt here from the data): picking a function and
// searching, as a reader would.  argv: PAGE QUERY; prints what it saw as JSON.
'use strict';
const html = require('fs').readFileSync(process.argv[2], 'utf8');
const text = html.match(/<script type="application\/json" id="lh-data">([^]*?)<\/script>/)[1];
const script = html.match(/<script>\n([^]*?)<\/script>/)[1];

class El {
	constructor(tag, props) {
		Object.assign(this, { tagName: tag, children: [], parentNode: null, style: {}, dataset: {},
			className: '', own: '', on: {}, hidden: false }, props);
	}
	appendChild(c) {
		for (const k of c.tagName === '#frag' ? c.children.splice(0) : [c]) {
			k.parentNode = this;
			this.children.push(k);
		}
		return c;
	}
	get textContent() { return this.own + this.children.map((c) => c.textContent).join(''); }
	set textContent(v) { this.own = String(v); this.children = []; }
	get classList() {
		return { add: (c) => { this.className += ' ' + c; },
			remove: (c) => { this.className = this.className.split(' ').filter((x) => x !== c).join(' '); } };
	}
	addEventListener(type, fn) { (this.on[type] = this.on[type] || []).push(fn); }
	fire(type, target) { (this.on[type] || []).forEach((fn) => fn({ target: target || this })); }
	setAttribute(k, v) { this[k] = v; }
	all() { return this.children.flatMap((c) => [c, ...c.all()]); }
	// "tag.class tag" and 'tr[data-f="N"]': what the script asks for
	querySelectorAll(sel) {
		let set = [this];
		for (const part of sel.split(' ')) {
			const [, tag, cls, f] = part.match(/^(\w*)(?:\.([\w-]+))?(?:\[data-f="(\d+)"\])?$/);
			set = [...new Set(set.flatMap((e) => e.all()))].filter((e) => (!tag || e.tagName === tag) &&
				(!cls || e.className.split(' ').includes(cls)) && (f === undefined || e.dataset.f === f));
		}
		return set;
	}
	querySelector(sel) { return this.querySelectorAll(sel)[0] || null; }
	closest(tag) {
		for (let e = this; e; e = e.parentNode)
			if (e.tagName === tag)
				return e;
		return null;
	}
	createTHead() { return this.appendChild(new El('thead')); }
	createTBody() { return this.appendChild(new El('tbody')); }
	insertRow() { return this.appendChild(new El('tr')); }
	get tBodies() { return this.children.filter((c) => c.tagName === 'tbody'); }
	get rows() { return this.children; }
	get cells() { return this.children; }
}

const data = JSON.parse(text), fn = data.functions, body = new El('body'), byId = {};
function add(parent, tag, id, props) {
	const e = parent.appendChild(new El(tag, props));
	if (id)
		byId[id] = e;
	return e;
}
add(body, 'script', 'lh-data').textContent = text;
const table = add(body, 'table', 'functions-table', { className: 'sortable funcs' });
add(add(table, 'thead'), 'tr');
const tbody = add(table, 'tbody');
fn.rows.forEach((r, i) => {
	const tr = add(tbody, 'tr', null, { dataset: { f: String(i) } });
	add(tr, 'td', null, { className: 'fn' }).textContent = fn.names[r.name];
	add(tr, 'td', null, { dataset: { v: String(r.total[0]) } }).textContent = r.total[0];
});
add(body, 'div', 'function-view');
add(body, 'p', 'search-bar', { hidden: true });
add(body, 'input', 'search', { value: '' });
add(body, 'span', 'search-info');
add(body, 'select', 'flame-cost', { value: '0', selectedIndex: 0, options: [{ text: 'allocation calls' }] });
add(body, 'button', 'flame-reset');
add(body, 'span', 'flame-info');
add(body, 'div', 'flame', { clientWidth: 1000 });
global.document = {
	getElementById: (id) => byId[id] || null,
	querySelectorAll: (sel) => body.querySelectorAll(sel),
	createElement: (tag) => new El(tag),
	createDocumentFragment: () => new El('#frag'),
};
global.window = { addEventListener() {} };
new Function(script)();

const view = () => byId['function-view'].querySelectorAll('h3').map((h) => h.textContent);
const rowsOf = (i) => byId['function-view'].querySelectorAll('tbody')[i].children.map((tr) => tr.children[0].textContent);
const out = { first: view()[0], callees: rowsOf(3), bar: !byId['search-bar'].hidden };
tbody.fire('click', tbody.children[2].children[0]);
out.picked = view()[0];
out.pickedCallers = rowsOf(2);
byId.search.value = process.argv[3];
byId.search.fire('input');
const boxes = byId.flame.children;
out.boxes = boxes.length;
out.matched = boxes.filter((b) => b.className.split(' ').includes('match')).map((b) => b.textContent).sort();
out.unmatched = boxes.filter((b) => !b.className.split(' ').includes('match')).map((b) => b.textContent).sort();
out.rows = tbody.children.filter((tr) => !tr.hidden).map((tr) => tr.children[0].textContent);
out.info = byId['search-info'].textContent;
console.log(JSON.stringify(out));
JS
script() { node "$T/script.js" "$@" 2>"$T/script.err" || echo "script failed: $(tail -3 "$T/script.err")"; }
# same_histogram PAGE JSON TEXT: the size buckets of the page (data and
# table) against --json's sizes and the text report's --histogram
same_histogram() {
	python3 - "$@" <<'PY'
import json, sys
page = json.load(open(sys.argv[1])); sizes = json.load(open(sys.argv[2]))["histogram"]
b = {}
for h in sizes:
    k = h["size"].bit_length()
    b[k] = b.get(k, 0) + h["count"]
want = [[(1 << k >> 1), (1 << k) - 1 if k else 0, b[k]] for k in sorted(b) if b[k]]
lines = open(sys.argv[3]).read().split("allocation sizes")[1].splitlines()[2:]
text = [l.split()[:2] for l in lines if l.strip()]
table = [[r[0][0], r[1][0]] for r in page["histogram"]]
label = lambda lo, hi: str(lo) if lo == hi else "%d-%d" % (lo, hi)
print(page["data"]["histogram"] == want, table == text == [[label(lo, hi), str(n)] for lo, hi, n in want])
PY
}
if run_ok html "$LEAKHUNT" report --html "$T/l.html" "$L" && page "$T/l.html" "$T/l.page"; then
	expect html-stdout-empty "$(wc -c <"$T/out")" 0
	expect html-well-formed "$(js 'd["errors"]' "$T/l.page")" "[]"
	# self-contained: nothing to fetch, the two scripts inline
	expect html-no-urls "$(js 'd["urls"]' "$T/l.page")" "[]"
	check html-no-remote sh -c "! grep -Eqi '(src|href) *= *\"?(https?:)?//|@import|url\\(' '$T/l.html'"
	expect html-inline-scripts "$(js 'd["scripts"] == d["script_ends"] == 2' "$T/l.page")" True
	# the embedded data is --json's: summary and timeline equal, the flame
	# graph's root holds every stack's costs, each frame at least its callees'
	expect html-summary-json "$(python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["data"]; b=json.load(open(sys.argv[2])); print(a["summary"] == b["summary"] and a["timeline"] == b["timeline"] and a["command"] == b["command"])' "$T/l.page" "$T/leaky.json")" True
	expect html-flame-root "$(python3 -c '
import json, sys
f = json.load(open(sys.argv[1]))["data"]["flame"]; j = json.load(open(sys.argv[2]))
keys = f["costs"]
print(f["nodes"][0][2:] == [sum(s[k] for s in j["stacks"]) for k in keys] == [j["summary"][k] for k in keys])' "$T/l.page" "$T/leaky.json")" True
	expect html-flame-tree "$(python3 -c '
import json, sys
f = json.load(open(sys.argv[1]))["data"]["flame"]; n = f["nodes"]
kids = [[0] * 5 for _ in n]
for i, x in enumerate(n[1:], 1):
    assert x[1] < i
    kids[x[1]] = [a + b for a, b in zip(kids[x[1]], x[2:])]
print(all(all(k <= v for k, v in zip(kids[i], x[2:])) for i, x in enumerate(n)) and f["merged"] == 0,
      sorted(f["names"][x[0]] for x in n if n[x[1]][0] == 2))' "$T/l.page")" \
		"True ['hump', 'leak_calloc', 'leak_page', 'leak_realloc', 'leak_small', 'temporaries']"
	# the tables: top sites by each cost, biggest first, every number --json's
	expect html-tables "$(python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["tables"]; j = {s["function"]: s for s in json.load(open(sys.argv[2]))["sites"]}
keys = ["calls", "temporary", "bytes", "peak_bytes", "leaked_bytes", "leaked_blocks"]
ok = all([int(c[1]) for c in r[2:]] == [j[r[0][0]][k] for k in keys] for rows in t.values() for r in rows)
col = {"peak": 5, "leaked": 6, "calls": 2, "temporary": 3, "bytes": 4}
order = all([int(r[col[k]][1]) for r in rows] == sorted((int(r[col[k]][1]) for r in rows), reverse=True) for k, rows in t.items())
print(ok, order, " ".join("%s:%d" % (k, len(t[k])) for k in sorted(t)))' "$T/l.page" "$T/leaky.json")" \
		"True True bytes:6 calls:6 leaked:4 peak:5 temporary:2"
	expect html-site-location "$(js '[r[1][0] for r in d["tables"]["leaked"] if r[0][0] == "leak_small"][0].startswith("leaky.c:")' "$T/l.page")" True
	# the leaks: every stack whole, as "leaks" in --json
	expect html-leaks "$(python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))["leaks"]; b = json.load(open(sys.argv[2]))["leaks"]
print([(l["bytes"], l["blocks"], l["frames"]) for l in a] == [(l["bytes"], l["blocks"], [f["function"] for f in l["stack"]]) for l in b])' "$T/l.page" "$T/leaky.json")" True
	# the header: the text report's summary lines, word for word
	R "$L" >"$T/l.txt"
	expect html-header "$(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
lines = [l for l in open(sys.argv[2]).read().split("\n\n")[0].splitlines()]
print(all(s.get(l.split(": ", 1)[0]) == l.split(": ", 1)[1] for l in lines), len(lines) > 5, s["trace"])' "$T/l.page" "$T/l.txt")" "True True complete"
	# the functions view: every function (7: none cut), each row as
	# --function NAME says it; the sizes as --histogram and --json count them
	expect html-functions "$(same_functions "$T/l.page" "$L" --top 50)" True
	expect html-functions-rows "$(js 'd["data"]["functions"]["count"], [d["data"]["functions"]["names"][r["name"]] for r in d["data"]["functions"]["rows"]]' "$T/l.page")" \
		"7 ['main', 'hump', 'leak_small', 'leak_page', 'leak_realloc', 'leak_calloc', 'temporaries']"
	R --histogram "$L" >"$T/l-hist.txt"
	expect html-histogram "$(same_histogram "$T/l.page" "$T/leaky.json" "$T/l-hist.txt")" "True True"
	# the script: main's view first, a click on leak_small's row shows it,
	# a search for "LEAK_" marks the leak_ frames (leak_realloc's 3 calls of
	# 2114 are under 2 pixels: not drawn), keeps their rows, and says their
	# share: 1050 of 2114 calls
	if command -v node >/dev/null; then
		expect html-script "$(script "$T/l.html" LEAK_)" \
			'{"first":"function main","callees":["hump","leak_small","leak_page","leak_realloc","leak_calloc","temporaries"],"bar":true,"picked":"function leak_small","pickedCallers":["main"],"boxes":7,"matched":["leak_calloc","leak_page","leak_small"],"unmatched":["all","hump","main","temporaries"],"rows":["leak_small","leak_page","leak_realloc","leak_calloc"],"info":"4 of 7 table rows, 0 of 0 leaks; in the flame graph 1050 (49.67%) of allocation calls"}'
	else
		ok "html-script (skipped: node is not installed)"
	fi
fi
# recursion: each occurrence has its caller and callee (main -> ping ->
# pong -> ping -> ... -> pong), and a stack counts once in the inclusive
# costs however often it passes, as in --function
if run_ok html-recursive "$LEAKHUNT" report --html "$T/mutual.html" "$T/mutual.lht" && page "$T/mutual.html" "$T/mutual.page"; then
	expect html-recursive-functions "$(same_functions "$T/mutual.page" "$T/mutual.lht" --top 50)" True
	expect html-recursive-ping "$(js '[sorted(f["names"][c[0]] for c in r["callers"]) for f in [d["data"]["functions"]] for r in f["rows"] if f["names"][r["name"]] == "ping"]' "$T/mutual.page")" \
		"[['main', 'pong']]"
	# every ping frame of the recursion is marked, and counted once in the share
	command -v node >/dev/null && expect html-recursive-script "$(script "$T/mutual.html" ping | python3 -c '
import json, sys
d = json.load(sys.stdin); print(d["matched"], d["info"])')" \
		"['ping', 'ping', 'ping', 'ping', 'ping'] 1 of 3 table rows, 0 of 0 leaks; in the flame graph 1 (100.00%) of allocation calls"
fi
# names with < > & and "</script>" (C++ templates; an asm label for the
# rest), and a byte that is not UTF-8: escaped in the tables and the leaks,
# \u003c in the JSON, so that the data and the page parse to the same names
if command -v g++ >/dev/null && g++ -O2 -g -o "$T/htmlnames" "$P/htmlnames.cc"; then
	rec -o "$T/names" -- "$T/htmlnames" || fail record-htmlnames "$(cat "$T/rec.err")"
	R --json "$T/names.lht" >"$T/names.json"
	# the text tables: the byte that is not UTF-8 escaped (it reached the
	# terminal as it was), every row as wide as its header
	R "$T/names.lht" >"$T/names.txt"
	check text-names-escaped grep -qF '"</script><!--<b>&amp;\xff"  ' "$T/names.txt"
	expect text-names-aligned "$(python3 -c '
import sys
t = open(sys.argv[1], "rb").read().decode("utf-8").split("\n\n")[1].splitlines()[1:]
print(len(t), len({len(l) for l in t}))' "$T/names.txt")" "3 1"
	if run_ok html-names "$LEAKHUNT" report --html "$T/names.html" "$T/names.lht" && page "$T/names.html" "$T/names.page"; then
		expect html-names-well-formed "$(js 'd["errors"]' "$T/names.page")" "[]"
		expect html-names-script-ends "$(js 'd["script_ends"]' "$T/names.page")" 2
		check html-names-no-raw sh -c "! grep -aq -e '<b>' -e '<!--' -e 'Map<int' '$T/names.html'"
		expect html-names-template "$(js 'ascii([r[0][0] for r in d["tables"]["leaked"]])' "$T/names.page")" \
			"['Box<Map<int, char> >::put(Map<int, char>&)', '\"</script><!--<b>&amp;\\ufffd\"']"
		expect html-names-json "$(python3 -c '
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
names = set(a["data"]["flame"]["names"][2:])
print(names == {s["function"] for s in b["sites"]} | {"main"}, [l["frames"][0] for l in a["leaks"]] == [l["stack"][0]["function"] for l in b["leaks"]])' "$T/names.page" "$T/names.json")" "True True"
		# the functions table's names as the data has them, and every name of
		# the data escaped in the JSON (the page would not parse otherwise)
		expect html-names-functions "$(python3 -c '
import json, sys
a = json.load(open(sys.argv[1])); f = a["data"]["functions"]
print([r[0][0] for r in a["functions"]] == [f["names"][r["name"]] for r in f["rows"]], set(f["names"][2:]) == set(a["data"]["flame"]["names"][2:]))' "$T/names.page")" "True True"
	fi
else
	ok "html-names (skipped: g++ cannot build test/programs/htmlnames.cc)"
fi
# function names a terminal must not get raw (an escape sequence, a C1
# control) are escaped outside the tables too: --leaks and the trees printed
# them as they were; and a table counts columns, not code points, so a row
# with CJK characters (two columns each) or a combining mark (none) lines up
cc -O2 -g -o "$T/termnames" "$P/termnames.c" || fail build-termnames "cc failed"
if rec -o "$T/tn" -- "$T/termnames"; then
	for v in --leaks --bottom-up --top-down; do
		R $v "$T/tn.lht" >"$T/tn.txt"
		check "term-names$v-esc" grep -qF '"Esc\x1b[31mred"' "$T/tn.txt"
		check "term-names$v-nel" grep -qF '"Nel\u0085"' "$T/tn.txt"
		check "term-names$v-raw" python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); sys.exit(b"\x1b" in d or b"\xc2\x85" in d)' "$T/tn.txt"
	done
	# --function's answer quotes the name it was given
	R --function "$(printf 'Esc\033[31mred')" "$T/tn.lht" >"$T/tn.txt"
	check term-names-function-echo grep -qF "goes through 'Esc\x1b[31mred'" "$T/tn.txt"
	R --json "$T/tn.lht" >"$T/tn.json"
	expect term-names-json-raw "$(js 'sorted(s["function"] for s in d["sites"]) == sorted(["\"Esc\x1b[31mred\"", "\"Nel\x85\"", "\"\u6f22\u5b57\"", "\"e\u0301x\""])' "$T/tn.json")" True
	R --sort leaked "$T/tn.lht" >"$T/tn.txt"
	expect term-names-aligned "$(python3 -c '
import sys, unicodedata
w = lambda l: sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in l)
t = open(sys.argv[1], encoding="utf-8").read().split("\n\n")[1].splitlines()[1:]
print(len(t), len({w(l) for l in t}))' "$T/tn.txt")" "5 1"
else
	fail record-termnames "$(cat "$T/rec.err")"
fi
# --top, --filter, --no-inline and the suppressions as in the other exports
if run_ok html-top "$LEAKHUNT" report --html "$T/top.html" --top 2 "$L" && page "$T/top.html" "$T/top.page"; then
	expect html-top-rows "$(js '[len(d["tables"][k]) for k in ("peak", "leaked", "calls")] + [len(d["leaks"])]' "$T/top.page")" "[2, 2, 2, 2]"
	check html-top-said grep -q '(2 of 6; --top N shows more)' "$T/top.html"
	# functions: the top 2 by each inclusive cost of the tables (main, hump
	# by peak and bytes, leak_small by leaked and calls, temporaries by
	# temporary), lists cut at 2 as in --function --top 2, and said
	expect html-top-functions "$(js '[d["data"]["functions"]["names"][r["name"]] for r in d["data"]["functions"]["rows"]], [r["callees_more"] for r in d["data"]["functions"]["rows"]]' "$T/top.page")" \
		"['main', 'hump', 'leak_small', 'temporaries'] [4, 0, 0, 0]"
	expect html-top-functions-same "$(same_functions "$T/top.page" "$L" --top 2)" True
	check html-top-functions-said grep -q '4 of the 7 functions on an allocating stack: the top 2 by each' "$T/top.html"
fi
if run_ok html-filter "$LEAKHUNT" report --html "$T/filter.html" --filter '^leak_(small|page)$' "$L" &&
	page "$T/filter.html" "$T/filter.page"; then
	expect html-filter-sites "$(js 'sorted(r[0][0] for r in d["tables"]["peak"]), d["data"]["filter"], d["data"]["flame"]["nodes"][0][5]' "$T/filter.page")" \
		"['leak_page', 'leak_small'] ^leak_(small|page)\$ 1151552"
	expect html-filter-functions "$(same_functions "$T/filter.page" "$L" --top 50 --filter '^leak_(small|page)$')" True
	expect html-filter-functions-rows "$(js 'sorted(r[0][0] for r in d["functions"])' "$T/filter.page")" \
		"['leak_page', 'leak_small', 'main']"
fi
run_ok html-supp "$LEAKHUNT" report --html "$T/supp.html" --suppressions "$T/supp.txt" "$L" && page "$T/supp.html" "$T/supp.page" &&
	expect html-supp-leaks "$(js 'd["summary"]["suppressed leaks"], len(d["leaks"]), d["data"]["flame"]["nodes"][0][5]' "$T/supp.page")" \
		"152322 B (152 kB) in 47 blocks 2 1012345"
R --json --no-inline "$P5" >"$T/ni5.json"
run_ok html-no-inline "$LEAKHUNT" report --html "$T/ni.html" --no-inline "$P5" && page "$T/ni.html" "$T/ni.page" &&
	expect html-no-inline-sites "$(python3 -c '
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
print(sorted(r[0][0] for r in a["tables"]["calls"]) == sorted(s["function"] for s in b["sites"] if s["calls"]))' "$T/ni.page" "$T/ni5.json")" True
# a sampled trace: estimates said, no temporary table or flame cost
if [ -f "$T/sampled.lht" ] && run_ok html-sampled "$LEAKHUNT" report --html "$T/sampled.html" "$T/sampled.lht" &&
	page "$T/sampled.html" "$T/sampled.page"; then
	expect html-sampled-tables "$(js 'sorted(d["tables"]), d["data"]["summary"]["temporary"], d["summary"]["trace"]' "$T/sampled.page")" \
		"['bytes', 'calls', 'leaked', 'peak'] None complete; sampled: every number is an estimate"
	# Samples in place of Temporary, as in --function
	expect html-sampled-functions "$(same_functions "$T/sampled.page" "$T/sampled.lht" --top 50)" True
	expect html-sampled-functions-costs "$(js 'd["data"]["functions"]["costs"][1]' "$T/sampled.page")" samples
fi
# many small sites: each under 0.1% of every cost goes into [other], and the page says so
python3 - "$T/many.c" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("#include <stdlib.h>\nvoid *volatile sink;\nstatic volatile int side;\n")
    for i in range(2000):
        f.write("__attribute__((noinline)) void f%d(void) { sink = malloc(100); side++; }\n" % i)
    f.write("int main(void) {\n")
    for i in range(2000):
        f.write("\tf%d();\n" % i)
    f.write("\tfor (int i = 0; i < 2000; i++) { sink = malloc(1000); side++; }\n\treturn 0;\n}\n")
PY
if cc -O1 -g -o "$T/many" "$T/many.c" && rec -o "$T/many" -- "$T/many" &&
	run_ok html-merged "$LEAKHUNT" report --html "$T/many.html" "$T/many.lht" && page "$T/many.html" "$T/many.page"; then
	R --json "$T/many.lht" >"$T/many.json"
	expect html-merged-other "$(python3 -c '
import json, sys
f = json.load(open(sys.argv[1]))["data"]["flame"]; j = json.load(open(sys.argv[2]))
n = f["nodes"]; other = [x for x in n if f["names"][x[0]] == "[other]"]
print(f["merged"], len(n), len(other), other[0][2] if other else 0, n[0][2:] == [j["summary"][k] for k in f["costs"]])' "$T/many.page" "$T/many.json")" \
		"2000 3 1 2000 True"
	check html-merged-said grep -q '2000 of the 2001 frames of the call tree are each under 0.1% of every cost' "$T/many.html"
	expect html-merged-tables "$(js 'len(d["tables"]["calls"])' "$T/many.page")" 50
	# 2001 functions, the rows cut to the top 50 by each cost (main, f0..f48
	# by calls, the same by peak, ...: 50 in all here) and said
	expect html-merged-functions "$(js 'd["data"]["functions"]["count"], len(d["functions"]), len(d["data"]["functions"]["rows"]), d["data"]["functions"]["rows"][0]["callees_more"]' "$T/many.page")" \
		"2001 50 50 1951"
	check html-merged-functions-said grep -q '50 of the 2001 functions on an allocating stack' "$T/many.html"
else
	fail html-merged "cannot build or record the program of 2000 sites"
fi
# a merged frame takes its subtree along, and the page counts all of it (it
# said "1024 of the 524286 frames" for manystacks' 13 levels, where 522240
# were not drawn); frames merged for the 50,000 limit are said to be, not
# to be under 0.1% (they held 0.2% each in widetree)
flame_counts() {
	python3 -c '
import json, sys
f = json.load(open(sys.argv[1]))["data"]["flame"]
drawn = sum(f["names"][x[0]] != "[other]" for x in f["nodes"])
print(f["merged"] == f["tree_nodes"] - drawn, f["capped"] > 0, f["merged"] > drawn)' "$1"
}
cc -O1 -g -o "$T/manystacks" "$P/manystacks.c" && cc -O1 -g -o "$T/widetree" "$P/widetree.c" ||
	fail build-flame-trees "cc failed"
if rec -o "$T/mstk" -- "$T/manystacks" && run_ok html-merged-subtrees "$LEAKHUNT" report --html "$T/mstk.html" "$T/mstk.lht" &&
	page "$T/mstk.html" "$T/mstk.page"; then
	expect html-merged-subtrees-count "$(flame_counts "$T/mstk.page")" "True False True"
	check html-merged-subtrees-said grep -Eq "; $(js 'd["data"]["flame"]["merged"]' "$T/mstk.page") of the [0-9]+ frames of the call tree are each under 0.1%" "$T/mstk.html"
fi
if rec -o "$T/wide" -- "$T/widetree" && run_ok html-capped "$LEAKHUNT" report --html "$T/wide.html" "$T/wide.lht" &&
	page "$T/wide.html" "$T/wide.page"; then
	expect html-capped-count "$(flame_counts "$T/wide.page")" "True True False"
	check html-capped-said grep -Eq '; [0-9]+ frames past the first 50000 drawn are merged into \[other\] frames too' "$T/wide.html"
	check html-capped-not-small sh -c "! grep -q 'under 0.1% of every cost, and are merged' '$T/wide.html'"
fi
# the file is new: an existing one (the trace itself, say) is refused before
# the trace is read and left as it was; --html is one whole report, refused
# beside --diff and the other exports
run_fail html-over-trace "cannot write '.*/self.lht': the file exists; choose another name or remove it" \
	"$LEAKHUNT" report --html "$T/self.lht" "$T/self.lht"
check html-over-trace-kept cmp -s "$L" "$T/self.lht"
cp "$T/l.html" "$T/l-before.html"
run_fail html-exists "cannot write '.*/l.html': the file exists" "$LEAKHUNT" report --html "$T/l.html" "$L"
check html-exists-kept cmp -s "$T/l.html" "$T/l-before.html"
run_fail html-no-trace "cannot open '.*/no-such.lht'" "$LEAKHUNT" report --html "$T/h-none.html" "$T/no-such.lht"
check html-no-trace-no-file test ! -e "$T/h-none.html"
run_fail html-diff 'diff shows the change per site' "$LEAKHUNT" report --diff --html "$T/h-diff.html" "$P5" "$T/ph8.lht"
for other in --json --folded "--speedscope $T/h-s.json"; do
	# shellcheck disable=SC2086 # the option and its argument
	run_fail "html-and-${other%% *}" '--html writes the whole report into one file' \
		"$LEAKHUNT" report --html "$T/h-x.html" $other "$L"
done
check html-refused-no-file test ! -e "$T/h-diff.html" -a ! -e "$T/h-x.html" -a ! -e "$T/h-s.json"
# a run too short for two RSS samples has no chart (one point drew a dot
# in an empty frame), and says why
if run_ok html-tiny-record "$LEAKHUNT" record -o "$T/tiny" -- true &&
	run_ok html-tiny "$LEAKHUNT" report --html "$T/tiny.html" "$T/tiny.lht"; then
	check html-tiny-no-chart sh -c "! grep -q '<svg id=.timeline-chart' '$T/tiny.html'"
	check html-tiny-said grep -q 'no timeline: the run was too short for two points' "$T/tiny.html"
fi
# a write that fails (here the file size limit, 4 KiB: the page is bigger)
# is said with the file's name, and the part written is removed
run_fail html-write-fails "cannot write '$T/h-big.html': (File too large|a write failed)" \
	sh -c 'trap "" XFSZ; ulimit -f 4; exec "$@"' sh "$LEAKHUNT" report --html "$T/h-big.html" "$L"
check html-write-fails-removed test ! -e "$T/h-big.html"
run_ok html-help "$LEAKHUNT" report --help && check html-help-says grep -q -- '--html FILE' "$T/out"

# --- Rust (test/programs/rustmix.rs), both manglings, optimized: the leaks
# exact per function, and std's source files named one way.  std's own code
# names them relative to its compilation directory (library/alloc/src/
# alloc.rs under /rustc/HASH), and std code inlined into the program by
# absolute path: taken as they came, alloc::alloc::alloc was two functions,
# and --function alloc::alloc::alloc asked which one
if command -v rustc >/dev/null; then
	for mangling in legacy v0; do
		flags=""
		[ $mangling = v0 ] && flags="-C symbol-mangling-version=v0"
		# shellcheck disable=SC2086
		if ! rustc -C opt-level=2 -g $flags -o "$T/rustmix_$mangling" "$P/rustmix.rs" 2>"$T/err"; then
			fail "build-rustmix-$mangling" "rustc failed: $(head -c 300 "$T/err")"
			continue
		fi
		rec -o "$T/rm_$mangling" -- "$T/rustmix_$mangling" || fail "record-rustmix-$mangling" "$(cat "$T/rec.err")"
		RL="$T/rm_$mangling.lht"
		R --folded=leaked "$RL" >"$T/rm.leaked"
		expect "rust-$mangling-leaked-per-function" "$(for f in leak_boxes forget_vec rc_cycle panicky; do
			awk -v f="rustmix::$f;" 'index($0 ";", f) { s += $NF } END { printf "%d ", s }' "$T/rm.leaked"; done)" \
			"3000 2000 1200 333 "
		R --json "$RL" >"$T/rm.json"
		expect "rust-$mangling-files-absolute" "$(js 'sorted({f["file"] for l in d["leaks"] for f in l["stack"]
			if f.get("file") and f["module"].endswith("rustmix_'$mangling'") and not f["file"].startswith("/")})' "$T/rm.json")" "[]"
		if run_ok "rust-$mangling-function" "$LEAKHUNT" report --function alloc::alloc::alloc "$RL"; then
			check "rust-$mangling-function-one" grep -qx 'function alloc::alloc::alloc' "$T/out"
		fi
	done
	# a sampled run with no sample: the program's calls did reach
	# leakhunt, only none was drawn (1 TiB mean, 25 kB allocated); the
	# report said "none reached leakhunt", as of a program whose allocator
	# never calls malloc
	if [ -x "$T/rustmix_legacy" ] && rec --sample 1099511627776 -o "$T/rm_1t" -- "$T/rustmix_legacy" &&
		run_ok rust-none-sampled "$LEAKHUNT" report "$T/rm_1t.lht"; then
		check rust-none-sampled-said grep -q '^calls to allocation functions: 0 .*(none sampled: a run that allocates less than about 1099511627776 bytes' "$T/out"
	fi
else
	ok "rust (skipped: no rustc)"
fi
