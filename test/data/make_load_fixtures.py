#!/usr/bin/env python3
"""Writes the loader's fixtures: test/data/{pass,fail}_load_*.heapsnapshot and
the fuzz seeds in test/fuzz/seeds/fuzz_snapshot_load/.

Each fixture is a tiny snapshot laid out byte for byte the way Node 20 writes
one (see /work/shared/reference/v8-heapsnapshot.md section 2), then bent in
one way: a field order, a missing section, a count, a cut.  The fixtures are
committed; rerun this after changing it (python3 test/data/make_load_fixtures.py).
test/unit/load_test.c checks the values the pass_* ones hold.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = os.path.join(HERE, "..", "fuzz", "seeds", "fuzz_snapshot_load")

NODE_TYPES = ["hidden", "array", "string", "object", "code", "closure", "regexp", "number",
              "native", "synthetic", "concatenated string", "sliced string", "symbol", "bigint",
              "object shape", "wasm object"]
EDGE_TYPES = ["context", "element", "property", "internal", "hidden", "shortcut", "weak"]
NODE_FIELDS = ["type", "name", "id", "self_size", "edge_count", "trace_node_id", "detachedness"]

# Strings, as the JSON text that goes between the quotes (already escaped).
STRINGS = [
    "<dummy>", "", "(GC roots)", "Object", "Foo", "bar", "x",
    r"tab\there\nnl \"q\" back\\slash \/ \b\f\r",     # 7: every short escape
    r"caf\u00E9 \u20AC \u001F",                       # 8: BMP escapes, upper-case hex
    r"smile \uD83D\uDE00 end",                        # 9: a surrogate pair -> U+1F600
    r"lone \uD800 and \uDC00!",                       # 10: lone surrogates -> WTF-8
    "raw DEL \x7f",                                   # 11: DEL is written raw
    r"lower \u00e9\ud83d\ude00",                      # 12: lower-case hex, pair at the end
]

# The graph: (type, name, id, self_size, detachedness, [(edge type, name_or_index, to node)])
NODES = [
    ("synthetic", 1, 1, 0, 0, [("element", 1, 1), ("property", 5, 2), ("shortcut", 6, 3)]),
    ("object", 3, 3, 16, 1, [("property", 5, 2), ("weak", 6, 3)]),
    ("object", 4, 5, 32, 2, [("internal", 6, 3)]),
    ("string", 7, 7, 24, 0, []),
]
LOCATIONS = [(2, 12, 27, 4), (1, 3, 0, 0)]  # (node ordinal, script, line, column), unsorted as V8 writes them


def header(node_fields=NODE_FIELDS, node_count=None, edge_count=None, extra_header="", extra_meta=""):
    nc = len(NODES) if node_count is None else node_count
    ec = sum(len(n[5]) for n in NODES) if edge_count is None else edge_count
    types = [NODE_TYPES if f == "type" else ("string" if f == "name" else "number") for f in node_fields]
    meta = ('{"node_fields":%s,"node_types":%s,"edge_fields":["type","name_or_index","to_node"],'
            '"edge_types":[%s,"string_or_number","node"],'
            '"trace_function_info_fields":["function_id","name","script_name","script_id","line","column"],'
            '"trace_node_fields":["id","function_info_index","count","size","children"],'
            '"sample_fields":["timestamp_us","last_assigned_id"],'
            '"location_fields":["object_index","script_id","line","column"]%s}'
            % (json.dumps(node_fields, separators=(",", ":")), json.dumps(types, separators=(",", ":")),
               json.dumps(EDGE_TYPES, separators=(",", ":")), extra_meta))
    return '{"snapshot":{"meta":%s,"node_count":%d,"edge_count":%d,"trace_function_count":0%s},\n' % (
        meta, nc, ec, extra_header)


def node_numbers(n, node_fields):
    t, name, nid, size, det, edges = n
    vals = {"type": NODE_TYPES.index(t), "name": name, "id": nid, "self_size": size,
            "edge_count": len(edges), "trace_node_id": 0, "detachedness": det, "extra": 99,
            "kind": NODE_TYPES.index(t)}
    return [vals[f] for f in node_fields]


def body(node_fields=NODE_FIELDS, nodes=None, edges_text=None, strings=None, middle=None, tail=""):
    nodes = NODES if nodes is None else nodes
    nf = len(node_fields)
    rows = [",".join(str(v) for v in node_numbers(n, node_fields)) for n in nodes]
    out = '"nodes":[' + "\n,".join(rows) + "\n],\n"
    if edges_text is None:
        erows = ["%d,%d,%d" % (EDGE_TYPES.index(t), name, to * nf) for n in nodes for (t, name, to) in n[5]]
        edges_text = "\n,".join(erows)
    out += '"edges":[' + edges_text + "],\n"
    if middle is None:
        middle = '"trace_function_infos":[],\n"trace_tree":[],\n"samples":[],\n'
    out += middle
    out += '"locations":[' + "\n,".join("%d,%d,%d,%d" % (o * nf, s, l, c) for (o, s, l, c) in LOCATIONS) + "],\n"
    strs = STRINGS if strings is None else strings
    out += '"strings":[' + ",\n".join('"%s"' % s for s in strs) + "]" + tail + "}"
    return out


def snapshot(node_fields=NODE_FIELDS, **kw):
    hkw = {k: kw.pop(k) for k in ("node_count", "edge_count", "extra_header", "extra_meta") if k in kw}
    return header(node_fields, **hkw) + body(node_fields, **kw)


def write(name, text, seed=True):
    data = text.encode("latin-1") if isinstance(text, str) else text
    with open(os.path.join(HERE, name + ".heapsnapshot"), "wb") as f:
        f.write(data)
    if seed:
        with open(os.path.join(SEEDS, name), "wb") as f:
            f.write(data)


def main():
    os.makedirs(SEEDS, exist_ok=True)
    base = snapshot()
    write("pass_load_minimal", base)
    # field order from meta: shuffled, an extra field, and Node < 20's six fields
    write("pass_load_reordered_fields",
          snapshot(["id", "edge_count", "name", "detachedness", "self_size", "trace_node_id", "type"]))
    write("pass_load_extra_field", snapshot(NODE_FIELDS + ["extra"]))
    write("pass_load_no_detachedness", snapshot(NODE_FIELDS[:6]))
    # every optional section and the newer header members DevTools reads
    write("pass_load_optional_sections", snapshot(
        extra_header=',"root_index":0,"extra_native_bytes":123456',
        extra_meta=',"scope_fields":["id","kind"],"new_thing":{"nested":[1,[2,{"a":"]"}]]}',
        middle=('"trace_function_infos":[1,2,3,4,5,6],\n"trace_tree":[1,0,0,0,[2,0,0,0,[]]],\n'
                '"samples":[10,1,20,2],\n"scopes":[0,1],\n"scope_context_vars":[],\n'
                '"future":{"k":"v \\" ] }","n":null,"t":true,"f":false,"x":-1.5e3},\n')))
    write("pass_load_no_locations", base.replace(base[base.index('"locations"'):base.index('"strings"')], ""))
    # big enough that the loader splits "edges" between its two threads (the
    # split needs a back half of 4 KiB), so the fuzzer reaches the backward parser
    many = [("synthetic", 1, 1, 0, 0, [("element", k, k) for k in range(1, 6)])]
    for k in range(1, 300):
        edges = [(EDGE_TYPES[(k + j) % 7], (k * 7 + j) % 12 + 1 if (k + j) % 7 not in (1, 4) else j,
                  (k * 31 + j * 17) % 300) for j in range(k % 5)]
        many.append((NODE_TYPES[k % 15], k % 12 + 1, 2 * k + 1, k * 8, k % 3, edges))
    write("pass_load_many_edges", snapshot(nodes=many, node_count=len(many),
                                           edge_count=sum(len(n[5]) for n in many)))
    write("pass_load_whitespace", " \n\t" + base.replace(",", " , ").replace(":[", " : [ ") + " \r\n")

    # errors
    write("fail_load_empty", "")
    write("fail_load_only_whitespace", "  \n\n")
    write("fail_load_not_json", "this is not a heap snapshot\n")
    write("fail_load_json_array", "[1,2,3]")
    write("fail_load_truncated_header", base[:120])
    write("fail_load_truncated_nodes", base[:base.index('"edges"') - 20])
    write("fail_load_truncated_edges", base[:base.index('"trace_function_infos"') - 8])
    write("fail_load_truncated_strings", base[:base.index('"strings"') + 60])
    write("fail_load_truncated_escape", base[:base.index(r"\uD83D") + 3])
    write("fail_load_no_closing_brace", base[:-1])
    write("fail_load_node_count_high", snapshot(node_count=len(NODES) + 1))
    write("fail_load_node_count_low", snapshot(node_count=len(NODES) - 1))
    write("fail_load_edge_count_high", snapshot(edge_count=7))
    write("fail_load_edge_count_low", snapshot(edge_count=5))
    write("fail_load_huge_counts", snapshot(node_count=4000000000, edge_count=4000000000))
    bad = [n for n in NODES]
    bad[2] = ("object", 4, 5, 32, 2, [("internal", 6, 9)])
    write("fail_load_edge_past_nodes", snapshot(nodes=bad))
    bad[2] = ("object", 4, 5, 32, 2, [("internal", 6, 3)])
    write("fail_load_edge_not_multiple", snapshot(edges_text="1,1,7\n,2,5,14\n,5,6,21\n,2,5,14\n,6,6,21\n,3,6,22"))
    write("fail_load_edge_type_unknown", snapshot(edges_text="1,1,7\n,2,5,14\n,5,6,21\n,2,5,14\n,6,6,21\n,9,6,21"))
    write("fail_load_node_name_past_strings", snapshot(strings=STRINGS[:5]))
    write("fail_load_unknown_layout",
          snapshot(["kind", "name", "id", "self_size", "edge_count", "trace_node_id", "detachedness"]))
    write("fail_load_no_meta", '{"snapshot":{"node_count":1,"edge_count":0},"nodes":[0],"edges":[],"strings":[""]}')
    write("fail_load_bad_number", base.replace('"nodes":[9,', '"nodes":[9.5,'))
    write("fail_load_negative_number", base.replace('"nodes":[9,', '"nodes":[-9,'))
    write("fail_load_number_too_large", base.replace('"nodes":[9,', '"nodes":[9,99999999999'))
    write("fail_load_bad_escape", base.replace(r"\u00E9", r"\x00E9"))
    write("fail_load_bad_unicode_escape", base.replace(r"\u00E9", r"\u00G9"))
    write("fail_load_string_not_string", base.replace('"Foo"', "42"))
    write("fail_load_duplicate_nodes", base.replace('"edges":[', '"nodes":[],\n"edges":['))
    write("fail_load_no_strings", base[:base.index('"strings"') - 2] + "}")
    write("fail_load_no_edges", base.replace(base[base.index('"edges"'):base.index('"trace_function_infos"')], ""))
    write("fail_load_root_index", snapshot(extra_header=',"root_index":3'))
    write("fail_load_trailing_garbage", base + "\n{}")
    write("fail_load_zero_tail", base[:700] + "\0" * 600)
    write("fail_load_all_zeros", "\0" * 300)
    write("fail_load_control_byte", base.replace('"edges":[1,', '"edges":[\x01,'))
    write("pass_load_bom", "\xef\xbb\xbf" + base, seed=False)
    # regressions: a huge double in the header was cast to an integer (undefined behaviour)
    write("fail_load_root_index_huge", snapshot(extra_header=',"root_index":1e300'))
    write("pass_load_bad_optional_numbers",
          snapshot(extra_header=',"extra_native_bytes":1e300,"trace_function_count":-1'))
    write("fail_load_header_bad_json", base.replace('"node_count":4', '"node_count":4,,'))
    write("fail_load_edge_counts_sum_high", base.replace("\n,3,4,5,32,1,0,2", "\n,3,4,5,32,2,0,2"))
    write("fail_load_edge_counts_sum_low", base.replace("\n,3,4,5,32,1,0,2", "\n,3,4,5,32,0,0,2"))
    write("fail_load_edge_name_past_strings", base.replace("\n,2,5,14\n,6,6,21", "\n,2,55,14\n,6,6,21"))
    write("fail_load_deep_nesting", snapshot(middle='"deep":' + "[" * 300 + "]" * 300 + ",\n"))


if __name__ == "__main__":
    main()
