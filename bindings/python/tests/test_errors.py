"""Exceptions: every class, its fields, the sandbox staying usable after
each, the limits (time, memory, output, fuel), and bad input."""

import builtins
import threading
import time

import pytest

import eryx


def test_exception_hierarchy():
    for cls in (
        eryx.PythonError,
        eryx.TimeoutError,
        eryx.MemoryLimitError,
        eryx.StateError,
        eryx.OutputLimitError,
        eryx.InterruptError,
        eryx.SetupError,
    ):
        assert issubclass(cls, eryx.SandboxError)
    assert issubclass(eryx.TimeoutError, builtins.TimeoutError)
    assert issubclass(eryx.MemoryLimitError, builtins.MemoryError)
    assert eryx.TimeoutError is not builtins.TimeoutError


def test_python_error_fields_and_session_survives(sb):
    sb.execute("kept = 'yes'")
    with pytest.raises(eryx.PythonError) as e:
        sb.execute("print('before')\ndef f():\n    raise ValueError('bad value')\nf()")
    err = e.value
    assert err.type_name == "ValueError"
    assert err.message == "bad value"
    assert str(err) == "ValueError: bad value"
    assert "Traceback (most recent call last)" in err.traceback
    assert "in f" in err.traceback and "ValueError: bad value" in err.traceback
    assert err.kind == "python"
    assert err.execution.stdout == "before\n"
    assert err.execution.exit_code == 1
    assert err.execution.error["type"] == "ValueError"
    assert sb.execute("print(kept)").stdout == "yes\n"


def test_syntax_error(sb):
    with pytest.raises(eryx.PythonError) as e:
        sb.execute("def broken(:\n  pass")
    assert e.value.type_name == "SyntaxError"


def test_timeout_then_usable():
    with eryx.Sandbox(timeout=0.5) as sb:
        sb.execute("n = 7")
        t = time.monotonic()
        with pytest.raises(eryx.TimeoutError) as e:
            sb.execute("while True:\n    pass")
        assert time.monotonic() - t < 5
        assert isinstance(e.value, builtins.TimeoutError)
        assert e.value.kind == "timeout"
        with pytest.raises(TimeoutError):  # the builtin catches it too
            sb.execute("import time\ntime.sleep(30)")
        assert sb.execute("print(n)").stdout == "7\n"


def test_memory_limit_then_usable():
    with eryx.Sandbox(max_memory=64 * 2**20) as sb:
        sb.execute("small = [1, 2, 3]")
        with pytest.raises(eryx.MemoryLimitError) as e:
            sb.execute("big = bytearray(200 * 2**20)")
        assert e.value.kind == "memory_limit"
        assert isinstance(e.value, MemoryError)
        assert sb.execute("print(small)").stdout == "[1, 2, 3]\n"


def test_output_limit_and_capture_limit():
    with eryx.Sandbox(max_output=1000) as sb:
        with pytest.raises(eryx.OutputLimitError):
            sb.execute("print('x' * 5000)")
        assert sb.execute("print('ok')").stdout == "ok\n"
    with eryx.Sandbox(capture_limit=10) as sb:
        r = sb.execute("print('y' * 100)")
        assert r.truncated and r.truncated_bytes > 0 and len(r.stdout) <= 10


def test_fuel_budget():
    with eryx.Sandbox(fuel=5_000_000) as sb:
        with pytest.raises(eryx.TimeoutError) as e:
            sb.execute("while True:\n    pass")
        assert e.value.kind == "fuel_exhausted"
        assert sb.execute("print(2)").stdout == "2\n"


def test_state_error_on_garbage_then_usable(sb):
    sb.execute("z = 5")
    with pytest.raises(eryx.StateError):
        sb.restore(b"this is not a snapshot")
    with pytest.raises(eryx.StateError):
        sb.restore(bytes(range(256)) * 10)
    assert sb.execute("print(z)").stdout == "5\n"


def test_interrupt_from_another_thread(sb):
    sb.execute("alive = 1")
    timer = threading.Timer(0.3, sb.interrupt)
    timer.start()
    try:
        with pytest.raises(eryx.InterruptError):
            sb.execute("while True:\n    pass")
    finally:
        timer.cancel()
    assert sb.execute("print(alive)").stdout == "1\n"


@pytest.mark.parametrize("code", [42, b"print(1)", None, ["print(1)"]])
def test_code_must_be_str(sb, code):
    with pytest.raises(TypeError, match="code must be a str"):
        sb.execute(code)


@pytest.mark.parametrize("data", ["text", 12, None, [1, 2]])
def test_state_must_be_bytes(sb, data):
    with pytest.raises(TypeError, match="state must be bytes"):
        sb.restore(data)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"timeout": -1}, ValueError, "timeout must be a positive"),
        ({"timeout": 0}, ValueError, "timeout must be a positive"),
        ({"timeout": float("nan")}, ValueError, "timeout"),
        ({"timeout": "5"}, TypeError, "timeout"),
        ({"max_memory": -5}, ValueError, "max_memory must be a positive"),
        ({"max_memory": 1.5}, TypeError, "max_memory"),
        ({"fuel": 0}, ValueError, "fuel"),
        ({"max_output": -1}, ValueError, "max_output"),
        ({"callback_timeout": -2.0}, ValueError, "callback_timeout"),
        ({"mounts": "/tmp:/data"}, TypeError, "single string"),
        ({"mounts": [("/tmp",)]}, TypeError, r"mounts\[0\]"),
        ({"mounts": [("/tmp", "relative")]}, ValueError, "absolute"),
        ({"packages": "pkg"}, TypeError, "single string"),
        ({"packages": [42]}, TypeError, r"packages\[0\]"),
        ({"preimport": [1]}, TypeError, r"preimport\[0\]"),
        ({"preimport": ["not a module"]}, eryx.SetupError, "not a module name"),
        ({"callbacks": {"f": 42}}, TypeError, "not callable"),
        ({"callbacks": {"bad-name": print}}, ValueError, "identifier"),
        ({"callbacks": {1: print}}, TypeError, "names must be str"),
        ({"callbacks": 5}, TypeError, "callbacks must be a list"),
        ({"on_output": "stdout"}, TypeError, "on_output"),
        ({"unknown_option": 1}, TypeError, "unknown_option"),
    ],
)
def test_bad_constructor_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        eryx.Sandbox(**kwargs)


def test_bad_mount_and_package_paths(tmp_path):
    with pytest.raises(eryx.SetupError, match="not a directory"):
        eryx.Sandbox(mounts=[(tmp_path / "missing", "/data")])
    native = tmp_path / "native.so"
    native.write_bytes(b"\x7fELF" + b"\0" * 60)
    with pytest.raises(eryx.SetupError):
        eryx.Sandbox(packages=[native])


def test_no_limits_allowed():
    with eryx.Sandbox(timeout=None, max_memory=None) as sb:
        assert sb.execute("print(3)").stdout == "3\n"


def test_hostile_code_does_not_hurt_the_host(sb):
    with pytest.raises(eryx.PythonError) as e:
        sb.execute("def r(n):\n    return r(n + 1)\nr(0)")
    assert e.value.type_name == "RecursionError"
    with pytest.raises(eryx.PythonError) as e:
        sb.execute("import os\nos._exit(9)")
    assert (e.value.type_name, e.value.message, e.value.kind) == ("SystemExit", "9", "exit")
    assert e.value.execution.exit_code == 9
    assert sb.execute("print('alive')").stdout == "alive\n"
