#!/bin/sh
# Installs what leakhunt needs to build (and, with --test, to run its tests)
# on Debian 12, as root.  Safe to run again: it only installs what is missing.
set -eu
cd "$(dirname "$0")/.."

pkgs="build-essential pkg-config libcjson-dev libwslay-dev libssl-dev libunwind-dev libdw-dev libelf-dev libzstd-dev libiberty-dev"
if [ "${1:-}" = "--test" ]; then
	# clang for the fuzz targets; real peers the tests compare with or drive:
	# heaptrack (the oracle for leakhunt report), gdb (opens our cores), python3,
	# elfutils (eu-addr2line: the oracle for inlined frames), rustc (a real
	# Rust program to record: its runtime, its mangled names)
	pkgs="$pkgs clang libclang-rt-dev heaptrack gdb python3 elfutils rustc"
fi
command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "setup: installing$missing"
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi

if [ "${1:-}" = "--test" ] && { [ ! -d test/oracle/node_modules/heap-snapshot-toolkit ] ||
	[ ! -d test/oracle/node_modules/typescript ]; }; then
	echo "setup: installing the DevTools oracle (npm heap-snapshot-toolkit, typescript)"
	(cd test/oracle && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
echo "setup: done"
