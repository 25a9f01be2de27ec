"""The package suites scripts/package-suites.sh runs (see run.py), pinned.

Each: the packages (`with`, pinned; `build`: our WASI builds it needs,
made first by scripts/build-packages.sh), where the tests are (the wheel's
modules as `targets` for --pyargs, guest `paths`, or a pinned sdist's
directory, sha256-checked),
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
        "sdist": ("python-dateutil", "2.9.0.post0", "tests",
                  "37dd54208da7e1cd875388217d5e00ebd4179249f90fb72437e91a35459a0ad3"),
        "targets": ["."],
        "ci": ["test_parser.py", "test_rrule.py"],
        "failures": [
            (51, "wasi: no time.tzset (WASI's local time is always UTC; the tzlocal tests set TZ)"),
            (5, "open: gettz's cache tests (AssertionError: entries stay referenced after del + gc)"),
        ],
        "ci_failures": 3,
    },
    {
        "name": "regex",
        "version": "2026.11.19",
        "with": ["regex==2026.11.19"],
        "build": ["regex"],
        "paths": ["/site-packages/regex/tests/test_regex.py"],
        "targets": ["test_regex.py"],
        "ci": ["test_regex.py"],
        # Node ids are relative to the rootdir (the tests directory).
        "pytest": [
            # threads (a WASI limit)
            "--deselect", "test_regex.py::RegexTests::test_shared_iterators",
            # not a test: the module's own unittest.main() entry point
            "--deselect", "test_regex.py::test_main",
        ],
        "failures": [],
        "ci_failures": 0,
    },
    {
        "name": "pydantic",
        "version": "2.14.4",
        "with": ["pydantic==2.14.4", "pytest-run-parallel==0.10.0", "dirty-equals==0.11",
                 "pytz==2026.6", "pytest-mock==3.17.0", "jsonschema==4.26.0",
                 "email-validator==2.4.0", "cloudpickle==3.1.3"],
        "build": ["pydantic-core", "rpds-py"],
        "sdist": ("pydantic", "2.14.4", ".",
                  "7c19f1d46f8accf55a4617a6116e1ade64840870f397b846a2c53fb9019414ba"),
        "targets": [f"tests/{t}.py" for t in (
            "test_main", "test_types", "test_validators", "test_fields", "test_edge_cases",
            "test_dataclasses", "test_json_schema", "test_serialize", "test_generics",
            "test_config", "test_type_adapter", "test_root_model", "test_aliases",
            "test_validate_call", "test_errors", "test_computed_fields", "test_networks",
            "test_datetime")],
        "ci": ["tests/test_main.py", "tests/test_validators.py"],
        # Node ids are relative to the rootdir (the sdist, its pyproject.toml).
        "pytest": [
            # a thread (a WASI limit)
            "--deselect", "tests/test_main.py::test_model_rebuild_already_rebuilt_by_other_thread",
            # a subprocess (a WASI limit)
            "--deselect", "tests/test_generics.py::test_generic_model_pickle_different_module",
        ],
        "failures": [],
        "ci_failures": 0,
    },
    {
        "name": "pandas",
        "version": "3.1.1",
        "with": ["pandas==3.1.1", "numpy==2.3.5"],
        "build": ["pandas"],
        # Paths, not --pyargs: pytest then loads pandas/conftest.py early,
        # which defines --no-strict-data-files.
        "paths": [f"/site-packages/pandas/tests/{p}" for p in (
            "frame", "groupby", "reshape", "io/parser", "reshape/test_pivot.py",
            "groupby/test_groupby.py")],
        "targets": ["frame", "groupby", "reshape", "parser"],
        "ci": ["test_pivot.py", "test_groupby.py"],
        # pandas' sdist (and its wheels) ship no test data files: pandas' own
        # switch turns the tests that need them into skips.
        # Network tests (a local HTTP server thread, pytest-localserver) are
        # deselected by pandas' own marker: the sandbox has no network.
        "pytest": ["--no-strict-data-files", "-m", "not network"],
        "failures": [
            (25, "wasi: threads (test_parallel_read: can't start new thread)"),
            (6, "wasi: no os.pipe (test_multi_thread's multiprocessing pool)"),
            (3, "32-bit: categories inferred as int64 where the test expects the platform int (int32 on wasm32)"),
            (1, "upstream: test_to_records uses email.message without importing it (natively imported as a side effect)"),
        ],
        "ci_failures": 0,
    },
    {
        "name": "pillow",
        "version": "13.0.0",
        "with": ["pillow==13.0.0"],
        "build": ["pillow"],
        "sdist": ("pillow", "13.0.0", ".",
                  "cdcd1ba258178f7356d74170c9a81ba4eab6a5d55748bc402a5a2a6fe6be3510"),
        "targets": [f"Tests/{t}.py" for t in (
            "test_image", "test_image_convert", "test_image_resize", "test_image_resample",
            "test_image_transform", "test_image_crop", "test_image_paste", "test_image_putdata",
            "test_image_getdata", "test_image_split", "test_image_filter", "test_image_histogram",
            "test_imagedraw", "test_imageops", "test_imagechops", "test_imageenhance",
            "test_imagestat", "test_file_png", "test_file_jpeg", "test_file_gif", "test_file_bmp",
            "test_file_ppm", "test_file_tga", "test_file_ico", "test_file_webp")],
        "ci": ["Tests/test_file_png.py", "Tests/test_file_jpeg.py", "Tests/test_image_resize.py"],
        # The tests open Tests/images/... relative to the sdist's root.
        "cwd": "/suite",
        "pytest": [],
        "failures": [
            (1, "ours: open('') opens the working directory (IsADirectoryError, not FileNotFoundError)"),
            (1, "ours: an image mapped from a file through our mmap module is not read-only after save()"),
        ],
        "ci_failures": 0,
    },
    {
        "name": "matplotlib",
        "version": "3.10.9",
        "with": ["matplotlib==3.10.9"],
        "build": ["numpy", "pillow", "kiwisolver", "contourpy", "matplotlib"],
        # The wheel carries matplotlib.tests and its baseline images.
        "targets": [f"matplotlib.tests.{t}" for t in (
            "test_agg", "test_axes", "test_cbook", "test_colors", "test_contour", "test_dates",
            "test_figure", "test_image", "test_legend", "test_lines", "test_mathtext",
            "test_patches", "test_path", "test_scale", "test_text", "test_ticker",
            "test_transforms", "test_triangulation")],
        "ci": ["matplotlib.tests.test_path", "matplotlib.tests.test_transforms"],
        "pytest": [],
        "failures": [
            (316, "env: mathtext images (test_mathtext_rendering, test_mathfont_rendering, "
                  "_lightweight) differ by RMS 0.06-0.31 against a tolerance of 0: FreeType 2.6.5 "
                  "(2.6.1, the baselines', is unreachable here) or float rounding, not separated"),
            (11, "env: the same kind for other images with text, RMS 0.07-0.21 (single_date, "
                 "pcolor(mesh)_datetime_axis, rc_spines, rc_grid, extent_units, subfigure, "
                 "basic_wrap, font_wrap, math_fontfamily, contour_datetime_axis)"),
            (2, "wasi: threads (test_ginput, test_waitforbuttonpress)"),
            (1, "wasi: no subprocesses (test_locale_comma)"),
            (1, "32-bit: test_psd_csd's stride trick needs an array over 2 GiB"),
            (1, "open: test_auto_date_locator_intmult_tz gets -07:00 for 2040-01-01 in "
                "Canada/Pacific (a zone rule past 2037, tzdata's slim files)"),
        ],
        "ci_failures": 0,
    },
]
