"""The packet-capture tests' plain checks (crosscheck_link_test, crosscheck_tls_test,
radio_run_test): each check prints one ok/FAIL line, the test exits 1 if any failed, and SKIP
(CTest's SKIP_RETURN_CODE) where the machine cannot capture packets."""
import os
import shutil

SKIP = 77
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def cannot_capture():
    """Why this machine cannot run a capture test (root, tshark), or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, captures)"
    if not shutil.which("tshark"):
        return "no tshark (apt-get install tshark)"
    return None


def outcome():
    """The test's exit code, after a line counting its failures."""
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0
