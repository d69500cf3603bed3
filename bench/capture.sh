#!/bin/bash
# bench/capture.sh: the cost of a heap snapshot taken from outside,
# `leakhunt snapshot PID` (the default, --method auto: the target writes the
# file when it is local, as here), `--method stream` (inspector protocol,
# streamed to disk) and `--method write` (the target writes the file), against
# the process writing the same heap itself with v8.writeHeapSnapshot(); and
# leakhunt's own peak RSS while it captures.  Writes the "leakhunt snapshot
# (capture)" section of docs/benchmarks.md (between its markers; the rest of
# the file is left alone).
#
#   make bench-capture      or      bash bench/capture.sh
#
# Target: bench/capture-target.js, a quiet node process whose heap snapshot is
# about SIZE MB, started without --inspect (leakhunt opens the inspector with
# SIGUSR1 and closes it again, as a user would see it).  Per size, one
# untimed in-process snapshot to /dev/null (warm-up), then BENCH_RUNS rounds
# on that one process, rotating which goes first:
#   (a) in process: "write FILE" on the target's stdin; the target times the
#       v8.writeHeapSnapshot() call alone and reports it (the anchor);
#   (b) from outside: /usr/bin/time leakhunt snapshot -o FILE PID, wall time
#       of the whole command (pid check, opening the inspector, the capture,
#       fsync, closing the inspector) and leakhunt's peak RSS (max RSS), with
#       the method it chose;
#   (c) the same with --method stream;
#   (d) the same with --method write.
# Medians, and their ratios to (a).  In the first round the files go through
# `leakhunt summary --json`: same node and edge counts (within 1 %) and the
# same per-class counts for the program's classes as (a)'s, so the runs
# wrote the same heap.  Also the target's CPU time (utime + stime of all its
# threads) during each step: the cost to the process, less disturbed by
# other work on the machine than wall times.  Files are deleted once measured.
#
# Environment:
#   BENCH_SIZES="100 1000"  snapshot sizes in MB
#   BENCH_RUNS=3            rounds for sizes under 500 MB
#   BENCH_RUNS_BIG=2        rounds for 500 MB and up (each ~minutes)
#   BENCH_DOC=FILE          where the section goes (default docs/benchmarks.md)
#   LEAKHUNT=PATH           the binary (default build/leakhunt)
set -u
cd "$(dirname "$0")/.."
. bench/lib.sh
OUT=$ROOT/bench/out/capture
SIZES=${BENCH_SIZES:-100 1000}
RUNS=${BENCH_RUNS:-3}
RUNS_BIG=${BENCH_RUNS_BIG:-2}
LEAKHUNT=${LEAKHUNT:-$ROOT/build/leakhunt}
mkdir -p "$OUT"
command -v node >/dev/null || { echo "bench/capture.sh: needs node" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench/capture.sh: needs /usr/bin/time (GNU time)" >&2; exit 1; }
[ -x "$LEAKHUNT" ] || { echo "bench/capture.sh: no $LEAKHUNT; run make" >&2; exit 1; }

PID=
cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
	exec 3>&- 2>/dev/null
	rm -f "$OUT"/*.heapsnapshot* "$OUT/cmd"
}
trap cleanup EXIT
die() { echo "bench/capture.sh: $*" >&2; exit 1; }

TICK=$(getconf CLK_TCK)
# the target's CPU time so far (user + system, all threads), in s
cpu_s() { awk -v t="$TICK" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$PID/stat"; }
# timed STEP...: run it, add the target's CPU time it took to $OUT/cpu
timed() {
	local c0=$(cpu_s)
	"$@"
	awk -v a="$c0" -v b="$(cpu_s)" 'BEGIN { printf "%.2f\n", b - a }' >"$OUT/cpu"
}

mb() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1e6 }'; }

# wait_line PATTERN: until the target's output has one more line matching it (10 min at most)
wait_line() {
	local want=$(($(grep -c "$1" "$OUT/target.out") + 1)) i
	for i in $(seq 60000); do
		[ "$(grep -c "$1" "$OUT/target.out")" -ge "$want" ] && return 0
		kill -0 "$PID" 2>/dev/null || die "the target died: $(tail -c 300 "$OUT/target.out")"
		sleep 0.01
	done
	die "the target did not answer"
}

# in_process FILE: the target writes FILE itself; its own time in s goes to $last_in
# (these helpers run in the main shell, so that die ends the script)
in_process() {
	local n=$(grep -c '^wrote' "$OUT/target.out")
	echo "write $1" >&3
	wait_line '^wrote'
	last_in=$(grep '^wrote' "$OUT/target.out" | sed -n "$((n + 1))p" | awk '{ printf "%.2f", $3 / 1000 }')
}

# outside FILE [OPTION...]: leakhunt snapshot; "WALL_S MAXRSS_KB" in $OUT/time, its stderr in $OUT/lh.err
outside() {
	local f=$1
	shift
	/usr/bin/time -f "%e %M" -o "$OUT/time" "$LEAKHUNT" snapshot "$@" -o "$f" "$PID" >/dev/null 2>"$OUT/lh.err" ||
		die "leakhunt snapshot failed: $(cat "$OUT/lh.err")"
}

# same_heap A B: node/edge counts and the program's class counts of both files
same_heap() {
	"$LEAKHUNT" summary --json "$1" >"$OUT/a.json" 2>/dev/null || die "cannot summarize $1"
	"$LEAKHUNT" summary --json "$2" >"$OUT/b.json" 2>/dev/null || die "cannot summarize $2"
	node -e '
		const [a, b] = process.argv.slice(1).map((f) => JSON.parse(require("fs").readFileSync(f)));
		const count = (s, name) => (s.classes.find((c) => c.name === name) || { count: 0 }).count;
		const near = (x, y) => Math.abs(x - y) <= 0.01 * Math.max(x, y);
		const same = ["Entry", "Customer"].every((k) => count(a, k) === count(b, k) && count(a, k) > 0);
		const ok = same && near(a.node_count, b.node_count) && near(a.edge_count, b.edge_count);
		console.log(`${ok ? "same heap" : "**different heaps**"}: nodes ${a.node_count} / ${b.node_count}, ` +
			`edges ${a.edge_count} / ${b.edge_count}, Entry ${count(a, "Entry")} / ${count(b, "Entry")}`);
	' "$OUT/a.json" "$OUT/b.json"
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
rows=()
targets=()
for size in $SIZES; do
	runs=$RUNS
	[ "$size" -ge 500 ] && runs=$RUNS_BIG
	rm -f "$OUT/cmd" && mkfifo "$OUT/cmd"
	node --max-old-space-size=20000 bench/capture-target.js "$size" <"$OUT/cmd" >"$OUT/target.out" 2>&1 &
	PID=$!
	exec 3>"$OUT/cmd" # held open: the target's stdin stays open between commands
	wait_line '^ready'
	read -r _ nrec used _ < <(grep '^ready' "$OUT/target.out")
	# warm-up, untimed: the first snapshot of a fresh heap also pays for growing the
	# process to several times the heap (one run: 141 s, then 47 s, at 1 GB)
	in_process /dev/null
	ins=() ; outs=() ; rss=() ; wrs=() ; wrss=() ; dfs=() ; drss=() ; fsize= ; check= ; wcheck= ; dcheck=
	cin=() ; cout=() ; cwr=() ; cdf=() ; dmethods=()
	for r in $(seq "$runs"); do
		a="$OUT/inproc-$r.heapsnapshot" b="$OUT/stream-$r.heapsnapshot" c="$OUT/write-$r.heapsnapshot"
		d="$OUT/default-$r.heapsnapshot"
		for k in $(seq 0 3); do
			case $(((r - 1 + k) % 4)) in
			0) timed in_process "$a" && ins+=("$last_in") && cin+=("$(cat "$OUT/cpu")") ;;
			1) timed outside "$b" --method stream && read -r wall kb <"$OUT/time" && cout+=("$(cat "$OUT/cpu")") ;;
			2) timed outside "$c" --method write && read -r wwall wkb <"$OUT/time" && cwr+=("$(cat "$OUT/cpu")") ;;
			3) timed outside "$d" && read -r dwall dkb <"$OUT/time" && cdf+=("$(cat "$OUT/cpu")") &&
				dmethods+=("$(sed -n 's/.*(method \([a-z]*\).*/\1/p' "$OUT/lh.err" | tail -1)") ;;
			esac
		done
		outs+=("$wall") ; rss+=("$kb") ; wrs+=("$wwall") ; wrss+=("$wkb") ; dfs+=("$dwall") ; drss+=("$dkb")
		echo "size $size round $r: in process ${ins[-1]} s (target CPU ${cin[-1]} s), default (${dmethods[-1]}) $dwall s (max RSS $dkb KB, target CPU ${cdf[-1]} s), --method stream $wall s (max RSS $kb KB, target CPU ${cout[-1]} s), --method write $wwall s (max RSS $wkb KB, target CPU ${cwr[-1]} s)" >&2
		if [ "$r" = 1 ]; then
			fsize=$(stat -c %s "$b")
			check=$(same_heap "$a" "$b") || exit 1
			wcheck=$(same_heap "$a" "$c") || exit 1
			dcheck=$(same_heap "$a" "$d") || exit 1
			echo "stream: $check; write: $wcheck; default: $dcheck" >&2
		fi
		rm -f "$a" "$b" "$c" "$d"
	done
	exec 3>&-
	kill -9 "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
	PID=
	m_in=$(printf '%s\n' "${ins[@]}" | median)
	m_out=$(printf '%s\n' "${outs[@]}" | median)
	m_rss=$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)
	m_wr=$(printf '%s\n' "${wrs[@]}" | median)
	m_wrss=$(printf '%s\n' "${wrss[@]}" | sort -n | tail -1)
	m_df=$(printf '%s\n' "${dfs[@]}" | median)
	m_drss=$(printf '%s\n' "${drss[@]}" | sort -n | tail -1)
	m_cdf=$(printf '%s\n' "${cdf[@]}" | median)
	dratio=$(awk -v a="$m_df" -v b="$m_in" 'BEGIN { printf "%.2f", a / b }')
	# the method the default chose, per round (all the same unless a write failed)
	dmethod=$(printf '%s\n' "${dmethods[@]}" | sort -u | paste -sd/)
	ratio=$(awk -v a="$m_out" -v b="$m_in" 'BEGIN { printf "%.2f", a / b }')
	wratio=$(awk -v a="$m_wr" -v b="$m_in" 'BEGIN { printf "%.2f", a / b }')
	m_cin=$(printf '%s\n' "${cin[@]}" | median)
	m_cout=$(printf '%s\n' "${cout[@]}" | median)
	m_cwr=$(printf '%s\n' "${cwr[@]}" | median)
	rows+=("| $(mb "$fsize") MB snapshot ($nrec records, heapUsed $(mb "$used") MB) | $runs | $m_in s; CPU $m_cin s | $dmethod: $m_df s, **${dratio}x**, $((m_drss / 1024)) MB; CPU $m_cdf s | $m_out s, **${ratio}x**, $((m_rss / 1024)) MB; CPU $m_cout s | $m_wr s, **${wratio}x**, $((m_wrss / 1024)) MB; CPU $m_cwr s | stream: $check; write: ${wcheck%%:*}; default: ${dcheck%%:*} |")
	echo "${rows[-1]}" >&2
	met=no
	awk -v x="$dratio" 'BEGIN { exit !(x <= 1.10) }' && met=yes
	targets+=("| capture time within 10 % of writeHeapSnapshot ($(mb "$fsize") MB), \`leakhunt snapshot PID\` (default: auto, chose $dmethod) | ${dratio}x ($m_df s / $m_in s; target CPU $m_cdf s / $m_cin s) | $met |")
	met=no
	awk -v x="$ratio" 'BEGIN { exit !(x <= 1.10) }' && met=yes
	targets+=("| the same with \`--method stream\` ($(mb "$fsize") MB; what a target reached by --port/--url or in a container gets) | ${ratio}x ($m_out s / $m_in s; target CPU $m_cout s / $m_cin s) | $met |")
	met=no
	awk -v x="$wratio" 'BEGIN { exit !(x <= 1.10) }' && met=yes
	targets+=("| the same with \`--method write\` ($(mb "$fsize") MB) | ${wratio}x ($m_wr s / $m_in s; target CPU $m_cwr s / $m_cin s) | $met |")
	if [ "$size" -ge 1000 ]; then
		met=no
		[ "$m_rss" -lt $((50 * 1024)) ] && met=yes
		targets+=("| leakhunt's peak RSS under 50 MB capturing $(mb "$fsize") MB (stream) | $((m_rss / 1024)) MB | $met |")
	fi
