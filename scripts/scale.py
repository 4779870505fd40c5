#!/usr/bin/python3
"""scripts/scale's runs (scripts/scale builds and installs first): server capacity against the
raw-socket floor, the mock-llm peer, the openai client, and polling against nginx, in one run.
Writes OUT/scale.json and OUT/table.md (ssebench/scale.py and scale_table.py)."""
import sys

from ssebench import cli, scale


def main():
    ap = cli.parser(__doc__, "scale.py")
    ap.add_argument("--out", required=True)
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--parts", default="capacity,peer,poll")
    ap.add_argument("--streams", default="100,1000,10000", help="capacity points to run")
    ap.add_argument("--duration-s", type=int, default=8, help="measured seconds a point")
    scale.run(ap.parse_args(), sys.argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
