"""The basic API: execute and its result, the session, snapshot/restore/
clear, the context manager, mounts, packages, preimport, on_output, and the
package's own surface (stubs, py.typed, the installed wheel)."""

import ast
import json
import os
import pathlib
import subprocess
import sys

import pytest

import eryx


def test_installed_from_the_wheel_not_the_source_tree():
    path = pathlib.Path(eryx.__file__).resolve()
    assert "site-packages" in path.parts, path
    assert (path.parent / "py.typed").exists()
    assert (path.parent / "_eryx.pyi").exists()


@pytest.mark.parametrize("stub_name, module", [("_eryx.pyi", "eryx._eryx"), ("__init__.pyi", "eryx")])
def test_stub_names_match_the_module(stub_name, module):
    stub = pathlib.Path(eryx.__file__).parent / stub_name
    mod = sys.modules[module]
    tree = ast.parse(stub.read_text())
    names = {n.name for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))}
    names |= {n.target.id for n in tree.body if isinstance(n, ast.AnnAssign)}
    names.discard("__all__")
    assert names
    for name in names:
        assert hasattr(mod, name), name
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        real = getattr(mod, cls.name)
        for member in cls.body:
            if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)):
                assert hasattr(real, member.name), (cls.name, member.name)
    for name in eryx.__all__:
        assert hasattr(eryx, name), name


def test_import_is_light():
    code = "import sys, eryx; print(sorted(m for m in ('asyncio', 'typing', 'inspect') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out == "[]\n"


def test_execute_returns_an_execution(sb):
    r = sb.execute("print(1+1)")
    assert isinstance(r, eryx.Execution)
    assert r.stdout == "2\n"
    assert r.stderr == ""
    assert r.ok and r.exit_code == 0 and r.error is None
    assert 0 < r.duration < 5
    assert r.peak_memory > 1 << 20
    assert r.callback_invocations == 0
    assert r.truncated_bytes == 0 and not r.truncated
    d = r.to_dict()
    assert d["stdout"] == "2\n" and d["exit_code"] == 0 and d["error"] is None
    assert json.loads(r.to_json()) == d
    assert "stdout='2\\n'" in repr(r) or 'stdout="2\\n"' in repr(r)


def test_stderr_and_fd_writes(sb):
    r = sb.execute("import sys, os\nsys.stderr.write('warn\\n')\nos.write(1, b'raw\\n')")
    assert r.stderr == "warn\n"
    assert r.stdout == "raw\n"


def test_session_persists_and_top_level_await(sb):
    sb.execute("x = 41\ndef inc(v):\n    return v + 1")
    assert sb.execute("print(inc(x))").stdout == "42\n"
    assert sb.execute("import asyncio\nawait asyncio.sleep(0)\nprint('awaited')").stdout == "awaited\n"


def test_sys_exit_zero_is_ok_nonzero_raises(sb):
    assert sb.execute("import sys\nprint('bye')\nsys.exit(0)").ok
    with pytest.raises(eryx.PythonError) as e:
        sb.execute("import sys\nsys.exit(3)")
    assert e.value.type_name == "SystemExit" and e.value.kind == "exit"
    assert e.value.execution.exit_code == 3
    assert sb.execute("print('still here')").stdout == "still here\n"


def test_snapshot_round_trip_across_two_sandboxes():
    with eryx.Sandbox() as a, eryx.Sandbox() as b:
        a.execute(
            "import json\nclass P:\n    def __init__(s, v): s.v = v\n"
            "def double(n): return 2 * n\np = P(21)\ndata = {'k': [1, 2, 3]}"
        )
        state = a.snapshot()
        assert isinstance(state, bytes) and len(state) > 0
        b.restore(state)
        assert b.execute("print(double(p.v), json.dumps(data))").stdout == '42 {"k": [1, 2, 3]}\n'
        b.restore(bytearray(state))
        b.restore(memoryview(state))
        # the two sessions are independent afterwards
        b.execute("p.v = 0")
        assert a.execute("print(p.v)").stdout == "21\n"


