#!/bin/bash
# `make bench`: time `leakhunt summary` against the anchors on generated snapshots,
# and write docs/benchmarks.md.
#
#   bash bench/run.sh            M (~100 MB) and L (~1 GB)
#   BENCH_XL=1 bash bench/run.sh also XL (~2.6 GB) and strbig (strings section over
#                                512 Mi characters): load checks (`leakhunt stats`)
#
# Anchors, measured in the same run (the numbers that count are ratios against them):
#   DevTools: Chrome DevTools' heap snapshot loader computing the Summary
#             (bench/devtools-summary.mjs, heap-snapshot-toolkit 1.1.3)
#   memlab:   memlab 2.0.5 `memlab analyze object-size --snapshot F`
#
# Environment:
#   BENCH_SIZES="M L"   which sizes to time (default both)
#   BENCH_RUNS=3        runs per measurement (median); BENCH_JS_RUNS_L=1 for the JS
#                       tools on L (they take about a minute each)
#   BENCH_XL=1          also generate and load XL and strbig (minutes, ~13 GB RSS)
#   BENCH_XL=only       only that: replaces the XL section of an existing report
#   BENCH_PERF=1        also `perf record -g` one leakhunt run on the largest size and
#                       put the top functions into the report
#   BENCH_DOC=FILE      where to write the report (default docs/benchmarks.md)
#   LEAKHUNT=PATH       the binary (default build/leakhunt)
#
# Snapshots are generated once into bench/out/ and kept (delete them to regenerate).
# Peak RSS and wall time come from /usr/bin/time -f '%e %M %U %S'.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH=$ROOT/bench
OUT=$BENCH/out
LOGS=$OUT/logs
LEAKHUNT=${LEAKHUNT:-$ROOT/build/leakhunt}
SIZES=${BENCH_SIZES:-M L}
RUNS=${BENCH_RUNS:-3}
JS_RUNS_L=${BENCH_JS_RUNS_L:-1}
DOC=${BENCH_DOC:-$ROOT/docs/benchmarks.md}
XL=${BENCH_XL:-}
[ "$XL" = only ] && SIZES=""
PERF=${BENCH_PERF:-}
mkdir -p "$OUT" "$LOGS"

# Request counts: about 2.6 KB of snapshot per request.
REQ_M=36000
REQ_L=380000
REQ_XL=945000
STRBIG_COUNT=600000

say() { echo "bench: $*" >&2; }
die() { say "error: $*"; exit 1; }

[ -x "$LEAKHUNT" ] || die "$LEAKHUNT not built (make)"
# time a copy: the tree is shared, and a rebuild in the middle of the run would
# mix two binaries in one table
cp "$LEAKHUNT" "$OUT/leakhunt.bench" || die "cannot copy $LEAKHUNT"
LEAKHUNT_SRC=$LEAKHUNT
LEAKHUNT=$OUT/leakhunt.bench
[ -x /usr/bin/time ] || die "/usr/bin/time missing (apt-get install time)"
command -v node >/dev/null || die "node missing"

# --- anchors -------------------------------------------------------------------
if [ ! -d "$BENCH/node_modules/heap-snapshot-toolkit" ] || [ ! -x "$BENCH/node_modules/.bin/memlab" ]; then
	say "installing the anchors into bench/node_modules (npm)"
	(cd "$BENCH" && PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-audit --no-fund >"$LOGS/npm.log" 2>&1) ||
		die "npm install failed, see $LOGS/npm.log"
fi
DEVTOOLS_VERSION=$(node -p "require('$BENCH/node_modules/heap-snapshot-toolkit/package.json').version")
MEMLAB_VERSION=$(node -p "require('$BENCH/node_modules/memlab/package.json').version")