done

section() {
	echo "<!-- leakhunt-capture:begin (bench/capture.sh writes this section) -->"
	echo "## leakhunt snapshot: capture time against in-process v8.writeHeapSnapshot, and leakhunt's RSS"
	echo
	echo "\`bash bench/capture.sh\` ($(date -u +%Y-%m-%d); node $(node --version); $(nproc) cores shared with"
	echo "other work; load average at the start: $LOAD_START, at the end: $(cut -d' ' -f1-3 /proc/loadavg))."
	echo "One quiet node process per size (\`bench/capture-target.js SIZE_MB\`, started without"
	echo "\`--inspect\`), one untimed snapshot to /dev/null first (the first snapshot of a fresh heap"
	echo "also pays for growing the process); rounds rotate which goes first: the process writing its"
	echo "own snapshot (\`v8.writeHeapSnapshot()\` on a line on its stdin, the call timed inside the"
	echo "process), \`leakhunt snapshot -o FILE PID\` (the default, \`--method auto\`, which picks write"
	echo "for this local target), \`--method stream\` and \`--method write\`,"
	echo "all timed from outside (wall time of the whole command: pid check, opening the inspector"
	echo "with SIGUSR1, capture, fsync, closing the inspector) under \`/usr/bin/time\` for their max"
	echo "RSS. Medians; ratios to the in-process time; RSS is the highest of the rounds. CPU: the"
	echo "target's CPU time (user + system, all its threads) during each, what the capture costs the"
	echo "process (less disturbed by other work than wall times). The files of the first round are"
	echo "compared with \`leakhunt summary --json\`."
	echo
	echo "| heap | rounds | v8.writeHeapSnapshot (in process) | leakhunt snapshot (default): method, time, ratio, peak RSS | --method stream: time, ratio, peak RSS | --method write: time, ratio, peak RSS | same heap? |"
	echo "|---|---|---|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
	echo
	echo "| target (issue 4) | measured | met |"
	echo "|---|---|---|"
	printf '%s\n' "${targets[@]}"
	echo "<!-- leakhunt-capture:end -->"
}
section >"$OUT/section.md"
put_section capture "$OUT/section.md" "$DOC"
cat "$OUT/section.md"
