#!/usr/bin/env bash
# End-to-end: `leakhunt core PID` on a real node process (it keeps running,
# gdb opens the core and unwinds the main thread, mode 0600, never
# overwrites), then `leakhunt objects CORE` on that core: the census counts of
# the program's own classes, against the program's numbers and against a heap
# snapshot it wrote of itself; and the error paths (not a core, truncated,
# wrong binary, no such process).  Cores are ~50 MB apparent, a few MB on
# disk; they are deleted on exit.
. "$(dirname "$0")/lib.sh"
have_node || { ok "skipped (no node)"; exit 0; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; rm -f "$T"/core*; }
trap cleanup EXIT

cat >"$T/prog.js" <<'JS'
class Order { constructor(i) { this.id = i; this.user = 'u' + i; this.items = []; } }
globalThis.orders = [];
for (let i = 0; i < 5000; i++) orders.push(new Order(i));
globalThis.plain = [];
for (let i = 0; i < 3000; i++) plain.push({ a: 'a' + i, b: 'b' + i, c: [i] });
globalThis.dict = [];
for (let i = 0; i < 200; i++) { const o = { p: 1, q: 2, r: 3 }; delete o.q; dict.push(o); }
// one object held five ways, for --refs: a property, an array element, a closure's variable, a
// dictionary-mode object's property and a global variable
class Leak { constructor() { this.n = 1; } }
globalThis.leak = new Leak();
globalThis.holder = { mine: leak, other: 5 };
globalThis.arr = [1, 2, leak];
globalThis.keep = (() => { const secret = leak; return () => secret; })();
globalThis.dholder = { x: 1, y: 2, ref: leak }; delete dholder.x;
// values jsprint must print as JavaScript does, each on one line
class Text { constructor() { this.s = 'one\ntwo "q" \\ \t\x01'; this.tenth = 0.1; this.nan = NaN; this.inf = -Infinity;
	this.tiny = 1e-7; this.micro = 0.00001; this.big = 1e20; } }
globalThis.text = new Text();
// a string that holds another (a cons string of text.s and 20 x's): a referrer --refs prints as a literal
globalThis.textCons = text.s + 'x'.repeat(20);
// jsprint's harder values: an unboxed double array with a hole, an external string (node makes
// strings over ~1 MB from a Buffer external), a function's name, a class's (kept in its ScopeInfo)
// (a class instance: an object literal may also have a boilerplate copy with the same shape)
class Gaps { constructor() { this.dbl = [1.5, 2.5, , 3.25]; this.ext = Buffer.alloc(1100000, 'x').toString('latin1');
	this.f = function namedFn() {}; this.c = class Klass { m() {} }; } }
globalThis.gaps = new Gaps();
// BigInts as JavaScript writes them (one too long to write out, by its size), a Proxy by name
class Odd { constructor() { this.big = 2n ** 200n + 12345n; this.neg = -(10n ** 19n); this.zero = 0n;
	this.p = new Proxy({}, {}); this.huge = 2n ** 3000n; } }
globalThis.odd = new Odd();
// a dictionary-mode object: its properties in insertion order (its table is in hash order)
class Dict { constructor() { for (let i = 0; i < 12; i++) this['k' + (i * 7919 % 100)] = i; delete this.k0;
	this.zz = 'last'; this.aa = 'after'; } }