# --- snapshots -----------------------------------------------------------------
# gen NAME FILE CMD...: run CMD (which writes $OUT/.tmp-*) unless FILE exists.
gen() {
	local name=$1 file=$2; shift 2
	if [ -s "$file" ]; then
		say "$name: using cached $(basename "$file")"
		return 0
	fi
	say "$name: generating $(basename "$file") (this takes a while)"
	rm -f "$OUT"/.tmp-*
	(cd "$OUT" && /usr/bin/time -f '%e %M' -o "$LOGS/gen-$name.time" "$@") >"$LOGS/gen-$name.log" 2>&1 ||
		die "generating $name failed, see $LOGS/gen-$name.log"
	cat "$LOGS/gen-$name.log" >&2
}
FILE_M=$OUT/m-$REQ_M.heapsnapshot
FILE_L=$OUT/l-$REQ_L.heapsnapshot
FILE_XL=$OUT/xl-$REQ_XL.heapsnapshot
FILE_STRBIG=$OUT/strbig-$STRBIG_COUNT.heapsnapshot
for s in $SIZES; do
	case $s in
	M) gen M "$FILE_M" sh -c "node '$BENCH/leaky.js' $REQ_M .tmp-m && mv .tmp-m-$REQ_M.heapsnapshot '$FILE_M'" ;;
	L) gen L "$FILE_L" sh -c "node --max-old-space-size=20000 '$BENCH/leaky.js' $REQ_L .tmp-l && mv .tmp-l-$REQ_L.heapsnapshot '$FILE_L'" ;;
	*) die "unknown size $s (M or L)" ;;
	esac
done
if [ -n "$XL" ]; then
	gen XL "$FILE_XL" sh -c "node --max-old-space-size=20000 '$BENCH/leaky.js' $REQ_XL .tmp-xl && mv .tmp-xl-$REQ_XL.heapsnapshot '$FILE_XL'"
	gen strbig "$FILE_STRBIG" sh -c "node --max-old-space-size=8000 '$BENCH/strbig.js' $STRBIG_COUNT .tmp-strbig.heapsnapshot && mv .tmp-strbig.heapsnapshot '$FILE_STRBIG'"
fi

# --- measuring -----------------------------------------------------------------
# measure LABEL N CMD...: run CMD N times (stdout to $LOGS/LABEL.out, stderr to
# $LOGS/LABEL.err), append "wall rss_kb cpu_s status" per run to $LOGS/LABEL.runs,
# and set M_WALL M_RSS M_CPU (medians over the runs, by wall time) and M_STATUS
# (0, or the first failing exit status).
measure() {
	local label=$1 n=$2; shift 2
	local i st w r u s
	: >"$LOGS/$label.runs"
	M_STATUS=0
	for ((i = 1; i <= n; i++)); do
		sync
		wait_idle
		/usr/bin/time -f '%e %M %U %S' -o "$LOGS/$label.time" "$@" >"$LOGS/$label.out" 2>"$LOGS/$label.err"
		st=$?
		read -r w r u s <"$(tail_time "$LOGS/$label.time")"
		echo "$w $r $(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", u+s}') $st" >>"$LOGS/$label.runs"
		say "$label run $i/$n: ${w} s, $((r / 1024)) MB, exit $st"
		if [ "$st" != 0 ]; then M_STATUS=$st; break; fi
	done
	read -r M_WALL M_RSS M_CPU <<<"$(sort -n -k1,1 "$LOGS/$label.runs" |
		awk '{w[NR]=$1; r[NR]=$2; c[NR]=$3} END {m=int((NR+1)/2); print w[m], r[m], c[m]}')"
	M_RUNS=$(wc -l <"$LOGS/$label.runs")
}
# wait_idle: the machine is shared; wait up to $IDLE_WAIT s (BENCH_IDLE_WAIT,
# default 30) for the CPUs to be at least 75 % idle over one second, then run anyway.
# Sets BUSY to the busy percentage seen last.
IDLE_WAIT=${BENCH_IDLE_WAIT:-30}
cpu_busy() {
	local a b
	a=($(head -n 1 /proc/stat)); sleep 1; b=($(head -n 1 /proc/stat))
	awk -v u1="${a[1]}" -v n1="${a[2]}" -v s1="${a[3]}" -v i1="${a[4]}" -v w1="${a[5]}" \
		-v u2="${b[1]}" -v n2="${b[2]}" -v s2="${b[3]}" -v i2="${b[4]}" -v w2="${b[5]}" \
		'BEGIN { busy = (u2-u1) + (n2-n1) + (s2-s1); idle = (i2-i1) + (w2-w1);
			printf "%d", ((busy + idle) > 0 ? 100 * busy / (busy + idle) : 0) }'
}
wait_idle() {
	local t=0
	BUSY=$(cpu_busy)
	while [ "$BUSY" -gt 25 ] && [ "$t" -lt "$IDLE_WAIT" ]; do
		sleep 1; t=$((t + 2))
		BUSY=$(cpu_busy)
	done
	BUSY_SEEN+=" $BUSY"
}
BUSY_SEEN=""
# /usr/bin/time writes "Command exited with non-zero status N" before the numbers.
tail_time() { tail -n 1 "$1" >"$1.last"; echo "$1.last"; }

