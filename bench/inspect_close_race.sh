#!/bin/bash
# bench/inspect_close_race.sh: ROUNDS sessions of bench/inspect_close_race.py
# in MODE (race | serverclose | clientclose) against one node process that
# retains ~2.5 MB/s under GC pressure; stops at the first round after which
# the target is dead.  No leakhunt involved: this is the evidence that the
# crash in docs/watch.md is node's, and that one-sided closes avoid it.
# Run with `ulimit -c unlimited` to keep the target's core.
#
#   bash bench/inspect_close_race.sh race 60
set -u
MODE=${1:?usage: bench/inspect_close_race.sh race|serverclose|clientclose [ROUNDS]}
ROUNDS=${2:-60}
cd "$(dirname "$0")/.."
CLIENT=$PWD/bench/inspect_close_race.py
DIR=${SURVIVE_DIR:-$PWD/bench/out/close-race}
mkdir -p "$DIR"
cd "$DIR" || exit 1
LEAK='globalThis.k=[]; setInterval(()=>{for(let i=0;i<5000;i++)k.push({i,s:"x"+i}); if(k.length>2e6)k=[]; let g=[]; for(let i=0;i<20000;i++) g.push({i})},50); console.log("ready")'
# the client-close mode needs an inspector that stays open: start it open
flag=--inspect-port=0
[ "$MODE" = clientclose ] && flag=--inspect=0
node $flag -e "$LEAK" >target.out 2>target.err &
P=$!
trap 'kill -9 $P 2>/dev/null' EXIT
for i in $(seq 100); do grep -q ready target.out 2>/dev/null && break; sleep 0.1; done
for r in $(seq "$ROUNDS"); do
	if [ "$MODE" != clientclose ]; then
		# SIGUSR1 opens the inspector again; wait for its new "listening" line
		n=$(grep -c 'Debugger listening' target.err)
		kill -USR1 "$P"
		for i in $(seq 50); do [ "$(grep -c 'Debugger listening' target.err)" -gt "$n" ] && break; sleep 0.05; done
	fi
	url=$(grep -o 'ws://[^ ]*' target.err | tail -1)
	timeout 10 python3 "$CLIENT" "$url" "$MODE" || echo "round $r: client exit $?"
	sleep 0.3
	if ! kill -0 "$P" 2>/dev/null; then
		wait "$P"
		echo "round $r: the target died (status $?)"
		exit 1
	fi
done
echo "survived $ROUNDS rounds ($MODE)"