globalThis.dictmode = new Dict();
// a sparse array: its elements are a NumberDictionary (hash order, counts and capacity first)
class Sparse { constructor() { this.a = []; this.a[100000] = 'far'; this.a[7] = 'near'; } }
globalThis.sparse = new Sparse();
// growth between two cores, for diff CORE1 CORE2: 2000 more Grow on SIGUSR2
class Grow { constructor(i) { this.i = i; this.s = 'g' + i; } }
globalThis.grown = [];
process.on('SIGUSR2', () => { for (let i = 0; i < 2000; i++) grown.push(new Grow(i)); console.log('grew'); });
// everything above into the old generation, where scavenges do not move it: a scavenge
// under way while the core is taken could leave these objects mid-move (the likely
// cause of a failure seen once under load: the array element's slot was missing)
gc(); gc();
if (process.argv[2]) require('v8').writeHeapSnapshot(process.argv[2]);
// phantoms: copies of the first words of Grow.prototype and of arr in native memory (a Buffer's
// store, in malloc's heap), as stale copies of heap words are left there (V8's handle blocks).
// Neither the census nor --refs may take them for objects: with them, Grow would count 2 and arr's
// elements would have a false owner, an <Array length 7>.  Written last: the GCs above may move the originals.
function phantom(buf, at, obj, length) {
	%DebugPrint(obj);
	const out = require('fs').readFileSync('/proc/self/fd/1', 'latin1');
	const last = out.slice(out.lastIndexOf('DebugPrint: '));
	const word = k => BigInt(new RegExp('^ - ' + k + ': (0x[0-9a-f]+)', 'm').exec(last)[1]);
	buf.writeBigUInt64LE(word('map'), at);
	buf.writeBigUInt64LE(word('properties'), at + 8);
	buf.writeBigUInt64LE(word('elements'), at + 16);
	buf.writeBigUInt64LE(BigInt(length) << 32n, at + 24);
}
globalThis.phantoms = Buffer.allocUnsafeSlow(4096).fill(0);
phantom(phantoms, 64, Grow.prototype, 0);
phantom(phantoms, 256, arr, 7);
%DebugPrint(text.s); // its address, for --refs
console.log('ready');
setInterval(() => {}, 1000);
JS

# start NAME ARGS...: run prog.js, wait up to 60 s for "ready"; sets $P
start() { local name=$1; shift; START_TRIES=600 start_node "$name" --expose-gc --allow-natives-syntax "$T/prog.js" "$@"; }

run_ok help "$LEAKHUNT" core --help && check help-text grep -q "^usage: leakhunt core" "$T/out"
run_fail no-args "give one PID" "$LEAKHUNT" core
run_fail bad-pid "not a process id" "$LEAKHUNT" core abc
run_fail no-such-process "cannot read process [0-9]+: no such process" "$LEAKHUNT" core 999999999

start prog "$T/snap.heapsnapshot" && {
	C=$T/core.prog
	run_ok write "$LEAKHUNT" core "$P" -o "$C"
	check stdout-names-file grep -qx "$C" "$T/out"
	check reports-pause grep -qE "paused [0-9.]+ ms" "$T/err"
	check process-still-runs kill -0 "$P"
	check mode-0600 test "$(stat -c %a "$C")" = 600
	check no-partial-left test ! -e "$C.partial"
	check elf-core test "$(head -c 4 "$C" | od -An -c | tr -d ' ')" = "177ELF"
	run_fail no-overwrite "exists" "$LEAKHUNT" core "$P" -o "$C"
	if command -v gdb >/dev/null; then
		gdb -batch -ex bt /usr/bin/node "$C" >"$T/gdb.out" 2>&1
		# the main thread's frames, named: uv_run when it waits, but the
		# core may catch it compiling or collecting (CI once stopped it in
		# V8's parser)
		check gdb-reads-core grep -q "Core was generated by .node" "$T/gdb.out"
		check gdb-bt grep -qE "^#[0-9]+ .* in (uv_run|node::|v8::)" "$T/gdb.out"
		check gdb-threads grep -q "Program terminated with signal SIGSTOP" "$T/gdb.out"
	fi
}

