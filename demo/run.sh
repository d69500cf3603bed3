#!/usr/bin/env bash
# The demo: run a small leaky Node service, snapshot its heap twice, and let
# leakhunt show what grew and what holds it.
set -euo pipefail
cd "$(dirname "$0")/.."
lh=${LEAKHUNT:-build/leakhunt}
out=${DEMO_OUT:-demo/out}
mkdir -p "$out"
rm -f "$out/before.heapsnapshot" "$out/after.heapsnapshot"

echo "== running demo/leaky-server.js (snapshots after 5000 and 10000 requests)"
node demo/leaky-server.js "$out" 5000
echo
echo "== leakhunt summary $out/after.heapsnapshot --top 10"
"$lh" summary "$out/after.heapsnapshot" --top 10
echo
echo "== leakhunt diff $out/before.heapsnapshot $out/after.heapsnapshot --top 10"
"$lh" diff "$out/before.heapsnapshot" "$out/after.heapsnapshot" --top 10
echo
echo "== leakhunt paths $out/after.heapsnapshot Order --max 2   (why is an Order alive?)"
"$lh" paths "$out/after.heapsnapshot" Order --max 2
