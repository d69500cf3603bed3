#!/bin/bash
# bench/report.sh: `leakhunt report` against `heaptrack_print` on traces of the
# same program (bench/report_churn.c) recorded in the same run, at 4 M and
# 16 M events; writes the "leakhunt report" section of docs/benchmarks.md
# (between its markers; the rest of the file is left alone).
#
#   bash bench/report.sh          (needs build/leakhunt, build/libleakhunt.so, heaptrack)
#
# Environment:
#   BENCH_RUNS=3        runs per measurement, interleaved; the median is reported
#   BENCH_PAIRS="2000000 8000000"  malloc/free pairs per trace (2 events each)
#   BENCH_DOC=FILE      where the section goes (default docs/benchmarks.md)
#   LEAKHUNT=PATH       the binary (default build/leakhunt)
#
# heaptrack's traces are recorded once into bench/out/report/ and kept
# (delete them to record again); leakhunt's are recorded again on every run,
# so the numbers are always for the format the current `leakhunt record`
# writes (its version goes into the section).  Wall time, CPU time and peak
# RSS come from /usr/bin/time -f '%e %U %S %M'.  What is compared: the default text report
# of each tool (summary plus top-site lists), and leakhunt's --json (every
# model: sites, stacks, leaks, histogram, timeline).
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
OUT=$ROOT/bench/out/report
LEAKHUNT=${LEAKHUNT:-$ROOT/build/leakhunt}
RUNS=${BENCH_RUNS:-3}
PAIRS=${BENCH_PAIRS:-2000000 8000000}
mkdir -p "$OUT"
say() { echo "bench/report: $*" >&2; }
command -v heaptrack >/dev/null && command -v heaptrack_print >/dev/null || { say "heaptrack is not installed"; exit 1; }
[ -x "$LEAKHUNT" ] || { say "no $LEAKHUNT: run make first"; exit 1; }
cc -O2 -g -o "$OUT/churn" "$ROOT/bench/report_churn.c" || exit 1

for n in $PAIRS; do
	say "recording $n pairs with leakhunt"
	rm -f "$OUT/lh-$n.lht"
	"$LEAKHUNT" record -o "$OUT/lh-$n" -- "$OUT/churn" "$n" >/dev/null || exit 1
	if [ ! -s "$OUT/ht-$n.zst" ]; then
		say "recording $n pairs with heaptrack"
		(cd "$OUT" && heaptrack -o "$OUT/ht-$n" "$OUT/churn" "$n" >"$OUT/ht-$n.log" 2>&1) || exit 1
		[ -s "$OUT/ht-$n.zst" ] || mv "$(ls -t "$OUT"/ht-$n*.zst | head -1)" "$OUT/ht-$n.zst"
	fi
done

