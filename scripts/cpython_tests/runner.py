"""Run one CPython regression-test module inside the eryx sandbox.

Called by scripts/cpython-tests.sh as ``runner.main(NAME)`` with the test
tree mounted read-only at /cpython-tests, this directory at /eryx-suite, a
host directory at /eryx-run (the running test's name) and /tmp either the
sandbox's virtual tree or a host scratch directory. Tests listed in skips.py are skipped
with their reason (WASI platform limits, limits of the CPython-for-WASI
build); everything else runs under plain unittest. The last line printed is
``ERYX-SUITE {json}`` with the counts, every failure's id and summary and
the skips.py patterns that matched a test.
"""

import fnmatch
import io
import json
import os
import sys
import time
import unittest

import skips


def _tests(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from _tests(item)
        else:
            yield item


def _skip_listed(suite, name):
    """Skip every test of `suite` that skips.py lists for module `name`;
    returns {pattern: tests it skipped} for the patterns that matched (the
    gate reports the others as stale)."""
    # Test ids need not start with the module's name (test_datetime runs
    # datetimetester's classes): every rule is tried.
    rules = [(pat, why) for pat, (_, why) in skips.SKIPS.items()]
    matched = {}
    for test in _tests(suite):
        test_id = test.id().removeprefix("test.")
        for pattern, why in rules:
            if fnmatch.fnmatchcase(test_id, pattern):
                matched[pattern] = matched.get(pattern, 0) + 1
                method = getattr(test, "_testMethodName", None)
                if method:

                    def skipped(why=why):
                        raise unittest.SkipTest(why)

                    setattr(test, method, skipped)
                break
    return matched


# Where the running test is noted: a host directory the driver mounts (so
# it survives a crash even when /tmp is the sandbox's virtual tree).
_CURRENT = "/eryx-run/.current-test" if os.path.isdir("/eryx-run") else "/tmp/.current-test"


class _Result(unittest.TextTestResult):
    """Notes the running test in _CURRENT: if the interpreter crashes, the
    driver names the test that did it."""

    def startTest(self, test):
        with open(_CURRENT, "w") as f:
            f.write(test.id().removeprefix("test."))
        super().startTest(test)


def _repair_config_args():
    """The build's sysconfig data has CONFIG_ARGS cut off inside a quoted
    argument (a build limit, see skips.py), which test.support's shlex
    parse rejects: close the quote."""
    import sysconfig

    config = sysconfig.get_config_vars()
    args = config.get("CONFIG_ARGS") or ""
    if args.count("'") % 2:
        config["CONFIG_ARGS"] = args + "'"


def _short(text):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1][:300] if lines else ""


def _prepare():
    """What every run needs before test.support is imported."""
    sys.path.insert(0, "/cpython-tests")
    os.chdir("/tmp")
    os.environ["TMPDIR"] = "/tmp"
    import tempfile

    tempfile.tempdir = "/tmp"
    _repair_config_args()
    from test import support

    support.verbose = 0
    # As `python -m test` without -u: no optional resources. Outside
    # regrtest test.support enables them all (use_resources None), which
    # e.g. makes test_decimal run every IBM case on both implementations
    # instead of a 10 % sample (>300 s instead of ~30 s here).
    support.use_resources = []
    # CPython's WASI builds skip their deep-recursion tests ("Exhausts stack
    # on WASI"); eryx sizes its stacks so that they pass (docs/stacks.md):
    # run them.
    support.skip_wasi_stack_overflow = lambda: (lambda test: test)


def one(test_ids):
    """Run the given tests (ids without ``test.``) verbosely on stderr,
    skips.py NOT applied: how a listed skip is re-checked
    (`scripts/cpython-tests.sh --one ID...`)."""
    _prepare()
    loader = unittest.defaultTestLoader
    suite = unittest.TestSuite(loader.loadTestsFromName("test." + t) for t in test_ids)
    result = unittest.TextTestRunner(stream=sys.stderr, verbosity=2).run(suite)
    bad = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    print(f"ERYX-ONE run={result.testsRun} bad={bad} skipped={len(result.skipped)}")
    if bad:
        raise SystemExit(1)


def main(name, verbose=False):
    """Run test module `name`; `verbose` lists each test on stderr."""
    start = time.perf_counter()
    _prepare()
    import importlib

    try:
        module = importlib.import_module("test." + name)
    except unittest.SkipTest as e:
        # The whole module is skipped on WASI (e.g. "requires subprocess").
        report = {"module": name, "run": 0, "failed": 0, "errors": 0, "skipped": 0,
                  "seconds": round(time.perf_counter() - start, 2), "failures": [],
                  "module_skipped": str(e)}
        print("\nERYX-SUITE " + json.dumps(report))
        return
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    matched = _skip_listed(suite, name)
    stream = sys.stderr if verbose else io.StringIO()
    runner = unittest.TextTestRunner(
        stream=stream, verbosity=2 if verbose else 0, resultclass=_Result
    )
    result = runner.run(suite)
    failures = []
    failing = {"failure": set(), "error": set()}
    for kind, items in (("failure", result.failures), ("error", result.errors)):
        for t, tb in items:
            # A failing subTest counts once, as its test.
            test_id = getattr(t, "test_case", t).id().removeprefix("test.")
            if test_id not in failing["failure"] | failing["error"]:
                failures.append({"id": test_id, "kind": kind, "summary": _short(tb)})
            failing[kind].add(test_id)
    failing["error"] -= failing["failure"]
    unexpected = [t.id().removeprefix("test.") for t in result.unexpectedSuccesses]
    failures += [{"id": i, "kind": "unexpected-success", "summary": ""} for i in unexpected]
    report = {
        "module": name,
        "run": result.testsRun,
        "failed": len(failing["failure"]) + len(unexpected),
        "errors": len(failing["error"]),
        "skipped": len(result.skipped),
        "seconds": round(time.perf_counter() - start, 2),
        "failures": failures,
        "skips_matched": sorted(matched),
        "listed": sum(matched.values()),
    }
    sys.stdout.flush()
    print("\nERYX-SUITE " + json.dumps(report))
