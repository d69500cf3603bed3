#!/usr/bin/env bash
# leakhunt report on traces damaged where a bit flip would do it: sequence
# numbers (far past the events read, or taken twice), the end record's
# count of events, a stack node's id, addresses and the header's size.  Each damaged
# trace is a recording of test/programs/phases.c with one field rewritten by
# $T/damage.py (below); reading must stop or go on as docs/report.md says,
# name the file and the byte, and never hang.
. "$LH_TOP/test/cli/lib.sh"

P="$LH_TOP/test/programs"
if [ ! -f "$(dirname "$LEAKHUNT")/libleakhunt.so" ]; then
	export LEAKHUNT_PRELOAD="$LH_TOP/build/libleakhunt.so"
	[ -f "$LEAKHUNT_PRELOAD" ] || make -C "$LH_TOP" -s build/libleakhunt.so >/dev/null
fi
cc -O2 -g -pthread -o "$T/phases" "$P/phases.c" || fail build-phases "cc failed"
js() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$2"; }
expect() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "got '$2', expected '$3'"; fi; }
# report NAME TRACE: report --json with a time limit (damage used to hang it); JSON in $T/NAME.json
report() { run_ok "$1" timeout 20 "$LEAKHUNT" report --json "$2" && cp "$T/out" "$T/$1.json"; }

# damage.py MODE IN OUT [N]: writes the damaged copy OUT and prints the byte
# offset of what it changed.  Chunks: u32 length (bit 31: zstd frame of
# columns), u32 thread id; docs/lht-format.md.
cat >"$T/damage.py" <<'PY'
import ctypes, struct, sys
mode, src, dst = sys.argv[1:4]
arg = int(sys.argv[4]) if len(sys.argv) > 4 else 0
d = bytearray(open(src, 'rb').read())

def put(x):
    out = bytearray()
    while True:
        b, x = x & 0x7f, x >> 7
        out.append(b | (0x80 if x else 0))
        if not x:
            return bytes(out)

def get(b, i):
    x = s = 0
    while True:
        x |= (b[i] & 0x7f) << s
        s += 7
        i += 1
        if not b[i - 1] & 0x80:
            return x, i

def chunks():
    off = struct.unpack_from('<I', d, 12)[0]
    while off + 8 <= len(d):
        n, tid = struct.unpack_from('<II', d, off)
        yield off, n >> 31, tid, bytes(d[off + 8:off + 8 + (n & 0x7fffffff)])
        off += 8 + (n & 0x7fffffff)

def replace(off, old, zip, tid, body):
    n = len(body) | (1 << 31 if zip else 0)
    d[off:off + 8 + len(old)] = struct.pack('<II', n, tid) + body