# timeline OUT CMD...: run CMD once; OUT gets its stderr lines and its RSS every
# 0.25 s, each line prefixed with the seconds since the start, in time order.
timeline() {
	local out=$1; shift
	local t0 pid r
	t0=$(date +%s.%N)
	"$@" >/dev/null 2> >(while IFS= read -r line; do
		echo "$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN{printf "%7.2f", a-b}')  $line"
	done >"$out.msg") &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		r=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null)
		[ -n "$r" ] && echo "$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN{printf "%7.2f", a-b}')  rss $((r / 1024)) MiB"
		sleep 0.25
	done >"$out.rss"
	wait "$pid"
	sleep 0.2	# let the stderr reader finish
	sort -n -s -k1,1 "$out.msg" "$out.rss" >"$out"
}
# thin FILE: every message line, RSS lines only where RSS moved by 5 % or more,
# and the peak.
thin() {
	awk '/ rss [0-9]+ MiB$/ {
		r = $3; if (r > peak) { peak = r; peakline = $0 }
		if (last == 0 || r > last * 1.05 || r < last * 0.95) { print; last = r }
		next }
		{ print }
		END { if (peakline != "") print "   peak" substr(peakline, 8) }' "$1"
}

fsize() { stat -c %s "$1"; }
git_rev() {
	local rev
	rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)
	[ -n "$(git -C "$ROOT" status --porcelain -- src Makefile 2>/dev/null)" ] && rev="$rev (with uncommitted changes in src/ or Makefile)"
	echo "$rev"
}
# sizes in MB = 10^6 bytes, for files and RSS alike (/usr/bin/time's %M is in KiB)
mb() { awk -v b="$1" 'BEGIN{printf "%.0f", b/1e6}'; }
kb2mb() { awk -v k="$1" 'BEGIN{printf "%.0f", k*1024/1e6}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.1f", a/b; else print "-" }'; }
errline() { grep -m1 -E 'Error|error|FATAL|Killed' "$1" | cut -c1-160 | sed 's/|/\\|/g'; }

