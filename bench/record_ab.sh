#!/bin/bash
# Two builds of leakhunt record against each other, paired: which recorder
# costs the program's thread less?  `make bench-native` compares wall times
# against native runs, and on a shared machine its rounds move by 10% and
# more, too much to see a change of a few percent in the recorder.  Here
# each round records churn_fp (test/programs/churn.c, one thread, frame
# pointers) under build A and under build B back to back, the order
# alternating, and compares the CPU time of the program's thread itself
# (CLOCK_THREAD_CPUTIME_ID, which the writer thread on the other CPU does
# not add to); the ratio B/A of each round is what is summed up.
#
#   bash bench/record_ab.sh BUILD_A BUILD_B [ROUNDS (30)] [PAIRS (2000000)]
#
# BUILD_*: build directories holding leakhunt and libleakhunt.so
# (make BUILD=/tmp/a; git stash; make BUILD=/tmp/b ...).  Prints each
# round and the median and quartiles of B/A; writes no section of
# docs/benchmarks.md (a tool for changes, not a target).
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
A=${1:?usage: bench/record_ab.sh BUILD_A BUILD_B [ROUNDS] [PAIRS]}
B=${2:?usage: bench/record_ab.sh BUILD_A BUILD_B [ROUNDS] [PAIRS]}
ROUNDS=${3:-30}
PAIRS=${4:-2000000}
OUT=$PWD/bench/out/record_ab
say() { echo "bench/record_ab: $*" >&2; }
for d in "$A" "$B"; do
	[ -x "$d/leakhunt" ] && [ -f "$d/libleakhunt.so" ] || { say "$d: no leakhunt and libleakhunt.so there (make BUILD=$d)"; exit 2; }
done
mkdir -p "$OUT"
cc -O2 -g -pthread -fno-omit-frame-pointer -DCHURN_THREAD_CPU -o "$OUT/churn_fp" test/programs/churn.c || exit 1

# the program thread's CPU seconds under build $1
one() {
	rm -f "$OUT/t.lht"
	"$1/leakhunt" record -o "$OUT/t.lht" -- "$OUT/churn_fp" "$PAIRS" 1 2>&1 >/dev/null |
		awk '$1 == "thread-cpu" { print $2 }'
}
: >"$OUT/rounds"
for r in $(seq "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then a=$(one "$A"); b=$(one "$B"); else b=$(one "$B"); a=$(one "$A"); fi
	[ -n "$a" ] && [ -n "$b" ] || { say "round $r: a recording failed"; exit 1; }
	echo "$a $b" | tee -a "$OUT/rounds" | awk -v r="$r" '{ printf "round %d: A %.3f s, B %.3f s, B/A %.3f\n", r, $1, $2, $2 / $1 }'
done
rm -f "$OUT/t.lht"
awk '{ print $2 / $1 }' "$OUT/rounds" | sort -n >"$OUT/ratios"
awk -v m="$(median <"$OUT/ratios")" '{ v[NR] = $1 }
	END { printf "B/A over %d rounds: median %.3f, quartiles %.3f and %.3f\n", NR, m, v[int((NR + 3) / 4)], v[int((3 * NR + 1) / 4)] }' "$OUT/ratios"
