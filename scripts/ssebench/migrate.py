"""One-off: gives the entries of runs made before the case fields their fields, from the names.

The one place that reads a case's dimensions from its name: the harness writes them as fields
since issue 15, and results.py reads only the fields. Each entry (iterations and aggregates) gets
transport, recording, load, concurrency, rate, max_concurrency, users, interval_ms, shape, http,
turns, host_conns, link, tls, proxy and client right after its "name", and loses the counters
that were the same values (concurrency, interval_ms, ws_turns, host_connections, rate_per_s,
users), so old and new runs read alike. The file is edited line by line: its layout (Google
Benchmark's or json.dump's) stays, and the diff is the fields alone. Runs already migrated are
left as they are.

Usage: python3 -m ssebench.migrate RUN_OR_JSON...   (PYTHONPATH=scripts)
A name the harness never wrote ('poll-full' is kept: the transport before the poll shapes).
"""
import json
import re
import sys

_GB = re.compile(r"(/iterations:\d+|/manual_time(_\w+)?|/real_time(_\w+)?|/repeats:\d+)+$")
# Counters that carried a case's dimension; those of the same key are replaced by the field.
OLD_COUNTERS = ("concurrency", "interval_ms", "ws_turns", "host_connections", "rate_per_s",
                "users", "max_concurrency")


def _number(text):
    v = float(text)
    return int(v) if v.is_integer() and "." not in text else v


def fields_from_name(name):
    """The case fields of a name as ssebench-bench wrote it before the fields."""
    parts = _GB.sub("", name).split("/")
    f = {"transport": parts[0], "recording": parts[1] if len(parts) > 1 else "",
         "load": "closed", "concurrency": None, "rate": None, "max_concurrency": None,
         "users": None, "interval_ms": None, "shape": None, "http": "1.1",
         "turns": 1 if parts[0] == "ws" else None, "host_conns": 0, "link": "none",
         "tls": "off", "proxy": "none", "client": "harness"}
    for p in parts[2:]:
        key, _, value = p.partition(":")
        if key == "c":
            f["concurrency"] = int(value)
        elif key == "rate":
            f["load"], f["rate"] = "open", _number(value)
            f["max_concurrency"] = f["max_concurrency"] or 0
        elif key == "max_conc":
            f["max_concurrency"] = int(value)
        elif key == "users":
            f["load"], f["users"] = "users", int(value)
        elif key == "interval_ms":
            f["interval_ms"] = int(value)
        elif key == "shape":
            f["shape"] = value
        elif key == "http":
            f["http"] = value
        elif key == "turns":
            f["turns"] = int(value)
        elif key == "host_conns":
            f["host_conns"] = int(value)
        else:
            raise ValueError(f"{name}: unknown name part {p!r}")
    return f


def expected(data):
    """The migrated document, as a dict: what the line edit must give."""
    out = json.loads(json.dumps(data))
    for i, b in enumerate(out.get("benchmarks", [])):
        if "transport" in b:
            continue
        f = fields_from_name(b.get("run_name") or b["name"])
        new = {}
        for k, v in b.items():
            if k in OLD_COUNTERS:
                continue
            new[k] = v
            if k == "name":
                new.update(f)
        out["benchmarks"][i] = new
    return out


_KEY = re.compile(r'^(\s*)"([^"]+)": ')


def migrate_text(text):
    """The file's text with the fields added and the old counters removed, line by line."""
    data = json.loads(text)
    lines = text.split("\n")
    out = []
    in_benchmarks = False
    entry_names = iter(b for b in data.get("benchmarks", []))
    current = None
    for line in lines:
        m = _KEY.match(line)
        if m and m.group(2) == "benchmarks" and len(m.group(1)) == 2:
            in_benchmarks = True
        if in_benchmarks and m and m.group(2) == "name" and len(m.group(1)) == 6:
            current = next(entry_names)
            out.append(line)
            if "transport" not in current:
                f = fields_from_name(current.get("run_name") or current["name"])
                out += [f'{m.group(1)}"{k}": {json.dumps(v)},' for k, v in f.items()]
            continue
        if (in_benchmarks and m and len(m.group(1)) == 6 and m.group(2) in OLD_COUNTERS
                and current is not None and "transport" not in current):
            if not line.rstrip().endswith(","):  # the entry's last key: the one before ends it
                out[-1] = out[-1].rstrip().rstrip(",")
            continue
        out.append(line)
    return "\n".join(out)


def migrate(path):
    """Migrates one benchmark.json in place; True when it changed."""
    if not path.endswith(".json"):
        path = path.rstrip("/") + "/benchmark.json"
    with open(path, encoding="utf-8") as f:
        text = f.read()
    data = json.loads(text)
    if all("transport" in b for b in data.get("benchmarks", [])):
        return False
    new = migrate_text(text)
    if json.loads(new) != expected(data):
        raise ValueError(f"{path}: the line edit does not give the expected document")
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(new)
    import os
    os.replace(path + ".tmp", path)
    return True


def main(argv):
    if not argv or any(a.startswith("-") for a in argv):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    for path in argv:
        try:
            changed = migrate(path)
        except (OSError, ValueError) as e:
            print(f"migrate: {e}", file=sys.stderr)
            return 2
        print(f"migrate: {path}: {'migrated' if changed else 'has its fields already'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