START_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
ROWS=()
TARGETS=()
AGREE=()
LH_VERBOSE=""
for s in $SIZES; do
	case $s in M) f=$FILE_M ;; L) f=$FILE_L ;; esac
	size=$(fsize "$f")
	js_runs=$RUNS
	[ "$s" = L ] && js_runs=$JS_RUNS_L
	cat "$f" >/dev/null	# the page cache holds the file for every tool alike

	measure "leakhunt-$s" "$RUNS" "$LEAKHUNT" summary "$f"
	lw=$M_WALL lr=$M_RSS lc=$M_CPU ln=$M_RUNS lst=$M_STATUS
	measure "devtools-$s" "$js_runs" node "$BENCH/devtools-summary.mjs" "$f"
	dw=$M_WALL dr=$M_RSS dc=$M_CPU dn=$M_RUNS dst=$M_STATUS
	measure "memlab-$s" "$js_runs" "$BENCH/node_modules/.bin/memlab" analyze object-size --snapshot "$f"
	mw=$M_WALL mr=$M_RSS mc=$M_CPU mn=$M_RUNS mst=$M_STATUS

	row() {	# tool wall rss cpu runs status wall-ratio cpu-ratio
		if [ "$6" = 0 ]; then
			echo "| $s | $(mb "$size") MB | $1 | $2 | $(kb2mb "$3") MB | $4 | $5 | $7 | $8 |"
		else
			echo "| $s | $(mb "$size") MB | $1 | **fails** (exit $6) after $2 s | $(kb2mb "$3") MB | $4 | $5 | - | - |"
		fi
	}
	ROWS+=("$(row "leakhunt summary" "$lw" "$lr" "$lc" "$ln" "$lst" "1" "1")")
	ROWS+=("$(row "DevTools loader + Summary" "$dw" "$dr" "$dc" "$dn" "$dst" "$(ratio "$dw" "$lw")x" "$(ratio "$dc" "$lc")x")")
	ROWS+=("$(row "memlab analyze object-size" "$mw" "$mr" "$mc" "$mn" "$mst" "$(ratio "$mw" "$lw")x" "$(ratio "$mc" "$lc")x")")
	[ "$lst" = 0 ] || say "leakhunt summary failed on $s: $(errline "$LOGS/leakhunt-$s.err")"

	if [ "$s" = L ] || [ "$SIZES" = M ]; then
		sp=$(ratio "$dw" "$lw")
		sp_ok=$(awk -v a="$dw" -v b="$lw" -v st="$lst$dst" 'BEGIN{print (st=="00" && b > 0 && a/b >= 15) ? "met" : "**not met**"}')
		rss_ok=$(awk -v r="$lr" -v f="$size" -v st="$lst" 'BEGIN{print (st=="0" && r*1024 <= f) ? "met" : "**not met**"}')
		TARGETS+=("| at least 15x faster than DevTools' loader ($s) | ${sp}x ($dw s / $lw s) | $sp_ok |")
		TARGETS+=("| peak RSS no larger than the snapshot ($s) | $(kb2mb "$lr") MB vs $(mb "$size") MB file ($(ratio "$((lr * 1024))" "$size")x) | $rss_ok |")
	fi
	# the timings only mean something if both compute the same Summary
	if [ "$lst$dst" = 00 ]; then
		if "$LEAKHUNT" summary --json --all "$f" >"$LOGS/leakhunt-$s.json" 2>>"$LOGS/leakhunt-$s.err"; then
			AGREE+=("- $s: $(node "$BENCH/compare.mjs" "$LOGS/devtools-$s.out" "$LOGS/leakhunt-$s.json" 2>&1 | head -n 1)")
		else
			AGREE+=("- $s: \`leakhunt summary --json --all\` failed: $(errline "$LOGS/leakhunt-$s.err")")
		fi
	fi
	# one more run with -vv: leakhunt's own messages and its RSS, on one time line
	if [ "$lst" = 0 ]; then
		timeline "$LOGS/leakhunt-$s.timeline" "$LEAKHUNT" -vv summary "$f"
		LH_VERBOSE+="$s ($(basename "$f")), seconds since start, RSS sampled every 0.25 s:"$'\n'
		LH_VERBOSE+="$(thin "$LOGS/leakhunt-$s.timeline")"$'\n\n'
	fi
done

