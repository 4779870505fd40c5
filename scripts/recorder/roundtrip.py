#!/usr/bin/python3
"""The recorder's round trip, at the recorded pace.

1. Our server replays each original recording at 1x; ssebench-record records it (gen1).
2. A second server replays gen1 at 1x; ssebench-record records that (gen2).
3. Every event's bytes are compared with the original's, and every offset: gen1 - original (what
   recording adds), gen2 - gen1 (replaying a recorded file reproduces it), gen2 - original.

Usage: scripts/recorder/roundtrip.py [--build build/release] [--repeat 5]
           [--ids chat-gpt-4o-mini-text,responses-gpt-4o-mini-ok] [--keep DIR] [--json FILE]
Exits 1 if any byte differs. Offsets are in microseconds; "median" and "max" are of |delta|.

The command lives in scripts/ssebench/roundtrip.py; this file only finds the package one folder up
(scripts/ssebench/__init__.py says why, without a sys.path edit)."""
import importlib.util
import os
import sys

_PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "ssebench")
_SPEC = importlib.util.spec_from_file_location(
    "ssebench", os.path.join(_PACKAGE, "__init__.py"), submodule_search_locations=[_PACKAGE])
sys.modules["ssebench"] = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(sys.modules["ssebench"])
from ssebench import roundtrip  # noqa: E402

if __name__ == "__main__":
    sys.exit(roundtrip.main())
