#!/usr/bin/env bash
# The demo: a small leaky Node service, snapshotted twice while it runs, and
# leakhunt showing what grew and what holds it; then a small leaky C program
# recorded under leakhunt's allocation tracer.
set -euo pipefail
cd "$(dirname "$0")/.."
lh=${LEAKHUNT:-build/leakhunt}
out=${DEMO_OUT:-demo/out}
mkdir -p "$out"
# leakhunt never overwrites a file: clear the demo's own outputs of a previous run
rm -f "$out/before.heapsnapshot" "$out/after.heapsnapshot" "$out/leaky.lht" "$out/leaky"

echo "== node demo/leaky-server.js --serve   (a service that leaks)"
node demo/leaky-server.js --serve 2000 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
sleep 1
echo
echo "== leakhunt snapshot $pid -o $out/before.heapsnapshot"
"$lh" snapshot "$pid" -o "$out/before.heapsnapshot"
sleep 2
echo "== leakhunt snapshot $pid -o $out/after.heapsnapshot   (2 s later)"
"$lh" snapshot "$pid" -o "$out/after.heapsnapshot"
kill "$pid"
trap - EXIT
echo
echo "== leakhunt summary $out/after.heapsnapshot --top 8"
"$lh" summary "$out/after.heapsnapshot" --top 8
echo
echo "== leakhunt diff $out/before.heapsnapshot $out/after.heapsnapshot --top 8   (what grew)"
"$lh" diff "$out/before.heapsnapshot" "$out/after.heapsnapshot" --top 8
echo
echo "== leakhunt paths $out/after.heapsnapshot Order --max 1   (why is an Order alive?)"
"$lh" paths "$out/after.heapsnapshot" Order --max 1
echo
echo "== leakhunt record -o $out/leaky.lht -- $out/leaky   (a leaky C program)"
cc -g -O1 -o "$out/leaky" demo/leaky.c
"$lh" record -o "$out/leaky.lht" -- "$out/leaky" 20000
echo
echo "== leakhunt report $out/leaky.lht --top 3"
"$lh" report "$out/leaky.lht" --top 3
