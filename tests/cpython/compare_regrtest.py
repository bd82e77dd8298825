#!/usr/bin/env python3
"""Runs CPython's own regression tests natively and under Transit and
compares the outcome of every test case (passed, failed, error, skipped).

    compare_regrtest.py --transit 'qemu-aarch64-static .../transit' \
        [--runs N] [--python /usr/bin/python3] MODULE...

The native run is the reference. Each Transit run must give every test
case the same outcome; the differences are listed, and the exit status is
1 when there are any. Needs Debian's libpython3.X-testsuite. stdlib only.
"""

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET


def outcomes(junit_path):
    """{'module.Class.test': outcome} from regrtest's --junit-xml file."""
    results = {}
    for case in ET.parse(junit_path).getroot().iter("testcase"):
        name = case.get("name", "?")
        if case.find("error") is not None:
            outcome = "error"
        elif case.find("failure") is not None:
            outcome = "failure"
        elif case.find("skipped") is not None:
            outcome = "skipped"
        else:
            outcome = "passed"
        results[name] = outcome
    return results


def run(prefix, python, modules, label, log_dir):
    """One regrtest run; returns (outcomes, seconds, exit status)."""
    junit = os.path.join(log_dir, f"{label}.xml")
    log = os.path.join(log_dir, f"{label}.log")
    argv = prefix + [python, "-m", "test", "-v", "--junit-xml", junit] + modules
    start = time.monotonic()
    with open(log, "w") as out, tempfile.TemporaryDirectory() as cwd:
        status = subprocess.call(argv, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
    seconds = time.monotonic() - start
    if not os.path.exists(junit):
        print(f"{label}: no results (exit {status}); see {log}")
        return None, seconds, status
    return outcomes(junit), seconds, status


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transit", required=True, help="command prefix that runs an x86_64 program under Transit")
    parser.add_argument("--python", default="/usr/bin/python3")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--logs", default=None, help="directory for logs and junit files")
    parser.add_argument("modules", nargs="+")
    args = parser.parse_args()
    log_dir = args.logs or tempfile.mkdtemp(prefix="cpython-regrtest-")
    os.makedirs(log_dir, exist_ok=True)
    print(f"logs: {log_dir}")

    native, seconds, status = run([], args.python, args.modules, "native", log_dir)
    if native is None:
        return 2
    counts = {o: sum(1 for v in native.values() if v == o) for o in ("passed", "failure", "error", "skipped")}
    print(f"native: {len(native)} test cases {counts}, exit {status}, {seconds:.0f} s")

    identical_runs = 0
    for i in range(1, args.runs + 1):
        label = f"transit-{i}"
        transit, seconds, status = run(shlex.split(args.transit), args.python, args.modules, label, log_dir)
        if transit is None:
            continue
        differences = sorted(
            (name, native.get(name, "absent"), transit.get(name, "absent"))
            for name in set(native) | set(transit)
            if native.get(name) != transit.get(name)
        )
        verdict = "identical" if not differences else f"{len(differences)} differ"
        print(f"{label}: {len(transit)} test cases, exit {status}, {seconds:.0f} s: {verdict}")
        for name, expected, got in differences:
            print(f"    {name}: native {expected}, transit {got}")
        identical_runs += not differences
    print(f"{identical_runs} of {args.runs} Transit runs identical to native")
    return 0 if identical_runs == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())
