#!/usr/bin/env bash
# Exactness against Chrome DevTools: for heap snapshots of several real
# programs, every Summary row of `leakhunt summary --json --all` (count,
# shallow size, retained size, distance, joined on the class key) and the
# Statistics panel (leakhunt stats --json) must equal
# what DevTools' own heap_snapshot_worker computes (heap-snapshot-toolkit,
# test/oracle/devtools-summary.mjs).  Programs: a small leaky app, one with
# WeakMaps/WeakRefs/closures/classes, a 250,000-long linked list (a tree
# as deep: within a time limit, as DevTools takes 2 s), and the TypeScript
# compiler type-checking a small project (skipped under sanitizers).
source "$LH_TOP/test/cli/lib.sh"
ORACLE="$LH_TOP/test/oracle"

if ! have_node; then
	ok "skipped (no node)"
	exit 0
fi
if [ ! -d "$ORACLE/node_modules/heap-snapshot-toolkit" ] || [ ! -d "$ORACLE/node_modules/typescript" ]; then
	(cd "$ORACLE" && npm install --no-audit --no-fund >"$T/npm.log" 2>&1) ||
		{ fail npm-install "cannot install the oracle: $(tail -3 "$T/npm.log")"; exit 0; }
fi

programs="leaky-app weak-closures linked-list"
[ "${LH_SANITIZED:-0}" = 1 ] && programs="leaky-app linked-list"
[ "${LH_SANITIZED:-0}" = 1 ] || programs="$programs tsc-check"

for p in $programs; do
	snap="$T/$p.heapsnapshot"
	if ! node "$ORACLE/programs/$p.js" "$snap" >"$T/$p.node.log" 2>&1; then
		fail "$p/snapshot" "node $p.js failed: $(tail -3 "$T/$p.node.log")"
		continue
	fi
	ok "$p/snapshot"
	if ! node "$ORACLE/devtools-summary.mjs" "$snap" >"$T/$p.devtools.json" 2>"$T/$p.devtools.err"; then
		fail "$p/oracle" "devtools-summary.mjs failed: $(tail -3 "$T/$p.devtools.err")"
		continue
	fi
	# a guard against a hang, not a time check: the dominator tree was
	# quadratic in its depth (150 s on linked-list, now a tenth of a second)
	run_ok "$p/summary" timeout 60 "$LEAKHUNT" summary --json --all "$snap" || continue
	cp "$T/out" "$T/$p.summary.json"
	# the Statistics panel too: merge `leakhunt stats --json` into the summary
	run_ok "$p/stats" "$LEAKHUNT" stats --json "$snap" || continue
	node -e '
		const fs = require("fs");
		const j = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
		j.statistics = JSON.parse(fs.readFileSync(process.argv[2], "utf8")).statistics;
		fs.writeFileSync(process.argv[3], JSON.stringify(j));' "$T/$p.summary.json" "$T/out" "$T/$p.leakhunt.json"
	if node "$ORACLE/compare-summary.mjs" "$T/$p.devtools.json" "$T/$p.leakhunt.json" >"$T/$p.diff" 2>&1; then
		ok "$p/equal ($(tail -1 "$T/$p.diff"))"
	else
		fail "$p/equal" "$(head -20 "$T/$p.diff" | tr '\n' ';')"
	fi
	rm -f "$snap"
done