def plain(kind):                # the middle one of the plain chunks that start with a kind record
    c = [c for c in chunks() if not c[1] and c[3][:1] == kind]
    return c[len(c) // 2]

if mode == 'sample-seq':        # an RSS sample (a plain chunk of its own) numbered arg
    off, zip, tid, body = plain(b'S')
    seq, i = get(body, 1)
    replace(off, body, 0, tid, b'S' + put(arg) + body[i:])
    print(off + 8)
elif mode == 'sample-next':     # a second sample after it in its chunk, its seq delta arg
    off, zip, tid, body = plain(b'S')
    seq, i = get(body, 1)
    replace(off, body, 0, tid, body + b'S' + put(arg) + body[i:])
    print(off + 8 + len(body))
elif mode == 'node-id':         # the first stack node of a plain chunk of them renumbered arg
    off, zip, tid, body = plain(b'N')
    node, i = get(body, 1)
    replace(off, body, 0, tid, b'N' + put(arg) + body[i:])
    print(off + 8)
elif mode == 'header-size':     # the header's size (where the first chunk starts) set to arg
    struct.pack_into('<I', d, 12, arg)
    print(12)
elif mode == 'end-count':       # the end record counts arg more events
    off, zip, tid, body = plain(b'Z')
    seq, i = get(body, 1)
    replace(off, body, 0, tid, b'Z' + put(seq + arg) + body[i:])
    print(off + 8)
elif mode == 'null-frees':      # a plain chunk appended: frees and allocations at address 0
    body = b''
    for i in range(arg):
        body += b'F' + put(i and 1) + put(0) + b'F' + put(1) + put(0) + b'F' + put(1) + put(0)
        body += b'A' + put(1) + put(16) + put(0) + put(0)
    print(len(d) + 8)
    d += struct.pack('<II', len(body), 1) + body
elif mode == 'zref-overflow':   # a version 3 chunk appended: an allocation, then a free coded
                                # as a delta of 16s that does not fit 64 bits signed
    z = ctypes.CDLL('libzstd.so.1')
    for f in ('ZSTD_compress', 'ZSTD_compressBound'):
        getattr(z, f).restype = ctypes.c_ulonglong
    def split(x):
        return (bytes([x]), b'') if x < 0x80 else (bytes([x & 0x7f | 0x80]), put(x >> 7))
    n, i = get(plain(b'Z')[3], 1)
    col = [b'AF', put(n) + put(1)] + [b''] * 8
    for k, x in ((2, 16), (4, 0), (6, 2 << 3 | 2), (8, ((1 << 63) - 2) << 1 | 1)):
        lo, hi = split(x)
        col[k] += lo
        col[k + 1] += hi
    # stream 16383 (unused), reset, 0 codes before, 2 records
    raw = put(0) + put(16383) + put(1) + put(0) + put(2) + b''.join(put(len(c)) for c in col) + b''.join(col)
    bound = z.ZSTD_compressBound(ctypes.c_size_t(len(raw)))
    out = ctypes.create_string_buffer(bound)
    m = z.ZSTD_compress(out, ctypes.c_size_t(bound), raw, ctypes.c_size_t(len(raw)), 1)
    print(len(d))
    d += struct.pack('<II', m | 1 << 31, 1) + out.raw[:m]
elif mode in ('zseq', 'zptr0'): # the first compressed chunk's numbers moved up by arg; its first address 0
    z = ctypes.CDLL('libzstd.so.1')
    for f in ('ZSTD_getFrameContentSize', 'ZSTD_decompress', 'ZSTD_compress', 'ZSTD_compressBound'):
        getattr(z, f).restype = ctypes.c_ulonglong
    off, zip, tid, body = next(c for c in chunks() if c[1])
    size = z.ZSTD_getFrameContentSize(body, ctypes.c_size_t(len(body)))
    buf = ctypes.create_string_buffer(size)
    assert z.ZSTD_decompress(buf, ctypes.c_size_t(size), body, ctypes.c_size_t(len(body))) == size
    cols = buf.raw
    nrec, i = get(cols, 0)
    assert nrec  # a version 2 block: v nrec, v len[6], the columns
    lens = []
    for k in range(6):
        n, i = get(cols, i)
        lens.append(n)
    col = []
    for n in lens:
        col.append(cols[i:i + n])
        i += n
    if mode == 'zseq':
        seq, j = get(col[1], 0)
        col[1] = put(seq + arg) + col[1][j:]
    else:
        ptr, j = get(col[4], 0)
        col[4] = put(0) + col[4][j:]
    raw = put(nrec) + b''.join(put(len(c)) for c in col) + b''.join(col)
    bound = z.ZSTD_compressBound(ctypes.c_size_t(len(raw)))
    out = ctypes.create_string_buffer(bound)
    n = z.ZSTD_compress(out, ctypes.c_size_t(bound), raw, ctypes.c_size_t(len(raw)), 1)
    replace(off, body, 1, tid, out.raw[:n])
    print(off)
open(dst, 'wb').write(d)
PY
dmg() { python3 "$T/damage.py" "$@" || fail "damage-$1" "damage.py $* failed"; }

timeout 60 "$LEAKHUNT" record -o "$T/ph" -- "$T/phases" 5 >/dev/null 2>"$T/rec.err" || fail record-phases "$(cat "$T/rec.err")"
report clean "$T/ph.lht" && expect clean-complete "$(js 'd["summary"]["complete"]' "$T/clean.json")" True

# --- numbers far past the events read: reading stops at the damaged record
# and says where; before, 2^63 died on a 'size overflow' naming neither file
# nor byte, and 2^64 - 2 made the ordering ring grow forever
for seq in 9223372036854775808 18446744073709551614 $((1 << 40)); do
	at=$(dmg sample-seq "$T/ph.lht" "$T/far.lht" "$seq")
	if report "far-$seq" "$T/far.lht"; then
		check "far-$seq-says-where" grep -q "'.*/far.lht' is cut short: event number $seq at byte $at is far past the [0-9]* events before it" "$T/err"
		expect "far-$seq-not-complete" "$(js 'd["summary"]["complete"]' "$T/far-$seq.json")" False
		check "far-$seq-read-before" test "$(js 'd["summary"]["calls"]' "$T/far-$seq.json")" -gt 0
	fi
done
# the same in the middle of a chunk (read by the batch decoder, not record by record)
at=$(dmg sample-next "$T/ph.lht" "$T/far-row.lht" 18446744073709551000)
if report far-row "$T/far-row.lht"; then
	check far-row-says-where grep -q "event number [0-9]* at byte $at is far past" "$T/err"
fi
# in a compressed chunk: none of its events is counted, as for any damaged compressed chunk
for add in 9223372036854775808 18446744073709551000; do
	at=$(dmg zseq "$T/ph.lht" "$T/zfar.lht" "$add")
	if report "zfar-$add" "$T/zfar.lht"; then
		check "zfar-$add-says-where" grep -q "event number [0-9]* in the compressed chunk at byte $at is far past" "$T/err"
		expect "zfar-$add-not-complete" "$(js 'd["summary"]["complete"]' "$T/zfar-$add.json")" False
	fi
done

# --- a stack node id far past the nodes before it: reading stops there;
# before, the per-node arrays were grown to the id (2^28 - 1: 40 GB)
at=$(dmg node-id "$T/ph.lht" "$T/node.lht" $(((1 << 28) - 1)))
if report node-far "$T/node.lht"; then
	check node-far-says-where grep -q "'.*/node.lht' is cut short: stack node $(((1 << 28) - 1)) at byte $at comes after only [0-9]* nodes (a damaged id)" "$T/err"
	expect node-far-not-complete "$(js 'd["summary"]["complete"]' "$T/node-far.json")" False
	# the symbol table is past the damage: not blamed on the recording
	check node-far-symbols-why grep -q "has no symbol table (reading stopped at the damage, before the table)" "$T/err"
fi

# --- events at address 0, which no writer records: reading stops there.
# Before, a free of 0 took an empty slot of the live-block table for the
# block and counted the table below empty, so each allocation after it
# doubled the table (test/fuzz/seeds/fuzz_lht_load/fail_free_of_address_0,
# these rounds alone, 460 bytes, asked for 6 GB)
at=$(dmg null-frees "$T/ph.lht" "$T/null.lht" 30)
if report null-frees "$T/null.lht"; then
	check null-frees-says-where grep -q "'.*/null.lht' is cut short: damaged record of type 'F' at byte $at" "$T/err"
fi
at=$(dmg zptr0 "$T/ph.lht" "$T/zptr0.lht")
if report zptr0 "$T/zptr0.lht"; then
	check zptr0-says-where grep -q "'.*/zptr0.lht' is cut short: damaged compressed chunk at byte $at" "$T/err"
fi

# --- a version 3 free coded as a delta of 16s past 64 bits signed: the
# reader multiplied it as a signed number (undefined; the sanitizer build
# says "runtime error", which report() fails on); the address wraps
timeout 60 "$LEAKHUNT" record --compact -o "$T/ph3" -- "$T/phases" 5 >/dev/null 2>"$T/rec3.err" || fail record-phases-compact "$(cat "$T/rec3.err")"
dmg zref-overflow "$T/ph3.lht" "$T/zref.lht" >/dev/null
if report zref-clean "$T/ph3.lht" && report zref-overflow "$T/zref.lht"; then
	expect zref-overflow-read "$(js 'd["summary"]["calls"]' "$T/zref-overflow.json")" \
		$(($(js 'd["summary"]["calls"]' "$T/zref-clean.json") + 1))
fi

# --- a header whose size puts the first chunk outside the file: the message
# says which field and why (it said "damaged header" alone)
dmg header-size "$T/ph.lht" "$T/hdr-past.lht" 4000000000 >/dev/null
run_fail header-size-past "cannot read '.*/hdr-past.lht': damaged header: its size \(bytes 12-15\) is 4000000000, past the end of the file \([0-9]+ bytes\)" \
	"$LEAKHUNT" report "$T/hdr-past.lht"
dmg header-size "$T/ph.lht" "$T/hdr-short.lht" 8 >/dev/null
run_fail header-size-short "cannot read '.*/hdr-short.lht': damaged header: its size \(bytes 12-15\) is 8, less than the 32 bytes of the header" \
	"$LEAKHUNT" report "$T/hdr-short.lht"

# --- a number taken twice: the second event is dropped and counted, the
# trace is not complete, and every other number stays what it was
summary() { js '" ".join("%s=%s" % (k, v) for k, v in sorted(d["summary"].items()) if k not in ("complete", "duplicate_events"))' "$1"; }
dmg sample-next "$T/ph.lht" "$T/dup.lht" 0 >/dev/null
if report dup "$T/dup.lht"; then
	expect dup-counted "$(js 'd["summary"]["duplicate_events"]' "$T/dup.json")" 1
	expect dup-not-complete "$(js 'd["summary"]["complete"]' "$T/dup.json")" False
	expect dup-same-numbers "$(summary "$T/dup.json")" "$(summary "$T/clean.json")"
	check dup-warning grep -q "'.*/dup.lht' is damaged: 1 events have the number of an earlier event" "$T/err"
fi
expect clean-no-duplicates "$(js 'd["summary"]["duplicate_events"]' "$T/clean.json")" 0

# --- an end record that counts more events than the trace has: the numbers
# past the last event are missing, and the trace is not complete
dmg end-count "$T/ph.lht" "$T/end.lht" 5 >/dev/null
if report end-more "$T/end.lht"; then
	expect end-more-missing "$(js 'd["summary"]["missing_events"]' "$T/end-more.json")" 5
	expect end-more-not-complete "$(js 'd["summary"]["complete"]' "$T/end-more.json")" False
	n=$(js 'd["summary"]["events"]' "$T/clean.json")
	check end-more-warning grep -q "the end record counts $((n + 5)) events, but no event of the trace has a number from $n to $((n + 4))" "$T/err"
fi
