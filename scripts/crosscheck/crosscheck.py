#!/usr/bin/python3
"""Checks ssebench-bench's figures against a packet capture of the same traffic (--help;
scripts/crosscheck/README.md).

The command lives in scripts/ssebench/crosscheck.py; this file only finds the package one
folder up (scripts/ssebench/__init__.py says why, without a sys.path edit)."""
import importlib.util
import os
import sys

_PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "ssebench")
_SPEC = importlib.util.spec_from_file_location(
    "ssebench", os.path.join(_PACKAGE, "__init__.py"), submodule_search_locations=[_PACKAGE])
sys.modules["ssebench"] = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(sys.modules["ssebench"])
from ssebench import crosscheck  # noqa: E402

if __name__ == "__main__":
    sys.exit(crosscheck.main())