# --- XL and strbig: load checks ------------------------------------------------
XL_SECTION=$OUT/xl-section.md
if [ -n "$XL" ]; then
	{
		echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') with \`BENCH_XL=1\`, leakhunt commit $(git_rev) (n=1 each;"
		echo "\`leakhunt stats FILE\` loads the whole snapshot and computes DevTools' Statistics)."
		echo
		echo "| snapshot | file | command | result | wall s | peak RSS | CPU s |"
		echo "|---|---:|---|---|---:|---:|---:|"
		for pair in "XL:$FILE_XL" "strbig:$FILE_STRBIG"; do
			name=${pair%%:*} f=${pair#*:}
			size=$(fsize "$f")
			measure "leakhunt-stats-$name" 1 "$LEAKHUNT" stats "$f"
			if [ "$M_STATUS" = 0 ]; then res=loads; else res="**fails** (exit $M_STATUS): $(errline "$LOGS/leakhunt-stats-$name.err")"; fi
			echo "| $name | $(mb "$size") MB | \`leakhunt stats\` | $res | $M_WALL | $(kb2mb "$M_RSS") MB | $M_CPU |"
			if [ "$name" = strbig ]; then	# the JS loader fails within seconds: show it
				measure "devtools-strbig" 1 node "$BENCH/devtools-summary.mjs" "$f"
				if [ "$M_STATUS" = 0 ]; then res=loads; else res="**fails** (exit $M_STATUS): $(errline "$LOGS/devtools-strbig.err")"; fi
				echo "| $name | $(mb "$size") MB | DevTools loader | $res | $M_WALL | $(kb2mb "$M_RSS") MB | $M_CPU |"
			fi
		done
		echo
		for name in XL strbig; do
			[ -s "$LOGS/gen-$name.time" ] || continue
			read -r gw gr <"$LOGS/gen-$name.time"
			echo "- generating $name took $gw s at $(kb2mb "$gr") MB peak RSS (node)."
		done
		grep -h 'strbig.js:' "$LOGS/gen-strbig.log" 2>/dev/null | sed 's/^/- /'
	} >"$XL_SECTION.new" && mv "$XL_SECTION.new" "$XL_SECTION"
fi

# --- perf profile ----------------------------------------------------------------
PERF_SECTION=""
if [ -n "$PERF" ] && command -v perf >/dev/null; then
	last=${SIZES##* }
	case $last in M) f=$FILE_M ;; L) f=$FILE_L ;; esac
	say "perf record on $last"
	if perf record -g -o "$OUT/perf-$last.data" "$LEAKHUNT" summary "$f" >/dev/null 2>"$LOGS/perf-record.err"; then
		PERF_SECTION=$(perf report -i "$OUT/perf-$last.data" --no-children --stdio --sort dso,symbol -g none \
			--percent-limit 0.5 2>/dev/null | grep -E '^ +[0-9]' | sed 's/[ -]*$//' | head -n 25)
		PERF_SIZE=$last
	fi
fi

# --- the report --------------------------------------------------------------------
full_report() {
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
CPU_MODEL=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
MEM_TOTAL=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)
OS=$( (. /etc/os-release && echo "$PRETTY_NAME") 2>/dev/null)
GIT=$(git_rev)
{
	echo "# Benchmarks"
	echo
	echo "Generated by \`make bench\` (\`bench/run.sh\`); do not edit by hand. Wall time and peak RSS from"
	echo "\`/usr/bin/time -f '%e %M %U %S'\`; each cell is the median of the runs counted in \"runs\"."
	echo "The numbers that matter are the ratios against the anchors, measured in the same run on the"
	echo "same machine: absolute times move with the machine and its load."
	echo
	echo "## Machine"
	echo
	echo "- date: $START_DATE; leakhunt commit $GIT"
	echo "- CPU: $CPU_MODEL, nproc $(nproc); RAM: $MEM_TOTAL; $OS, kernel $(uname -r)"
	echo "- node $(node --version); heap-snapshot-toolkit $DEVTOOLS_VERSION (DevTools' loader); memlab $MEMLAB_VERSION"
	echo "- load average (1, 5, 15 min) at start: $LOAD_START; at end: $LOAD_END. The machine is shared with other"
	echo "  jobs: before each run the script waits up to ${IDLE_WAIT} s for the CPUs to be 75 % idle, then runs anyway;"
	echo "  CPU busy % (both cores, 1 s) seen just before each run, in order:$BUSY_SEEN"
	echo
	echo "## Snapshots"
	echo
	echo "Generated by \`bench/leaky.js REQUESTS PREFIX\`, a fake request server that leaks (see its header),"
	echo "and cached in \`bench/out/\`:"
	echo
	echo "| name | command | file | nodes |"
	echo "|---|---|---:|---:|"
	for s in $SIZES; do
		case $s in
		M) f=$FILE_M cmd="node bench/leaky.js $REQ_M out/m" ;;
		L) f=$FILE_L cmd="node --max-old-space-size=20000 bench/leaky.js $REQ_L out/l" ;;
		esac
		nodes=$(head -c 4096 "$f" | grep -o '"node_count":[0-9]*' | cut -d: -f2)
		echo "| $s | \`$cmd\` | $(fsize "$f") B ($(mb "$(fsize "$f")") MB) | $nodes |"
	done
	echo
	echo "## Summary view: leakhunt against DevTools' loader and memlab"
	echo
	echo "Commands, with \`F\` the snapshot (the page cache holds it for every run):"
	echo
	echo "- leakhunt: \`build/leakhunt summary F >/dev/null\`"
	echo "- DevTools: \`node bench/devtools-summary.mjs F\`: \`parse(createReadStream(F, 'utf-8'))\` (load, dominators,"
	echo "  retained sizes, distances, class names), then \`snap.aggregatesWithFilter({})\` (the Summary rows)"
	echo "- memlab: \`memlab analyze object-size --snapshot F\` (loads the snapshot, computes dominators and"
	echo "  retained sizes, prints the largest objects)"
	echo
	echo "\"x leakhunt\" is the tool's wall time divided by leakhunt's on the same snapshot. The JS tools run"
	echo "$JS_RUNS_L time(s) on L (about a minute each) and $RUNS time(s) on M; leakhunt $RUNS time(s) on each."
	echo "Sizes are in MB = 10^6 bytes."
	echo
	echo "| snapshot | file | tool | wall s | peak RSS | CPU s (user+sys) | runs | x leakhunt (wall) | x leakhunt (CPU) |"
	echo "|---|---:|---|---:|---:|---:|---:|---:|---:|"
	printf '%s\n' "${ROWS[@]}"
	echo
	echo "## Targets (on the 1 GB snapshot)"
	echo
	echo "| target | measured | |"
	echo "|---|---|---|"
	printf '%s\n' "${TARGETS[@]}"
	echo
	if [ ${#AGREE[@]} -gt 0 ]; then
		echo "### Same answer as DevTools?"
		echo
		echo "\`bench/compare.mjs\`: leakhunt's \`summary --json --all\` against the DevTools run above (class count,"
		echo "Statistics total, and DevTools' 20 largest classes by retained size: count, shallow, retained, distance):"
		echo
		printf '%s\n' "${AGREE[@]}"
		echo
	fi
	if [ -n "$LH_VERBOSE" ]; then
		echo "### leakhunt's RSS over time, with its \`-vv\` phase messages (\`leakhunt -vv summary F\`)"
		echo
		echo '```'
		printf '%s' "$LH_VERBOSE"
		echo '```'
		echo
	fi
	if [ -n "$PERF_SECTION" ]; then
		echo "### Where leakhunt spends its time on $PERF_SIZE (\`perf record -g\`, self time per function, >= 0.5 %)"
		echo
		echo '```'
		echo "$PERF_SECTION"
		echo '```'
		echo
	fi
	xl_part
	others_sections
} >"$DOC.new" && mv "$DOC.new" "$DOC"
say "wrote $DOC"
cat "$DOC" >&2
}

