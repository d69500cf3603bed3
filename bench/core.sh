#!/bin/bash
# bench/core.sh: the cost of taking a core of a running node process,
# `leakhunt core` against gdb's `gcore` on the same process (how long the
# process is stopped, how big the file is), and the census of that core,
# `leakhunt objects CORE` (time, throughput); writes the "leakhunt core"
# section of docs/benchmarks.md (between its markers; the rest of the file
# is left alone).
#
#   make bench-core      or      bash bench/core.sh
#
# Program: a node process holding N class instances with a string and an
# array each (about 150 bytes of heap per instance), sized to the heap sizes
# asked for, then idle.  Per heap size, BENCH_RUNS rounds of: leakhunt core,
# gcore (interleaved, medians reported), each core deleted once measured;
# then once, a heap snapshot of the same process (time, extra peak RSS).
#
# Environment:
#   BENCH_HEAPS="100 500"  heap sizes in MB (heapUsed)
#   BENCH_RUNS=3           rounds; medians are reported
#   BENCH_DOC=FILE         where the section goes (default docs/benchmarks.md)
#   LEAKHUNT=PATH          the binary (default build/leakhunt)
#
# Pause: leakhunt core's own report (first thread stopped to last resumed);
# for gcore the wall time of the gcore command, which keeps the process
# stopped from attaching to detaching.  File size: apparent size and the
# blocks on disk (both tools leave holes).  The census time is CPU time
# (user+sys) from /usr/bin/time, and wall time; 2 cores shared with other
# work, so wall times vary more than CPU times.
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
OUT=$ROOT/bench/out/core
RUNS=${BENCH_RUNS:-3}
HEAPS=${BENCH_HEAPS:-100 500}
LEAKHUNT=${LEAKHUNT:-$ROOT/build/leakhunt}
mkdir -p "$OUT"
command -v node >/dev/null || { echo "bench/core.sh: needs node" >&2; exit 1; }
command -v gcore >/dev/null || { echo "bench/core.sh: needs gcore (gdb)" >&2; exit 1; }
[ -x "$LEAKHUNT" ] || { echo "bench/core.sh: no $LEAKHUNT; run make" >&2; exit 1; }

PID=
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -f "$OUT"/core.*; }
trap cleanup EXIT

mb() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1e6 }'; }
now_ms() { date +%s%N | awk '{ printf "%.1f", $1 / 1e6 }'; }

cat >"$OUT/heap.js" <<'JS'
class Item { constructor(i) { this.id = i; this.name = 'item-' + i; this.tags = [i, i + 1]; } }
globalThis.items = [];
const want = +process.argv[2] * 1e6;
while (process.memoryUsage().heapUsed < want)
	for (let i = 0; i < 100000; i++) items.push(new Item(items.length));
console.log('ready', items.length, process.memoryUsage().heapUsed);
setInterval(() => {}, 1000);
JS