def test_clear_empties_the_namespace(sb):
    sb.execute("y = 1")
    sb.clear()
    with pytest.raises(eryx.PythonError) as e:
        sb.execute("y")
    assert e.value.type_name == "NameError"


def test_context_manager_closes():
    with eryx.Sandbox() as sb:
        assert not sb.closed
        sb.execute("pass")
    assert sb.closed
    with pytest.raises(eryx.SandboxError, match="closed"):
        sb.execute("pass")
    sb.close()  # closing twice is fine


def test_on_output_streams_live():
    seen = []
    with eryx.Sandbox(on_output=lambda stream, text: seen.append((stream, text))) as sb:
        r = sb.execute("import sys\nprint('a')\nprint('b', file=sys.stderr)")
    assert ("stdout", "a\n") in seen and ("stderr", "b\n") in seen
    assert r.stdout == "a\n"


def test_on_output_exception_is_not_fatal():
    hooked = []
    old = sys.unraisablehook
    sys.unraisablehook = lambda u: hooked.append(u.exc_type)
    try:

        def bad(stream, text):
            raise RuntimeError("handler broke")

        with eryx.Sandbox(on_output=bad) as sb:
            assert sb.execute("print('x')").stdout == "x\n"
    finally:
        sys.unraisablehook = old
    assert RuntimeError in hooked


def test_mounts(tmp_path):
    ro = tmp_path / "ro"
    rw = tmp_path / "rw"
    ro.mkdir()
    rw.mkdir()
    (ro / "in.txt").write_text("hello")
    with eryx.Sandbox(mounts=[(ro, "/data"), (str(rw), "/out", True)]) as sb:
        assert sb.execute("print(open('/data/in.txt').read())").stdout == "hello\n"
        sb.execute("open('/out/o.txt', 'w').write('written')")
        with pytest.raises(eryx.PythonError) as e:
            sb.execute("open('/data/new.txt', 'w')")
        assert e.value.type_name in ("PermissionError", "OSError")
    assert (rw / "o.txt").read_text() == "written"


def test_packages_and_preimport(tmp_path):
    pkg = tmp_path / "greet"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("def hello(n):\n    return 'hello ' + n\n")
    with eryx.Sandbox(packages=[pkg], preimport=["json"]) as sb:
        assert sb.execute("import greet\nprint(greet.hello('py'))").stdout == "hello py\n"
        assert sb.execute("import sys\nprint('json' in sys.modules)").stdout == "True\n"


def test_prepare_and_defaults():
    eryx.prepare(progress=False)
    assert eryx.DEFAULT_TIMEOUT == 5.0
    assert eryx.DEFAULT_MAX_MEMORY == 256 * 2**20


def test_many_sandboxes_are_isolated():
    boxes = [eryx.Sandbox() for _ in range(5)]
    for i, b in enumerate(boxes):
        b.execute("v = %d" % i)
    assert [b.execute("print(v)").stdout for b in boxes] == ["%d\n" % i for i in range(5)]
    for b in boxes:
        b.close()


def test_guest_eryx_module_is_separate(sb):
    # `import eryx` inside the sandbox is the guest's own C module.
    r = sb.execute("import eryx\nprint(hasattr(eryx, 'CallbackError'), hasattr(eryx, 'Sandbox'))")
    assert r.stdout == "True False\n"


def test_no_host_environment(sb):
    os.environ["ERYX_SECRET_TEST"] = "x"
    assert sb.execute("import os\nprint(os.environ.get('ERYX_SECRET_TEST'))").stdout == "None\n"


def test_readme_example_runs():
    # The example of docs/python.md (also run by scripts/test-docs.sh).
    readme = pathlib.Path(__file__).resolve().parents[3] / "docs" / "python.md"
    text = readme.read_text()
    start = text.index("```python tested host\nimport asyncio, eryx")
    example = text[start + len("```python tested host\n") : text.index("```\n", start + 10)]
    out = subprocess.run([sys.executable, "-c", example], check=True, capture_output=True, text=True).stdout
    assert out == "200\nZeroDivisionError division by zero\n{'status': 200, 'url': 'x'}\n"