# the census of that core: the program's own numbers, and its heap snapshot's
if [ -e "${C:-}" ]; then
	run_ok objects-table "$LEAKHUNT" objects "$C" --top 5 -v
	check objects-table-order grep -qE "^ *5,000 +3 .*0x[0-9a-f]+ +Order: id, user, items" "$T/out"
	# V8's pages recognized by their headers (else all memory is read, phantoms included)
	check objects-heap-pages grep -qE "^V8's heap: [0-9]+ pages, [0-9]+ bytes of object areas" "$T/err"
	run_ok objects-json "$LEAKHUNT" objects "$C" --json --all
	cp "$T/out" "$T/census-core.json"
	run_ok snapshot-json "$LEAKHUNT" objects "$T/snap.heapsnapshot" --json --all
	cp "$T/out" "$T/census-snap.json"
	# count of a constructor over all its groups, and the properties of its biggest group
	count_of() { node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1]));
		const g=j.groups.filter(g=>g.constructor===process.argv[2] &&
			(process.argv[3]===undefined || g.properties.join()===process.argv[3]));
		console.log(g.reduce((a,g)=>a+g.count,0))' "$@"; }
	check core-format node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1]));
		process.exit(j.format==="leakhunt.objects/1" && j.source==="core" &&
			/^0x[0-9a-f]+$/.test(j.groups[0].representative) && !("representative_id" in j.groups[0]) ? 0 : 1)' "$T/census-core.json"
	check core-order-5000 test "$(count_of "$T/census-core.json" Order id,user,items)" = 5000
	n=$(count_of "$T/census-core.json" Object a,b,c)
	check core-plain-3000 test "$n" -ge 3000 -a "$n" -le 3002
	check core-dict-200 test "$(count_of "$T/census-core.json" Object p,r)" = 200
	# the snapshot leaves out Smi-valued properties (id); the core also names Order.prototype
	# "Order" (its map's constructor), the snapshot "Object": compare the instances' groups
	check snapshot-order-same test "$(count_of "$T/census-core.json" Order id,user,items)" = "$(count_of "$T/census-snap.json" Order user,items)"
	check snapshot-plain-same test "$(count_of "$T/census-core.json" Object a,b,c)" = "$(count_of "$T/census-snap.json" Object a,b,c)"
fi

