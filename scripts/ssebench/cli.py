"""What every command shares: argparse from its docstring, a usage error as one line (naming the
closest option to a mistyped one) and exit 2, a run that cannot be read as one line and exit 2."""
import argparse
import re
import sys

from . import results


def distance(a, b):
    """Levenshtein distance, for "did you mean" (as core/src/flags.cpp does for the harness)."""
    row = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        diag, row[0] = row[0], i
        for j in range(1, len(b) + 1):
            up = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1]))
            diag = up
    return row[len(b)]


def closest(name, candidates):
    """The candidate a typo of `name` most likely meant, or None: within max(2, len/4) edits, the
    harness's rule, so a guess is never offered for a word that is merely different."""
    best, best_d = None, max(2, len(name) // 4) + 1
    for c in candidates:
        d = distance(name, c)
        if d < best_d:
            best, best_d = c, d
    return best


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `PROG: unknown option --chek (did you mean --check?) (see
    --help)`, exit 2. Abbreviations are refused (`--writ` is not `--write`): a prefix that works
    today would change meaning the day an option sharing it is added."""

    def parse_known_args(self, args=None, namespace=None):
        # An unknown option is named before a missing argument: `compare --fail-on-regresion=10`
        # says what was mistyped, not that BASE is missing.
        args = sys.argv[1:] if args is None else list(args)
        known = set(self._options())
        for a in args:
            if a == "--":
                break
            if a.startswith("--") and a.split("=", 1)[0] not in known:
                self.error(f"unrecognized arguments: {a}")
        return super().parse_known_args(args, namespace)

    def error(self, message):
        print(f"{self.prog}: {self._one_line(message)} (see --help)", file=sys.stderr)
        raise SystemExit(2)

    def _options(self):
        return [s for a in self._actions for s in a.option_strings if s.startswith("--")]

    def _one_line(self, message):
        unknown = "unrecognized arguments: "
        if message.startswith(unknown):
            first = message[len(unknown):].split()[0]
            if not first.startswith("-"):
                return f"unexpected argument '{first}'"
            name = first.split("=", 1)[0]
            near = closest(name, self._options())
            return f"unknown option {name}" + (f" (did you mean {near}?)" if near else "")
        required = "the following arguments are required: "
        if message.startswith(required):
            return "missing " + message[len(required):].upper()
        bad = re.match(r"argument (\S+): invalid (float|int) value: (.*)", message)
        if bad:
            what = "a number" if bad[2] == "float" else "a whole number"
            return f"{bad[1]} takes {what} (got {bad[3]})"
        return message.removeprefix("argument ").replace("\n", " ")


def parser(doc, prog=None):
    """A Parser whose --help is the command's docstring. It takes --opt=value and --opt value
    alike; an unknown option or a bad value is its usage error: one line, exit 2."""
    return Parser(prog=prog, description=doc.strip(), allow_abbrev=False,
                  formatter_class=argparse.RawDescriptionHelpFormatter)


def fail(prog, message):
    """One line on stderr, exit 2."""
    print(f"{prog}: {message}", file=sys.stderr)
    raise SystemExit(2)


def load(prog, path):
    """results.load(path), or the reason on one line and exit 2."""
    try:
        return results.load(path)
    except results.ResultsError as e:
        fail(prog, e)
