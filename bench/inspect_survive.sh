#!/bin/bash
# bench/inspect_survive.sh: does the target survive leakhunt's inspector
# sessions?  One node process that retains ~2.5 MB/s under GC pressure (the
# load that crashed node 20.20's inspector when both ends closed the
# WebSocket at once, see docs/watch.md); ROUNDS times: `leakhunt watch` for a
# moment (SIGUSR1 opens the inspector, leakhunt closes it again) and, every
# other round, `leakhunt snapshot`.  Prints one line per round and a tally;
# exits 1 at the first round after which the target is gone (its core is
# kept when the shell allows cores: ulimit -c unlimited).
#
#   bash bench/inspect_survive.sh            (needs build/leakhunt, node)
#
# Environment:
#   ROUNDS=20                 sessions to open and close
#   LEAKHUNT=PATH             the binary (default build/leakhunt)
#   SURVIVE_DIR=DIR           scratch (default bench/out/survive)
set -u
cd "$(dirname "$0")/.."
LEAKHUNT=${LEAKHUNT:-$PWD/build/leakhunt}
ROUNDS=${ROUNDS:-20}
DIR=${SURVIVE_DIR:-$PWD/bench/out/survive}
mkdir -p "$DIR"
cd "$DIR" || exit 1
rm -f core core.* round.*
# the array is cut now and then so that long runs stay small
LEAK='globalThis.k=[]; setInterval(()=>{for(let i=0;i<5000;i++)k.push({i,s:"x"+i}); if(k.length>1e6)k=[]; let g=[]; for(let i=0;i<20000;i++) g.push({i})},50); console.log("ready")'
node --inspect-port=0 -e "$LEAK" >target.out 2>target.err &
P=$!
trap 'kill -9 $P 2>/dev/null' EXIT
for i in $(seq 100); do grep -q ready target.out 2>/dev/null && break; sleep 0.1; done
t0=$(date +%s.%N)
for r in $(seq "$ROUNDS"); do
	"$LEAKHUNT" watch "$P" --interval 100ms --duration 300ms >round.out 2>round.err
	w=$?
	s=-
	if [ $((r % 2)) = 0 ]; then
		"$LEAKHUNT" snapshot "$P" -o "$DIR/round.heapsnapshot" >>round.out 2>>round.err
		s=$?
		rm -f round.heapsnapshot
	fi
	sleep 0.2
	if ! kill -0 "$P" 2>/dev/null; then
		wait "$P"
		echo "round $r: watch rc $w, snapshot rc $s: the target died (status $?)"
		exit 1
	fi
	echo "round $r: watch rc $w, snapshot rc $s, target alive"
done
echo "survived $ROUNDS rounds in $(echo "$(date +%s.%N) - $t0" | bc) s"