# run NAME CMD...: one timed run, appends "wall user sys maxrss_kb" to $OUT/NAME.times
run() {
	local name=$1; shift
	/usr/bin/time -f '%e %U %S %M' -o "$OUT/$name.t" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" ||
		say "$name failed: $(tail -2 "$OUT/$name.err")"
	cat "$OUT/$name.t" >>"$OUT/$name.times"
}
# med NAME FIELD: median of one column (1 wall, 2 user, 3 sys, 4 maxrss kB)
med() { awk -v f="$2" '{ print $f }' "$OUT/$1.times" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for n in $PAIRS; do
	rm -f "$OUT"/*-"$n".times
done
for r in $(seq "$RUNS"); do
	for n in $PAIRS; do
		say "run $r/$RUNS, $n pairs"
		run "hp-$n" heaptrack_print -f "$OUT/ht-$n.zst"
		run "lt-$n" "$LEAKHUNT" report "$OUT/lh-$n.lht"
		run "lj-$n" "$LEAKHUNT" report --json "$OUT/lh-$n.lht"
	done
done

# the format version in a trace's header (u32 at byte 8)
version() { od -An -tu4 -j8 -N4 "$1" | tr -d ' '; }
num() { sed -n "s/^$1: \([0-9]*\).*/\1/p" "$2" | head -1; }
section=$OUT/section.md
{
	echo "<!-- leakhunt-report:begin (bench/report.sh writes this section) -->"
	echo "## leakhunt report vs heaptrack_print"
	echo
	echo "Written by \`bash bench/report.sh\` on $(date -u +%Y-%m-%d) ($(nproc) CPUs; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))."
	echo "Program: \`bench/report_churn.c\` (malloc/free pairs through 4 call paths, a quarter of them temporaries),"
	echo "recorded by \`leakhunt record\` and by \`heaptrack\` in the same run. Median of $RUNS interleaved runs;"
	echo "wall and CPU (user+sys) seconds, peak RSS in MB, from \`/usr/bin/time\`. heaptrack_print reads its own"
	echo "zstd trace; leakhunt reads the .lht its current \`record\` wrote (format version $(version "$OUT/lh-${PAIRS##* }.lht"), recorded in this run)."
	echo
	echo "| events | trace size lht / heaptrack zst | heaptrack_print wall / CPU / RSS | leakhunt report wall / CPU / RSS | leakhunt --json wall / CPU / RSS | speed-up (wall, CPU) |"
	echo "|---|---|---|---|---|---|"
	for n in $PAIRS; do
		hw=$(med "hp-$n" 1); hc=$(awk -v a="$(med "hp-$n" 2)" -v b="$(med "hp-$n" 3)" 'BEGIN { print a + b }')
		lw=$(med "lt-$n" 1); lc=$(awk -v a="$(med "lt-$n" 2)" -v b="$(med "lt-$n" 3)" 'BEGIN { print a + b }')
		jw=$(med "lj-$n" 1); jc=$(awk -v a="$(med "lj-$n" 2)" -v b="$(med "lj-$n" 3)" 'BEGIN { print a + b }')
		printf '| %s M | %.1f MB / %.1f MB | %s s / %s s / %.1f MB | %s s / %s s / %.1f MB | %s s / %s s / %.1f MB | %.1fx, %.1fx |\n' \
			"$((2 * n / 1000000))" "$(echo "$(stat -c %s "$OUT/lh-$n.lht") / 1000000" | bc -l)" \
			"$(echo "$(stat -c %s "$OUT/ht-$n.zst") / 1000000" | bc -l)" \
			"$hw" "$hc" "$(echo "$(med "hp-$n" 4) / 1024" | bc -l)" \
			"$lw" "$lc" "$(echo "$(med "lt-$n" 4) / 1024" | bc -l)" \
			"$jw" "$jc" "$(echo "$(med "lj-$n" 4) / 1024" | bc -l)" \
			"$(echo "$hw / $lw" | bc -l)" "$(echo "$hc / $lc" | bc -l)"
	done
	echo
	echo "The numbers agree (heaptrack counts one more call: libstdc++'s 72,704-B pool in its own preload):"
	echo
	echo "| events | calls leakhunt / heaptrack | temporary leakhunt / heaptrack_print | peak leakhunt / heaptrack |"
	echo "|---|---|---|---|"
	for n in $PAIRS; do
		printf '| %s M | %s / %s | %s / %s | %s B / %s |\n' "$((2 * n / 1000000))" \
			"$(num 'calls to allocation functions' "$OUT/lt-$n.out")" "$(num 'calls to allocation functions' "$OUT/hp-$n.out")" \
			"$(num 'temporary memory allocations' "$OUT/lt-$n.out")" "$(num 'temporary memory allocations' "$OUT/hp-$n.out")" \
			"$(num 'peak heap memory consumption' "$OUT/lt-$n.out")" \
			"$(sed -n 's/^peak heap memory consumption: //p' "$OUT/hp-$n.out")"
	done
	echo
	echo "Memory: leakhunt keeps one entry per live block, per-stack costs and a bounded timeline, and"
	echo "releases the mapped trace behind its cursor, so its peak RSS is the same at 4 M and 16 M events."
	echo "<!-- leakhunt-report:end -->"
} >"$section"

# replace our section, or append it; never touch the rest of the file
put_section report "$section" "$DOC"
say "wrote the leakhunt report section of $DOC"
cat "$section" >&2
