#!/usr/bin/env bash
# Runs every test and ends with one line "N passed, N failed":
#   for each build directory in LEAKHUNT_BUILDS (default "build"): the C unit
#   tests, then each test/cli/*.sh against that build's binary; then, if
#   build-fuzz/ holds libFuzzer targets, each of them for FUZZ_SECONDS.
# Each part prints "ok NAME" or "FAIL NAME" lines; this script counts them.
# Arguments: run only the cli scripts whose names contain one of them.
set -u
cd "$(dirname "$0")/.."
export LH_TOP="$PWD"
builds=${LEAKHUNT_BUILDS:-build}
fuzz_seconds=${FUZZ_SECONDS:-20}
mkdir -p test/tmp
log="test/tmp/run.log"
: >"$log"

passed=0
failed=0
count() {
	local prefix=$1 line
	while IFS= read -r line; do
		case "$line" in
		"ok "*) passed=$((passed + 1)); line="ok $prefix${line#ok }" ;;
		"FAIL "*) failed=$((failed + 1)); line="FAIL $prefix${line#FAIL }" ;;
		esac
		printf '%s\n' "$line"
		printf '%s\n' "$line" >>"$log"
	done
}

for b in $builds; do
	export LEAKHUNT_BUILD=$b
	export LEAKHUNT="$PWD/$b/leakhunt"
	export LH_TMP="$PWD/test/tmp/$b"
	export LH_SANITIZED=0
	case "$b" in *san*) LH_SANITIZED=1 ;; esac
	mkdir -p "$LH_TMP"
	prefix="$b:"
	[ "$builds" = "$b" ] && prefix=""
	if [ $# -eq 0 ]; then
		count "$prefix" < <("$b/unit-tests" 2>&1 || true)
	fi
	for t in test/cli/*.sh; do
		name=$(basename "$t" .sh)
		[ "$name" = lib ] && continue
		if [ $# -gt 0 ]; then
			want=0
			for a in "$@"; do case "$name" in *"$a"*) want=1 ;; esac; done
			[ $want = 1 ] || continue
		fi
		count "$prefix" < <(timeout 1200 bash "$t" 2>&1; rc=$?; [ $rc -eq 0 ] || echo "FAIL cli/$name: script exited with status $rc")
	done
done

if [ $# -eq 0 ] && [ -d build-fuzz ]; then
	for f in build-fuzz/*; do
		[ -x "$f" ] || continue
		name=$(basename "$f")
		corpus="test/tmp/fuzz-corpus-$name"
		mkdir -p "$corpus"
		if "$f" -max_total_time="$fuzz_seconds" -max_len=65536 -timeout=10 -rss_limit_mb=4096 \
			"$corpus" test/fuzz/seeds/"$name" >"test/tmp/fuzz-$name.log" 2>&1; then
			count "" <<<"ok fuzz/$name ($fuzz_seconds s)"
		else
			count "" <<<"FAIL fuzz/$name: see test/tmp/fuzz-$name.log: $(grep -m1 -E 'ERROR|SUMMARY' "test/tmp/fuzz-$name.log")"
		fi
	done
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
