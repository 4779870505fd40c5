#!/usr/bin/python3
"""The scale run's table again from RUN_DIR/scale.json (after a change to the arithmetic in
ssebench/scale_table.py): its summaries recomputed from the raw points, table.md rewritten."""
import os
import sys

from ssebench import cli, scale_table


def main():
    ap = cli.parser(__doc__, "scale_table.py")
    ap.add_argument("run_dir", metavar="RUN_DIR")
    a = ap.parse_args()
    if not os.path.isfile(os.path.join(a.run_dir, "scale.json")):
        cli.fail("scale_table.py", f"{a.run_dir}: no scale.json")
    print(scale_table.rewrite(a.run_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