# --print (jsprint): an Order's properties, decoded
if [ -e "${C:-}" ]; then
	A=$(node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1]));
		console.log(j.groups.find(g=>g.constructor==="Order"&&g.properties.join()==="id,user,items").representative)' "$T/census-core.json")
	run_ok print "$LEAKHUNT" objects "$C" --print "$A"
	check print-ctor grep -q "^$A <Order>" "$T/out"
	check print-id grep -qE '^  \.id = [0-9]+$' "$T/out"
	check print-user grep -qE '^  \.user = "u[0-9]+"$' "$T/out"
	check print-items grep -qE '^  \.items = 0x[0-9a-f]+ <Array length 0>$' "$T/out"
	X=$(node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1]));
		console.log(j.groups.find(g=>g.constructor==="Text"&&g.properties.join()==="s,tenth,nan,inf,tiny,micro,big").representative)' "$T/census-core.json")
	run_ok print-text "$LEAKHUNT" objects "$C" --print "$X"
	check print-text-lines test "$(wc -l <"$T/out")" = 8
	check print-string-escaped grep -qxF '  .s = "one\ntwo \"q\" \\ \t\x01"' "$T/out"
	check print-shortest-number grep -qx '  \.tenth = 0\.1' "$T/out"
	check print-nan grep -qx '  \.nan = NaN' "$T/out"
	check print-infinity grep -qx '  \.inf = -Infinity' "$T/out"
	# printf's %g wrote 1e-07, 1e-05 and 1e+20
	check print-exponent-as-js grep -qx '  \.tiny = 1e-7' "$T/out"
	check print-small-positional grep -qx '  \.micro = 0\.00001' "$T/out"
	check print-big-positional grep -qx '  \.big = 100000000000000000000' "$T/out"
	run_fail print-not-object "is not a JavaScript object" "$LEAKHUNT" objects "$C" --print 0x1234
	# strtoull took -1 and 17 hex digits as 0xffffffffffffffff
	i=0
	for a in -1 0x10000000000000000 " 0x10"; do
		i=$((i + 1))
		run_fail "print-bad-address-$i" "'$a' is not an address" "$LEAKHUNT" objects "$C" --print "$a"
	done
	G=$(node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1]));
		console.log(j.groups.find(g=>g.constructor==="Gaps"&&g.properties.join()==="dbl,ext,f,c").representative)' "$T/census-core.json")
	run_ok print-gaps "$LEAKHUNT" objects "$C" --print "$G"
	check print-external-string grep -qE '^  \.ext = "x{200}"$' "$T/out"
	check print-function-name grep -qE '^  \.f = 0x[0-9a-f]+ <Function namedFn>$' "$T/out"
	check print-class-name grep -qE '^  \.c = 0x[0-9a-f]+ <Function Klass>$' "$T/out"
	D=$(sed -nE 's/^  \.dbl = (0x[0-9a-f]+) .*/\1/p' "$T/out")
	run_ok print-double-array "$LEAKHUNT" objects "$C" --print "$D"
	check print-doubles test "$(grep -E '^  \[[0-9]\] = ' "$T/out" | tr -d ' \n')" = "[0]=1.5[1]=2.5[2]=<hole>[3]=3.25"
	O=$(node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1]));
		console.log(j.groups.find(g=>g.constructor==="Odd"&&g.properties.join()==="big,neg,zero,p,huge").representative)' "$T/census-core.json")
	run_ok print-odd "$LEAKHUNT" objects "$C" --print "$O"
	check print-bigint grep -qx '  \.big = 1606938044258990275541962092341162602522202993782792835313721n' "$T/out"
	check print-bigint-negative grep -qx '  \.neg = -10000000000000000000n' "$T/out"
	check print-bigint-zero grep -qx '  \.zero = 0n' "$T/out"
	check print-proxy grep -qE '^  \.p = 0x[0-9a-f]+ <Proxy>$' "$T/out"
	check print-bigint-huge grep -qE '^  \.huge = 0x[0-9a-f]+ <BigInt of 3001 bits>$' "$T/out"
	DI=$(node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1]));
		console.log(j.groups.find(g=>g.constructor==="Dict"&&g.properties.includes("zz")).representative)' "$T/census-core.json")
	run_ok print-dict "$LEAKHUNT" objects "$C" --print "$DI"
	check print-dict-insertion-order test "$(sed -nE 's/^  \.([a-z0-9]+) = .*/\1/p' "$T/out" | paste -sd,)" = \
		k19,k38,k57,k76,k95,k14,k33,k52,k71,k90,k9,zz,aa
	# a sparse array's elements by index, not the dictionary's slots
	S=$(node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1]));
		console.log(j.groups.find(g=>g.constructor==="Sparse"&&g.properties.join()==="a").representative)' "$T/census-core.json")
	"$LEAKHUNT" objects "$C" --print "$S" >"$T/sparse.out" 2>&1
	S=$(sed -nE 's/^  \.a = (0x[0-9a-f]+) <Array length 100001>$/\1/p' "$T/sparse.out")
	run_ok print-sparse-array "$LEAKHUNT" objects "$C" --print "$S"
	check print-sparse-elements test "$(grep -E '^  \[[0-9]+\] = ' "$T/out" | tr -d ' \n')" = '[7]="near"[100000]="far"'
fi

