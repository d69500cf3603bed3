#!/usr/bin/env bash
# Exactness of `leakhunt diff` against Chrome DevTools' Comparison view: for
# pairs of snapshots of real programs, every row (new, deleted, deltas,
# allocated and freed sizes, joined on the class key) must equal what
# DevTools' own heap_snapshot_worker computes (test/oracle/devtools-diff.mjs).
# Pairs: the demo's leaky server (only growth) and churn-two.js (objects
# created and freed in many classes, and a shape whose inferred name exists
# only in the newer snapshot).
source "$LH_TOP/test/cli/lib.sh"
ORACLE="$LH_TOP/test/oracle"

if [ ! -d "$ORACLE/node_modules/heap-snapshot-toolkit" ]; then
	(cd "$ORACLE" && npm install --no-audit --no-fund >"$T/npm.log" 2>&1) ||
		{ fail npm-install "cannot install the oracle: $(tail -3 "$T/npm.log")"; exit 0; }
fi

compare() { # NAME OLD NEW
	local name=$1 old=$2 new=$3
	if ! node "$ORACLE/devtools-diff.mjs" "$old" "$new" >"$T/$name.devtools.json" 2>"$T/$name.err"; then
		fail "$name/oracle" "devtools-diff.mjs failed: $(tail -3 "$T/$name.err")"
		return
	fi
	run_ok "$name/diff" "$LEAKHUNT" diff --json --all "$old" "$new" || return
	cp "$T/out" "$T/$name.leakhunt.json"
	if node "$ORACLE/compare-diff.mjs" "$T/$name.devtools.json" "$T/$name.leakhunt.json" >"$T/$name.cmp" 2>&1; then
		ok "$name/equal ($(tail -1 "$T/$name.cmp"))"
	else
		fail "$name/equal" "$(head -20 "$T/$name.cmp" | tr '\n' ';')"
	fi
}

if node "$LH_TOP/demo/leaky-server.js" "$T" 1000 >/dev/null 2>"$T/demo.err"; then
	compare demo "$T/before.heapsnapshot" "$T/after.heapsnapshot"
else
	fail demo/snapshots "$(tail -3 "$T/demo.err")"
fi
if node "$ORACLE/programs/churn-two.js" "$T/c1.heapsnapshot" "$T/c2.heapsnapshot" 2>"$T/churn.err"; then
	compare churn "$T/c1.heapsnapshot" "$T/c2.heapsnapshot"
	# the shape named only in the newer snapshot: its single old instance is
	# matched by id under the newer snapshot's name, so exactly one is deleted
	# or kept, never counted as a different class
	check churn/deleted-sessions node -e '
		const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
		const s = j.classes.find(c => c.name === "Session");
		process.exit(s && s.deleted_count === 1500 && s.new_count === 1000 ? 0 : 1)' "$T/churn.leakhunt.json"
else
	fail churn/snapshots "$(tail -3 "$T/churn.err")"
fi
rm -f "$T"/*.heapsnapshot
