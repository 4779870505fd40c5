#!/usr/bin/python3
"""Checks ssebench-bench's figures against a packet capture of the same traffic.

For each case (transport x recording at one concurrency) it starts a capture of the loopback
interface (tshark), runs ssebench-bench for exactly that case against one mock server, reads the
capture, and compares what the harness counted (HTTP bytes, TCP_INFO payload and segments,
connections, delivery lag) and what the server reported (/mock/stats bytes, lateness) with what
the capture shows. Prints a table, writes crosscheck.json, exits 1 on any mismatch, 2 on an error.
Standard library only; see scripts/crosscheck/README.md.

The command lives in scripts/ssebench/crosscheck.py; this file only finds the package one folder up
(scripts/ssebench/__init__.py says why, without a sys.path edit)."""
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
