#!/usr/bin/env bash
# make fuzz: run each libFuzzer target for $1 seconds, with its seeds.
set -eu
secs=$1; shift
for f in "$@"; do
	name=$(basename "$f")
	mkdir -p "test/tmp/fuzz-corpus-$name"
	"$f" -max_total_time="$secs" -max_len=65536 -timeout=10 "test/tmp/fuzz-corpus-$name" "test/fuzz/seeds/$name"
done
