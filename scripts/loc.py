#!/usr/bin/python3
"""Lines of code of JavaScript files: lines that are neither blank nor only a comment.

A line counts unless, stripped, it is empty, starts with `//`, or lies inside a `/* … */` block
comment (JSDoc included) that starts at the start of a line; a line with code and a trailing
comment counts. The rule is a plain reading of the source, no parser: it is what
examples/README.md's table of the reference clients quotes (`scripts/loc.py examples/*.js`).

Prints one line per file, `LINES  FILE`, in the order given; `--markdown` prints a Markdown
table instead.
"""
import sys

from ssebench import cli


def count(text):
    """The lines of `text` that are neither blank nor only a comment."""
    n, in_block = 0, False
    for line in text.splitlines():
        s = line.strip()
        if in_block:
            in_block = "*/" not in s
        elif s.startswith("/*"):
            in_block = "*/" not in s[2:]
        elif s and not s.startswith("//"):
            n += 1
    return n


def main(argv):
    ap = cli.parser(__doc__, "loc.py")
    ap.add_argument("files", nargs="+", metavar="FILE", help="JavaScript files")
    ap.add_argument("--markdown", action="store_true", help="a Markdown table")
    a = ap.parse_args(argv)
    rows = []
    for path in a.files:
        try:
            with open(path, encoding="utf-8") as f:
                rows.append((path, count(f.read())))
        except (OSError, UnicodeDecodeError) as e:
            cli.fail("loc.py", f"{path}: {e.strerror if isinstance(e, OSError) else e}")
    if a.markdown:
        print("| file | lines of code |\n|---|---:|")
        for path, n in rows:
            print(f"| `{path}` | {n} |")
    else:
        for path, n in rows:
            print(f"{n:6d}  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