# --instances and --refs: Leak has its prototype and one instance; the instance is held by
# holder.mine, arr[2] (through arr's elements store), the closure's context, dholder's dictionary
if [ -e "${C:-}" ]; then
	run_ok instances "$LEAKHUNT" objects "$C" --instances Order --top 2
	# 5000 instances, the prototype, and a few dead objects of intermediate shapes
	check instances-count grep -qE "^.*: 50[0-9][0-9] instances of Order" "$T/out"
	check instances-rows test "$(grep -cE '^0x[0-9a-f]+ +[0-9]+ B ' "$T/out")" = 2
	check instances-more grep -qE "^\.\.\. [0-9,]+ more instances \(--top N or --all\)" "$T/out"
	run_ok instances-json "$LEAKHUNT" objects "$C" --instances Leak --json
	L=$(node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1]));
		if (j.format!=="leakhunt.instances/1"||j.count<2) process.exit(1);
		console.log(j.instances.find(i=>i.properties.join()==="n").address)' "$T/out")
	check instances-json-leak test -n "$L"
	run_fail instances-none "no objects with constructor 'NoSuchClass'" "$LEAKHUNT" objects "$C" --instances NoSuchClass
	run_ok refs "$LEAKHUNT" objects "$C" --refs "$L"
	check refs-title grep -q "^$L <Leak> is referenced from [0-9]* slots" "$T/out"
	check refs-property grep -qE "^0x[0-9a-f]+ <Object> +\.mine" "$T/out"
	check refs-array-element grep -qE "<FixedArray length 3> +\[2\] +0x[0-9a-f]+ <Array length 3> \[2\]" "$T/out"
	check refs-closure grep -qE "<Context length [0-9]+> +context secret" "$T/out"
	check refs-dictionary grep -qE "<FixedArray \(type [0-9]+\) length [0-9]+> +\[[0-9]+\] +0x[0-9a-f]+ <Object> \.ref" "$T/out"
	run_ok refs-json "$LEAKHUNT" objects "$C" --refs "$L" --json
	check refs-json-shape node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1]));
		process.exit(j.format==="leakhunt.refs/1" && j.source==="core" && j.ref_count>=5 &&
			j.refs.some(r=>r.edge_name==="[2]" && r.owner_edge_name==="[2]" && /Array length 3/.test(r.owner)) &&
			j.refs.some(r=>r.edge_name===".mine" && /^0x/.test(r.slot)) ? 0 : 1)' "$T/out"
	# the phantom of arr is in the core: its copy of the elements pointer is a native-memory slot
	E=$(node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1]));
		const r=j.refs.find(r=>r.edge_name==="[2]"); console.log(r ? r.from_address : "none")' "$T/out")
	run_ok refs-elements "$LEAKHUNT" objects "$C" --refs "$E"
	check refs-phantom-is-native grep -qE "^\(native memory\) +0x[0-9a-f]+ *$" "$T/out"
	check refs-elements-owner grep -qE "^0x[0-9a-f]+ <Array length 3> +elements" "$T/out"
	# --print of the phantom (its elements word is 16 bytes in): printed, with a warning;
	# of the real array: no warning
	cp "$T/out" "$T/elements-refs"
	# other stale copies of the elements pointer may be in native memory too
	# (V8's handle blocks): the planted one is the slot whose object prints
	# as the length-7 array (CI once took another, the first listed)
	A=$(sed -nE 's/^(0x[0-9a-f]+) <Array length 3> +elements.*/\1/p' "$T/elements-refs" | head -1)
	F=
	for S in $(sed -nE 's/^\(native memory\) +(0x[0-9a-f]+) *$/\1/p' "$T/elements-refs"); do
		G=$(printf '0x%x' $((S - 16 + 1)))
		if "$LEAKHUNT" objects "$C" --print "$G" 2>/dev/null | grep -q "^$G <Array length 7>"; then
			F=$G
			break
		fi
	done
	[ -n "$F" ] || F=$(printf '0x%x' $(($(sed -nE 's/^\(native memory\) +(0x[0-9a-f]+) *$/\1/p' "$T/elements-refs" | head -1) - 16 + 1)))
	run_ok print-phantom "$LEAKHUNT" objects "$C" --print "$F"
	check print-phantom-warns grep -q "^warning: $F is outside V8's pages (native memory)" "$T/err"
	check print-phantom-length-7 grep -q "^$F <Array length 7>" "$T/out"
	run_ok print-real-array "$LEAKHUNT" objects "$C" --print "$A"
	check print-real-array-length-3 grep -q "^$A <Array length 3>" "$T/out"
	check print-real-array-no-warning test ! -s "$T/err"
	# a string's referrer, the cons string holding it: jsprint's literal, escaped once in
	# the table as in the title (the table's own escaping doubled its backslashes)
	TS=$(sed -nE 's/^DebugPrint: (0x[0-9a-f]+): \[String\].*/\1/p' "$T/prog.out" | tail -1)
	run_ok refs-string "$LEAKHUNT" objects "$C" --refs "$TS"
	check refs-string-title grep -qF '"one\ntwo \"q\" \\ \t\x01" is referenced from' "$T/out"
	check refs-string-literal grep -qE '^"one\\ntwo \\"q\\" \\\\ \\t\\x01x{20}" +\+0x10 *$' "$T/out"
	run_fail refs-not-object "is not a heap object" "$LEAKHUNT" objects "$C" --refs 0x1235
	run_fail refs-and-print "give one of --print, --refs and --instances" "$LEAKHUNT" objects "$C" --refs "$L" --print "$L"
