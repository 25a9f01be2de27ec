"""The package suites scripts/package-suites.sh runs (see run.py), pinned.

Each: the packages (`with`, pinned), where the tests are (the wheel's
modules as `targets` for --pyargs, or a pinned sdist's test directory),
the short subset CI runs (`ci`), and the failures expected, classified as
for CPython's suite (count, reason) — more failures than that fail the run.
"""

# pytest and the test helpers every suite gets.
PYTEST = ["pytest==9.2.0", "hypothesis==6.155.7"]

SUITES = [
    {
        "name": "sympy",
        "version": "1.14.0",
        "with": ["sympy==1.14.0", "mpmath==1.3.0"],
        "targets": ["sympy.core"],
        "ci": ["sympy.core.tests.test_basic", "sympy.core.tests.test_arit"],
        "failures": [],
        "ci_failures": 0,
    },
    {
        "name": "networkx",
        "version": "3.7",
        "with": ["networkx==3.7"],
        "targets": ["networkx.classes", "networkx.algorithms.shortest_paths",
                    "networkx.algorithms.flow", "networkx.readwrite"],
        "ci": ["networkx.classes.tests.test_graph", "networkx.algorithms.shortest_paths"],
        "failures": [],
        "ci_failures": 0,
    },
    {
        "name": "python-dateutil",
        "version": "2.9.0.post0",
        "with": ["python-dateutil==2.9.0.post0", "freezegun==1.5.5"],
        "sdist": ("python-dateutil", "2.9.0.post0", "tests"),
        "targets": ["."],
        "ci": ["test_parser.py", "test_rrule.py"],
        "failures": [
            (51, "wasi: no time.tzset (WASI's local time is always UTC; the tzlocal tests set TZ)"),
            (5, "open: gettz's cache tests (AssertionError: entries stay referenced after del + gc)"),
        ],
        "ci_failures": 3,
    },
]
