"""The kernelspec and notebooks: `python -m eryx.kernel install --user`
then `jupyter kernelspec list` (HOME in a temporary directory), the
kernelspec's argv and limits, the wheel's extras, THE command
`jupyter nbconvert --to notebook --execute
--ExecutePreprocessor.kernel_name=eryx demo.ipynb` on the committed demo
notebook, and nbclient with allow_errors on a notebook with an error cell."""

import argparse
import json
import os
import shutil
import subprocess
import sys
from importlib.metadata import requires

import nbformat
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from conftest import EXAMPLES, JUPYTER
from eryx.kernel._config import add_limit_options, limits_from


def test_install_user_then_kernelspec_list(tmp_path):
    # The user's directory, even inside a venv (jupyter_core prefers the
    # venv's own by default there).
    env = dict(os.environ, HOME=str(tmp_path), JUPYTER_PREFER_ENV_PATH="0")
    env.pop("JUPYTER_PATH", None)
    env.pop("JUPYTER_DATA_DIR", None)
    out = subprocess.run(
        [sys.executable, "-m", "eryx.kernel", "install", "--user", "--max-memory", "512", "--with", "rich"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout
    assert "Installed kernelspec eryx" in out
    listing = subprocess.run([JUPYTER, "kernelspec", "list"], env=env, capture_output=True, text=True, check=True)
    (line,) = [l for l in listing.stdout.splitlines() if l.split()[:1] == ["eryx"]]
    spec_dir = line.split()[1]
    assert spec_dir.startswith(str(tmp_path / ".local" / "share" / "jupyter" / "kernels"))
    spec = json.load(open(os.path.join(spec_dir, "kernel.json")))
    assert spec["argv"][:5] == [sys.executable, "-m", "eryx.kernel", "-f", "{connection_file}"]
    assert spec["argv"][5:] == ["--max-memory", "512", "--with", "rich"]
    assert spec["language"] == "python"


def test_limits_from_options_over_environment():
    parser = argparse.ArgumentParser()
    add_limit_options(parser)
    env = {"ERYX_KERNEL_TIMEOUT": "9", "ERYX_KERNEL_MAX_MEMORY": "128", "ERYX_KERNEL_WITH": "rich, regex"}
    limits = limits_from(parser.parse_args(["--timeout", "3"]), env)
    assert (limits.timeout, limits.max_memory_mib, limits.requirements) == (3.0, 128, ["rich", "regex"])
    kwargs = limits_from(parser.parse_args(["--timeout", "0", "--max-output", "0"]), {}).sandbox_kwargs()
    assert kwargs["timeout"] is None and kwargs["max_output"] is None
    assert kwargs["max_memory"] == 256 << 20
    with pytest.raises(ValueError, match="ERYX_KERNEL_TIMEOUT"):
        limits_from(parser.parse_args([]), {"ERYX_KERNEL_TIMEOUT": "soon"})


def test_bad_limit_on_the_command_line_is_refused():
    run = subprocess.run([sys.executable, "-m", "eryx.kernel", "install", "--timeout", "-1"],
                         capture_output=True, text=True)
    assert run.returncode == 2 and "negative" in run.stderr


def test_wheel_extras_pull_the_frameworks():
    reqs = [Requirement(r) for r in requires("eryx")]
    for extra, package in (("jupyter", "ipykernel"), ("jupyter", "jupyter-client"), ("smolagents", "smolagents"),
                           ("autogen", "autogen-core"), ("langchain", "langchain-core")):
        assert any(canonicalize_name(r.name) == package and r.marker.evaluate({"extra": extra}) for r in reqs), extra
    # Without an extra, the package needs none of them.
    assert not [r for r in reqs if r.marker is None or r.marker.evaluate({"extra": ""})]


def test_nbconvert_executes_the_demo_notebook(kernel_env, tmp_path):
    shutil.copy(EXAMPLES / "demo.ipynb", tmp_path / "demo.ipynb")
    subprocess.run(
        [JUPYTER, "nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.kernel_name=eryx", "demo.ipynb"],
        cwd=tmp_path, env=kernel_env, check=True, capture_output=True, timeout=120,
    )
    nb = nbformat.read(tmp_path / "demo.nbconvert.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [o.output_type for c in code for o in c.outputs] == [
        "stream", "display_data", "execute_result", "execute_result",
    ]
    assert code[0].outputs[0].text == "answer is 42\n"
    assert code[1].outputs[0].data["image/png"].startswith("iVBORw0KGgo")  # base64 of the PNG magic
    assert code[2].outputs[0].data["text/plain"] == "{'answer': 42, 'squares': [0, 1, 4, 9, 16]}"
    assert code[3].outputs[0].data["text/plain"] == "('cpython', (3, 14), 'wasi')"
    assert [c.execution_count for c in code] == [1, 2, 3, 4]
    assert nb.metadata.language_info.version.startswith("3.14")


def _notebook(*sources):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def test_nbclient_allow_errors_keeps_going(kernel_env):
    nb = _notebook("total = 10", "total / 0", "total += 5\ntotal")
    NotebookClient(nb, kernel_name="eryx", allow_errors=True, timeout=60).execute()
    (err,) = nb.cells[1].outputs
    assert (err.output_type, err.ename) == ("error", "ZeroDivisionError")
    assert nb.cells[2].outputs[0].data["text/plain"] == "15"


def test_nbclient_without_allow_errors_stops_at_the_error(kernel_env):
    nb = _notebook("raise ValueError('bad input')", "print('not reached')")
    with pytest.raises(CellExecutionError, match="bad input"):
        NotebookClient(nb, kernel_name="eryx", timeout=60).execute()
    assert nb.cells[1].outputs == []


def test_nothing_is_imported_unless_used():
    code = (
        "import sys, eryx, eryx.kernel, eryx.integrations\n"
        "heavy = ('ipykernel', 'jupyter_client', 'zmq', 'smolagents', 'autogen_core', 'langchain_core')\n"
        "print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "[]\n"
