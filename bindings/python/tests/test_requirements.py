"""Packages by name: `eryx.Sandbox(requirements=[...])` resolves them with
pip (real PyPI; locked and cached like `eryx --with`), pre-imports them
into the image, and refuses URLs, paths and a lone string."""

import os
import subprocess
import sys

import pytest

import eryx


def test_requirements_are_importable_and_preimported():
    sb = eryx.Sandbox(requirements=["tabulate>=0.9"])
    r = sb.execute(
        "import sys\nprint('tabulate' in sys.modules)\n"
        "import tabulate\nprint(tabulate.tabulate([[1, 2]], tablefmt='plain'))"
    )
    assert r.stdout == "True\n1  2\n"
    # A sandbox without them cannot import them.
    with pytest.raises(eryx.PythonError) as e:
        eryx.Sandbox().execute("import tabulate")
    assert "ModuleNotFoundError" in str(e.value)


def test_cached_requirements_need_neither_pip_nor_the_index():
    eryx.Sandbox(requirements=["tabulate>=0.9"])  # locked and cached
    env = dict(os.environ, ERYX_PIP="/nonexistent/pip", PIP_INDEX_URL="http://127.0.0.1:9/")
    code = (
        "import eryx\n"
        "r = eryx.Sandbox(requirements=['tabulate>=0.9']).execute("
        "'import tabulate; print(tabulate.__name__)')\n"
        "print(r.stdout, end='')\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == "tabulate\n"


def test_urls_paths_and_lone_strings_are_refused():
    with pytest.raises(TypeError, match="requirements"):
        eryx.Sandbox(requirements="tabulate")
    with pytest.raises(TypeError, match=r"requirements\[0\] must be a requirement"):
        eryx.Sandbox(requirements=[3])
    for bad in ["pkg @ https://example.org/p.whl", "./local", "--index-url=http://x"]:
        with pytest.raises(eryx.SetupError, match="requirement"):
            eryx.Sandbox(requirements=[bad])