rows=()
for heap in $HEAPS; do
	node --max-old-space-size=8000 "$OUT/heap.js" "$heap" >"$OUT/heap.out" 2>&1 &
	PID=$!
	for i in $(seq 6000); do grep -q ready "$OUT/heap.out" && break; sleep 0.1; done
	grep -q ready "$OUT/heap.out" || { echo "bench/core.sh: node did not start: $(head -c 300 "$OUT/heap.out")" >&2; exit 1; }
	read -r _ nitems used <"$OUT/heap.out"
	rss=$(awk '/^VmRSS/ { printf "%d", $2 * 1024 }' "/proc/$PID/status")
	lp=() ; ls=() ; ld=() ; gp=() ; gs=() ; gd=() ; oc=() ; ow=() ; og=()
	for r in $(seq "$RUNS"); do
		"$LEAKHUNT" core -o "$OUT/core.lh" "$PID" >/dev/null 2>"$OUT/lh.err" || { cat "$OUT/lh.err" >&2; exit 1; }
		lp+=("$(sed -nE 's/.*paused ([0-9.]+) ms.*/\1/p' "$OUT/lh.err")")
		ls+=("$(stat -c %s "$OUT/core.lh")")
		ld+=("$(($(stat -c %b "$OUT/core.lh") * $(stat -c %B "$OUT/core.lh")))")
		/usr/bin/time -f "%e %U %S" -o "$OUT/time" "$LEAKHUNT" objects "$OUT/core.lh" --top 1 >"$OUT/census" 2>/dev/null
		read -r wall user sys <"$OUT/time"
		oc+=("$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')")
		ow+=("$wall")
		nobj=$(head -1 "$OUT/census" | sed -E 's/.*: ([0-9]+) objects.*/\1/')
		rm -f "$OUT/core.lh"

		t0=$(now_ms)
		gcore -o "$OUT/core.gdb" "$PID" >/dev/null 2>&1 || { echo "bench/core.sh: gcore failed" >&2; exit 1; }
		t1=$(now_ms)
		gp+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")
		g=$(ls "$OUT"/core.gdb* | head -1)
		gs+=("$(stat -c %s "$g")")
		gd+=("$(($(stat -c %b "$g") * $(stat -c %B "$g")))")
		/usr/bin/time -f "%e %U %S" -o "$OUT/time" "$LEAKHUNT" objects "$g" --top 1 >"$OUT/census.gdb" 2>/dev/null
		read -r wall user sys <"$OUT/time"
		og+=("$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')")
		rm -f "$OUT"/core.gdb*
	done
	# last, once (it grows the target for good): a heap snapshot of the same
	# process through the inspector, the alternative a core replaces; its time
	# (the event loop is blocked throughout) and the target's extra peak RSS
	hwm0=$(awk '/^VmHWM/ { printf "%d", $2 * 1024 }' "/proc/$PID/status")
	t0=$(now_ms)
	if "$LEAKHUNT" snapshot -o "$OUT/snap.heapsnapshot" "$PID" >/dev/null 2>"$OUT/snap.err"; then
		t1=$(now_ms)
		hwm1=$(awk '/^VmHWM/ { printf "%d", $2 * 1024 }' "/proc/$PID/status")
		snap="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }') ms, +$(mb $((hwm1 - hwm0))) MB peak RSS in the target"
	else
		snap="failed: $(head -c 200 "$OUT/snap.err")"
	fi
	rm -f "$OUT/snap.heapsnapshot"
	kill -9 "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
	PID=
	m_lp=$(printf '%s\n' "${lp[@]}" | median); m_gp=$(printf '%s\n' "${gp[@]}" | median)
	m_ls=$(printf '%s\n' "${ls[@]}" | median); m_gs=$(printf '%s\n' "${gs[@]}" | median)
	m_ld=$(printf '%s\n' "${ld[@]}" | median); m_gd=$(printf '%s\n' "${gd[@]}" | median)
	m_oc=$(printf '%s\n' "${oc[@]}" | median); m_ow=$(printf '%s\n' "${ow[@]}" | median)
	m_og=$(printf '%s\n' "${og[@]}" | median)
	rows+=("| $(mb "$used") MB heap ($nitems objects), RSS $(mb "$rss") MB | $m_lp ms | $(mb "$m_ls") / $(mb "$m_ld") MB ($(awk -v a="$m_ls" -v b="$rss" 'BEGIN { printf "%.2f", a / b }')x RSS) | $(awk -v a="$m_gp" 'BEGIN { printf "%.0f", a }') ms | $(mb "$m_gs") / $(mb "$m_gd") MB | $m_oc s ($m_ow s wall), $(awk -v b="$m_ls" -v t="$m_oc" 'BEGIN { if (t > 0) printf "%.2f", b / t / 1e9; else print "-" }') GB/s; $nobj objects | $m_og s | $snap |")
	echo "${rows[-1]}" >&2
done

section() {
	echo "<!-- leakhunt-core:begin (bench/core.sh writes this section) -->"
	echo "## leakhunt core: pause and file size against gcore, and the census of the core"
	echo
	echo "\`bash bench/core.sh\` ($(date -u +%Y-%m-%d), $RUNS rounds, medians; node $(node --version); $(nproc) cores"
	echo "shared with other work). A node process holding class instances (\`bench/out/core/heap.js\`);"
	echo "per round \`leakhunt core\`, then \`gcore\`, on the same idle process. Pause: leakhunt's own"
	echo "report; gcore's is the wall time of the command (the process is stopped throughout)."
	echo "Sizes: apparent / on disk. Census: \`leakhunt objects CORE --top 1\`, CPU (user+sys) and"
	echo "wall time, throughput over the core's apparent size. Last, once per process: a heap snapshot"
	echo "through the inspector instead, its time (the event loop is blocked throughout) and the growth"
	echo "of the target's peak RSS (VmHWM) it causes."
	echo
	echo "| process | leakhunt core pause | leakhunt core size | gcore pause | gcore size | objects on leakhunt's core | objects on gcore's core (CPU) | heap snapshot instead (\`leakhunt snapshot\`) |"
	echo "|---|---|---|---|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
	echo
	echo "Targets (issue 5): a core at most 1.2x the RSS, a pause under 2 s for a 500 MB heap, a census"
	echo "of at least 1 GB/s."
	echo "<!-- leakhunt-core:end -->"
}
section >"$OUT/section.md"
put_section core "$OUT/section.md" "$DOC"
cat "$OUT/section.md"
