# bench/lib.sh: sourced by the bench scripts, from the repository's top.

ROOT=$PWD
DOC=${BENCH_DOC:-$ROOT/docs/benchmarks.md} # where the sections go

# median: the median of the numbers on stdin, one a line ("nan" for none)
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2); else print "nan" }'; }

# put_section NAME SECTION DOC: replace the section between DOC's
# "<!-- leakhunt-NAME:begin" and "<!-- leakhunt-NAME:end" lines with the file
# SECTION (which holds both marker lines), or append it when DOC has none;
# the rest of DOC is left alone.
put_section() {
	local name=$1 section=$2 doc=$3
	touch "$doc"
	if grep -q "^<!-- leakhunt-$name:begin" "$doc"; then
		awk -v f="$section" -v b="^<!-- leakhunt-$name:begin" -v e="^<!-- leakhunt-$name:end" '
			$0 ~ b { while ((getline l < f) > 0) print l; skip = 1; next }
			$0 ~ e { skip = 0; next }
			!skip' "$doc" >"$doc.new" && mv "$doc.new" "$doc"
	else
		{ [ -s "$doc" ] && echo; cat "$section"; } >>"$doc"
	fi
}
