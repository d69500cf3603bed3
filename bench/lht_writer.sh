#!/bin/bash
# bench/lht_writer.sh: the preload's event writer alone (bench/lht_writer.c
# around src/native/preload/compress.c), version 2 (the default) against
# version 3 (`record --compact`), on the first thread's events of a trace of
# test/programs/churn.c; writes the "lht writer" section of docs/benchmarks.md
# (between its markers; the rest of the file is left alone).
#
#   bash bench/lht_writer.sh        (needs build/leakhunt and build/libleakhunt-core.a)
#
# Environment:
#   BENCH_RUNS=7        runs of each, interleaved; best and median reported
#   BENCH_PAIRS=4000000 malloc/free pairs of the recorded churn run
#   BENCH_DOC=FILE      where the section goes (default docs/benchmarks.md)
#
# One thread, nothing else of the preload: what the timer thread spends per
# event next to the program, without the program's noise.  "code" is version
# 3's pointer coding alone (no zstd); its bytes are the coded columns before
# compression.
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
OUT=$ROOT/bench/out/lht_writer
RUNS=${BENCH_RUNS:-7}
PAIRS=${BENCH_PAIRS:-4000000}
LEAKHUNT=$ROOT/build/leakhunt
mkdir -p "$OUT"
say() { echo "bench/lht_writer: $*" >&2; }
[ -x "$LEAKHUNT" ] && [ -f "$ROOT/build/libleakhunt-core.a" ] || { say "run make first"; exit 1; }
cc -O2 -g -pthread -o "$OUT/churn" "$ROOT/test/programs/churn.c" || exit 1
# the preload's own flags (Makefile's PRELOAD_CFLAGS, but not -fPIC/-shared)
cc -std=gnu11 -g -O2 -fno-omit-frame-pointer -pthread -D_GNU_SOURCE -Isrc -o "$OUT/lht_writer" \
	"$ROOT/bench/lht_writer.c" "$ROOT/build/libleakhunt-core.a" -lzstd -lm || exit 1
rm -f "$OUT/churn.lht"
say "recording churn $PAIRS 1"
"$LEAKHUNT" record -o "$OUT/churn" -- "$OUT/churn" "$PAIRS" 1 >/dev/null 2>&1 || { say "record failed"; exit 1; }

: >"$OUT/runs"
for i in $(seq "$RUNS"); do
	say "round $i/$RUNS"
	"$OUT/lht_writer" "$OUT/churn.lht" 0 >>"$OUT/runs" || exit 1
	"$OUT/lht_writer" "$OUT/churn.lht" 1 >>"$OUT/runs" || exit 1
	LHT_WRITER_CODE=1 "$OUT/lht_writer" "$OUT/churn.lht" 1 >>"$OUT/runs" || exit 1
done
# best, median and bytes per kind
stats() {
	awk -v k="$1" '$1 == k { print $7 }' "$OUT/runs" | sort -n |
		awk '{ v[NR] = $1 } END { printf "%.1f / %.1f", v[1], (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
bytes() { awk -v k="$1" '$1 == k { b = $9 } END { printf "%.3f", b }' "$OUT/runs"; }
events=$(awk '$1 == "v2" { print $5; exit }' "$OUT/runs")

SECTION=$OUT/section.md
{
	echo "<!-- leakhunt-lht-writer:begin (bench/lht_writer.sh writes this section) -->"
	echo "## The preload's event writer alone: version 2 against version 3 (\`record --compact\`)"
	echo
	echo "Written by \`bash bench/lht_writer.sh\` on $(date -u +%Y-%m-%d) ($(nproc) CPUs; load average at the"
	echo "end: $(cut -d' ' -f1-3 /proc/loadavg)). The first thread's events of \`leakhunt record -- churn $PAIRS 1\`"
	echo "($events events over two rounds, the writer's state carried on), put into halves as record.c fills"
	echo "them and written by \`lh_write_half\` in one thread with nothing else running beside it"
	echo "(bench/lht_writer.c); $RUNS runs of each, interleaved. \"code\": version 3's pointer coding alone,"
	echo "without zstd (its bytes: the coded columns before compression)."
	echo
	echo "| writer | ns an event, best / median | bytes an event |"
	echo "|---|---|---|"
	echo "| version 2 (default): columns, zstd | $(stats v2) | $(bytes v2) |"
	echo "| version 3 (\`--compact\`): pointers by reference, zstd | $(stats v3) | $(bytes v3) |"
	echo "| version 3's coding alone | $(stats code) | $(bytes code) |"
	echo "<!-- leakhunt-lht-writer:end -->"
} >"$SECTION"

put_section lht-writer "$SECTION" "$DOC"
say "wrote the lht writer section of $DOC"
cat "$SECTION" >&2
