"""The package's default limits (5 s, 256 MiB) are enforced without any
argument, and a hostile but well-formed snapshot (a pickle that loops or
allocates while it loads) is bounded by the same limits on restore."""

import time

import pytest

import eryx


def hostile(code):
    """A version-1 snapshot whose pickle calls exec(code) while loading."""
    escaped = code.replace("\n", "\\u000a").encode()
    return b"ERYXSNAP\x01cbuiltins\nexec\n(V" + escaped + b"\ntR."


def test_default_time_limit_is_five_seconds(sb):
    sb.execute("kept = 'yes'")
    start = time.monotonic()
    with pytest.raises(eryx.TimeoutError):
        sb.execute("while True: pass")
    took = time.monotonic() - start
    assert 4.5 < took < 9, took
    assert sb.execute("print(kept)").stdout == "yes\n"


def test_default_memory_limit_is_256_mib(sb):
    # Well under the cap works; past it is the memory limit, not a crash.
    assert sb.execute("b = bytearray(128 << 20); print(len(b))").stdout == "134217728\n"
    sb.execute("del b")
    with pytest.raises(eryx.MemoryLimitError) as e:
        sb.execute("b = bytearray(300 << 20)")
    assert e.value.kind == "memory_limit"
    assert sb.execute("print('alive')").stdout == "alive\n"


def test_hostile_snapshot_is_bounded_by_the_limits():
    with eryx.Sandbox(timeout=1.5) as sb:
        sb.execute("kept = 'yes'")
        start = time.monotonic()
        with pytest.raises(eryx.TimeoutError):
            sb.restore(hostile("while True: pass"))
        assert time.monotonic() - start < 6
        assert sb.execute("print(kept)").stdout == "yes\n"
        with pytest.raises(eryx.MemoryLimitError):
            sb.restore(hostile("l = []\nwhile True: l.append(bytearray(1 << 20))"))
        assert sb.execute("print(kept)").stdout == "yes\n"