fi

# diff CORE1 CORE2: a second core after the program made 2000 Grow objects
if [ -e "${C:-}" ] && kill -USR2 "$P"; then
	for i in $(seq 100); do grep -q grew "$T/prog.out" && break; sleep 0.1; done
	C2=$T/core.prog2
	run_ok write-second "$LEAKHUNT" core "$P" -o "$C2"
	run_ok diff-cores "$LEAKHUNT" diff "$C" "$C2" --top 3
	check diff-header grep -qx "$C -> $C2" "$T/out"
	# Grow leads with 2000 more; a core taken while a scavenge is under way can
	# also hold stale copies of young objects (docs/core.md: dead objects), so
	# the new count is at least, not exactly, 2001
	check diff-grow-first grep -qE "^Grow +1 +[0-9,]+ +\+[0-9,]+ " "$T/out"
	run_ok diff-cores-json "$LEAKHUNT" diff "$C" "$C2" --json --filter '^Gr'
	check diff-json node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1]));
		const r=j.classes[0];
		process.exit(j.format==="leakhunt.core-diff/1" && j.source==="core" && j.classes.length===1 &&
			r.name==="Grow" && r.old_count===1 && r.new_count>=2001 && r.count_delta===r.new_count-1 &&
			r.size_delta===r.new_size-r.old_size && r.size_delta>0 ? 0 : 1)' "$T/out"
	run_fail diff-new-only "needs heap snapshots" "$LEAKHUNT" diff "$C" "$C2" --new-only Grow
	run_fail diff-core-and-snapshot "not an ELF file" "$LEAKHUNT" diff "$C" "$T/snap.heapsnapshot"
	rm -f "$C2"
fi

# errors
run_fail not-a-core "not a core" "$LEAKHUNT" objects /usr/bin/node
if [ -e "${C:-}" ]; then
	head -c 20000000 "$C" >"$T/core.trunc"
	run_fail truncated-core "truncated at byte 20000000" "$LEAKHUNT" objects "$T/core.trunc"
	head -c 40 "$C" >"$T/core.trunc40"
	run_fail truncated-header "truncated at byte 40" "$LEAKHUNT" objects "$T/core.trunc40"
	run_fail wrong-binary "does not match core .*build id" "$LEAKHUNT" objects "$C" --binary /bin/ls
	run_fail binary-not-elf "not an ELF file" "$LEAKHUNT" objects "$C" --binary "$T/prog.js"
fi

# a process killed while its core is written (SIGKILL reaches a stopped
# process): no core that looks complete, and no hang (its main thread's exit
# is reported only after the other threads'; waiting for it first waited
# forever).  The kill lands while the threads are stopped or their memory is
# copied (a ~300 MB heap takes a while to copy); should the core be done
# first, it must be whole.
cat >"$T/big.js" <<'JS'
globalThis.a = [];
for (let i = 0; i < 3e6; i++) a.push({ i, s: 'x' + i });
console.log('ready');
setInterval(() => {}, 1000);
JS
start_node big "$T/big.js" && {
	timeout 300 "$LEAKHUNT" core "$P" -o "$T/core.killed" >"$T/out" 2>"$T/err" &
	W=$!
	for i in $(seq 3000); do grep -q "tracing stop" "/proc/$P/status" 2>/dev/null && break; sleep 0.01; done
	kill -9 "$P"
	wait "$W"; rc=$?
	check killed-no-hang test "$rc" -ne 124
	if [ "$rc" -eq 0 ]; then
		run_ok killed-core-whole "$LEAKHUNT" objects "$T/core.killed"
	else
		check killed-says-exited grep -qE "cannot (stop process|write a core of process) [0-9]+: it exited" "$T/err"
		check killed-no-file test ! -e "$T/core.killed" -a ! -e "$T/core.killed.partial"
	fi
}
