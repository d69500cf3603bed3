#!/usr/bin/env bash
# Inline frames at the end of `leakhunt record` (src/native/symbolize.c):
# test/programs/inlined.c built with -O2 allocates in fill_record(), inlined
# into new_record(), inlined into build_table().  The one address in
# build_table must name all three, innermost first, then main; --no-inline
# only the function that holds the address.  When elfutils' eu-addr2line is
# installed, its `-i -f` chain for the same address (found with objdump:
# the call to malloc in build_table, return address - 1) must match ours,
# function for function and file:line for file:line.
. "$LH_TOP/test/cli/lib.sh"

if [ ! -f "$(dirname "$LEAKHUNT")/libleakhunt.so" ]; then
	export LEAKHUNT_PRELOAD="$LH_TOP/build/libleakhunt.so"
	[ -f "$LEAKHUNT_PRELOAD" ] || make -C "$LH_TOP" -s build/libleakhunt.so >/dev/null
fi
cc -O2 -g -o "$T/inlined" "$LH_TOP/test/programs/inlined.c" || fail build "cc failed"
expect() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "got '$2', expected '$3'"; fi; }
# js EXPR FILE: evaluate a python expression over the JSON document d
js() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$2"; }

timeout 60 "$LEAKHUNT" record -o "$T/inl" -- "$T/inlined" 100 >/dev/null 2>"$T/rec.err" ||
	fail record "$(cat "$T/rec.err")"
if run_ok json "$LEAKHUNT" report --json "$T/inl.lht"; then
	cp "$T/out" "$T/inl.json"
	expect leak "$(js '"%d:%d" % (d["leaks"][0]["bytes"], d["leaks"][0]["blocks"])' "$T/inl.json")" 4800:100
	expect inline-chain "$(js '" ".join(f["function"] for f in d["leaks"][0]["stack"][:4])' "$T/inl.json")" \
		"fill_record new_record build_table main"
	# each caller's line is where it called the inline below it
	expect inline-lines "$(js '" ".join("%s:%d" % (f["file"].split("/")[-1], f["line"]) for f in d["leaks"][0]["stack"][:3])' "$T/inl.json")" \
		"inlined.c:$(grep -n '= malloc(n)' "$LH_TOP/test/programs/inlined.c" | cut -d: -f1) inlined.c:$(grep -n 'return fill_record' "$LH_TOP/test/programs/inlined.c" | cut -d: -f1) inlined.c:$(grep -n '= new_record(i)' "$LH_TOP/test/programs/inlined.c" | cut -d: -f1)"
fi
if run_ok no-inline "$LEAKHUNT" report --json --no-inline "$T/inl.lht"; then
	expect no-inline-chain "$(js '" ".join(f["function"] for f in d["leaks"][0]["stack"][:2])' "$T/out")" "build_table main"
fi

# -gsplit-dwarf: the scopes are in the .dwo's split unit, not the skeleton
# (which named build_table at fill_record's line, without the inlines)
mkdir -p "$T/split"
if (cd "$T/split" && cc -O2 -g -gsplit-dwarf -o inlined "$LH_TOP/test/programs/inlined.c" 2>/dev/null) &&
	run_ok split-record timeout 60 "$LEAKHUNT" record -o "$T/split/inl" -- "$T/split/inlined" 100 &&
	run_ok split-json "$LEAKHUNT" report --json "$T/split/inl.lht"; then
	expect split-inline-chain "$(js '" ".join(f["function"] for f in d["leaks"][0]["stack"][:4])' "$T/out")" \
		"fill_record new_record build_table main"
fi

# a lambda at -O0: GCC gives its DIE no linkage name, only "operator()";
# the ELF symbol names it whole
if command -v g++ >/dev/null; then
	cat >"$T/lambda.cc" <<'CC'
#include <cstdlib>
void *volatile kept;
int main()
{
	auto grab = [](int n) { return std::malloc(n); };
	kept = grab(100);
	return 0;
}
CC
	if g++ -O0 -g -o "$T/lambda" "$T/lambda.cc" &&
		run_ok lambda-record timeout 60 "$LEAKHUNT" record -o "$T/lambda" -- "$T/lambda" &&
		run_ok lambda-json "$LEAKHUNT" report --json "$T/lambda.lht"; then
		expect lambda-named "$(js '[l["stack"][0]["function"] for l in d["leaks"] if l["bytes"] == 100][0]' "$T/out")" \
			"main::{lambda(int)#1}::operator()(int) const"
	fi
fi

if ! command -v eu-addr2line >/dev/null || ! command -v objdump >/dev/null; then
	ok "eu-addr2line (skipped: elfutils' eu-addr2line or objdump is not installed)"
	exit 0
fi
# the instruction after build_table's call to malloc: its address - 1 is the frame's ip
ret=$(objdump -d --no-show-raw-insn "$T/inlined" | awk '/<build_table>:/ { f = 1; next } f && /^$/ { exit }
	f && c { sub(":", "", $1); print $1; exit } f && /call.*<malloc@plt>/ { c = 1 }')
if [ -z "$ret" ]; then
	fail objdump "no call to malloc in build_table"
	exit 0
fi
eu-addr2line -i -f -e "$T/inlined" "$(printf '0x%x' $((0x$ret - 1)))" >"$T/eu.txt"
# eu-addr2line prints a function line ("NAME" or "NAME inlined at ... in CALLER") then FILE:LINE:COL
theirs=$(awk 'NR % 2 == 1 { printf "%s%s", sep, $1 } NR % 2 == 0 { n = split($1, a, ":"); m = split(a[1], b, "/");
	printf "@%s:%s", b[m], a[2]; sep = " " }' "$T/eu.txt")
ours=$(js '" ".join("%s@%s:%d" % (f["function"], f["file"].split("/")[-1], f["line"]) for f in d["leaks"][0]["stack"][:3])' "$T/inl.json")
expect same-as-eu-addr2line "$ours" "$theirs"