xl_part() {
	echo "## Large snapshots: XL (~2.6 GB) and a strings section over 512 Mi characters"
	echo
	echo "Run with \`BENCH_XL=1 make bench\`: generates \`node --max-old-space-size=20000 bench/leaky.js $REQ_XL out/xl\`"
	echo "(about 2.6 GB; several minutes and over 10 GB RSS while V8 writes it) and"
	echo "\`node --max-old-space-size=8000 bench/strbig.js $STRBIG_COUNT out/strbig.heapsnapshot\` ($STRBIG_COUNT distinct"
	echo "1000-character strings: the strings section is longer than V8's maximum string length, 536,870,888"
	echo "characters, so DevTools and memlab fail on it with \`RangeError: Invalid string length\`)."
	echo
	if [ -s "$XL_SECTION" ]; then
		cat "$XL_SECTION"
	else
		echo "Not run yet on this machine."
	fi
}

# Other benchmarks (bench/core.sh, ...) keep their results in this file between
# "<!-- NAME:begin" and "<!-- NAME:end -->" lines: carry those over unchanged.
others_sections() {
	[ -s "$DOC" ] || return 0
	awk '/^<!-- [A-Za-z0-9_-]+:begin/ { p = 1; print "" } p { print } /^<!-- [A-Za-z0-9_-]+:end -->/ { p = 0 }' "$DOC"
}

if [ "$XL" = only ] && [ -s "$DOC" ] && grep -q '^## Large snapshots' "$DOC"; then
	{ awk '/^## Large snapshots/ { exit } { print }' "$DOC"; xl_part; others_sections; } >"$DOC.new" && mv "$DOC.new" "$DOC"
	say "replaced the XL section of $DOC"
	xl_part >&2
else
	full_report
fi
