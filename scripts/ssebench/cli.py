"""What every command shares: argparse from its docstring, and a run that cannot be read as one
line and exit 2."""
import argparse
import sys

from . import results


def parser(doc, prog=None):
    """An ArgumentParser whose --help is the command's docstring. argparse takes --opt=value and
    --opt value alike; an unknown option or a bad value is its usage error, exit 2."""
    return argparse.ArgumentParser(prog=prog, description=doc.strip(),
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
