#!/usr/bin/python3
"""Every entry of a harness run's JSON carries its case's record as fields beside its name, with
the values of that case, and none of the counters the fields replaced. RUN names the ctest run
that wrote the JSON (its flags, in tests/bench/CMakeLists.txt); the cases it must hold are
written out here, in the order the harness runs them.
Usage: case_fields_test.py smoke|ws|http2|repetitions HARNESS_JSON"""
import json
import sys

FIELDS = ["transport", "recording", "load", "concurrency", "rate", "max_concurrency", "users",
          "interval_ms", "shape", "http", "turns", "host_conns", "link", "tls", "proxy", "client"]
# Counters that were these dimensions (or a name the harness no longer writes at all).
REMOVED_COUNTERS = ["ws_turns", "host_connections", "rate_per_s"]
# Keys both a field and a former counter: a field is a whole number or null, a counter a float.
WHOLE_OR_NULL = ["concurrency", "max_concurrency", "users", "interval_ms", "turns", "host_conns"]


def case(name, transport, concurrency, *, interval_ms=None, shape=None, http="1.1", turns=None,
         host_conns=0, recording="chat-gpt-4o-mini-text"):
    """A closed-round case: its name and the fields its entries must carry."""
    return name, {"transport": transport, "recording": recording, "load": "closed",
                  "concurrency": concurrency, "rate": None, "max_concurrency": None,
                  "users": None, "interval_ms": interval_ms, "shape": shape, "http": http,
                  "turns": turns, "host_conns": host_conns, "link": "none", "tls": "off",
                  "proxy": "none", "client": "harness"}


def http_run(transports, http_versions, host_caps, poll_shapes=("snapshot", "delta"), c=2,
             rec="chat-gpt-4o-mini-text"):
    """The cases of a run of --poll-shapes=POLL_SHAPES --intervals=50 --concurrency=C."""
    out = []
    for t in transports:
        shapes = {"poll": list(poll_shapes), "long-poll": ["delta"]}.get(t, [None])
        for shape in shapes:
            for h in http_versions:
                caps = [cap for cap in host_caps if cap == 0 or c > cap] if h == "1.1" else [0]
                for cap in caps:
                    name = f"{t}/{rec}/c:{c}"
                    interval = 50 if t == "poll" else None
                    if interval:
                        name += f"/interval_ms:{interval}"
                    if shape:
                        name += f"/shape:{shape}"
                    if h != "1.1":
                        name += f"/http:{h}"
                    if cap:
                        name += f"/host_conns:{cap}"
                    out.append(case(name, t, c, interval_ms=interval, shape=shape, http=h,
                                    host_conns=cap, recording=rec))
    return out


def ws_run():
    """--cases=ws --ws-turns=1,3 --models=chat-gpt-4o-mini-text,responses-gpt-4o-mini-ok
    --concurrency=3."""
    out = []
    for rec in ("chat-gpt-4o-mini-text", "responses-gpt-4o-mini-ok"):
        for turns in (1, 3):
            name = f"ws/{rec}/c:3" + (f"/turns:{turns}" if turns > 1 else "")
            out.append(case(name, "ws", 3, turns=turns, recording=rec))
    return out


EXPECTED = {
    "smoke": lambda: http_run(["sse", "poll", "long-poll"], ["1.1", "2"], [0, 1]),
    "ws": ws_run,
    "http2": lambda: http_run(["sse", "rest", "poll", "long-poll"], ["2"], [0]),
    # Two repetitions of each case, then its aggregates (mean, median, ...): all carry the fields.
    "repetitions": lambda: http_run(["sse", "poll"], ["1.1", "2"], [0], poll_shapes=["delta"]),
}


def no_duplicate_keys(pairs):
    keys = [k for k, _ in pairs]
    dup = {k for k in keys if keys.count(k) > 1}
    if dup:
        raise ValueError(f"keys written twice in one object: {sorted(dup)}")
    return dict(pairs)


def main(argv):
    if len(argv) != 3 or argv[1] not in EXPECTED:
        print(__doc__, file=sys.stderr)
        return 2
    run, path = argv[1], argv[2]
    problems = []
    with open(path, encoding="utf-8") as f:
        entries = json.load(f, object_pairs_hook=no_duplicate_keys)["benchmarks"]
    expected = EXPECTED[run]()
    want = dict(expected)
    order = []
    for e in entries:
        name = e["run_name"].split("/iterations:")[0]
        if not order or order[-1] != name:
            order.append(name)
        if name not in want:
            problems.append(f"{name}: a case this run should not have")
            continue
        for key in FIELDS:
            if key not in e:
                problems.append(f"{e['name']}: no field {key!r}")
            elif e[key] != want[name][key] or type(e[key]) is not type(want[name][key]):
                problems.append(f"{e['name']}: {key} is {e[key]!r}, want {want[name][key]!r}")
        for key in WHOLE_OR_NULL:
            if key in e and isinstance(e[key], float):
                problems.append(f"{e['name']}: {key} is the counter {e[key]!r}, not the field")
        for key in REMOVED_COUNTERS:
            if key in e:
                problems.append(f"{e['name']}: the removed counter {key!r} is still written")
        # The fields come right after run_name, before Google Benchmark's own keys.
        keys = list(e)
        at = keys.index("run_name") + 1
        if keys[at:at + len(FIELDS)] != FIELDS:
            problems.append(f"{e['name']}: the fields do not follow run_name in order: {keys}")
    if order != [name for name, _ in expected]:
        problems.append(f"cases {order}, want {[name for name, _ in expected]}")
    for p in problems:
        print(f"{path}: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
