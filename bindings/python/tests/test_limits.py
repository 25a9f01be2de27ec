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
    # 224 MiB fits beside the interpreter; 256 MiB cannot fit in a 256 MiB
    # cap: the memory limit (not a crash), and the sandbox goes on. So the
    # cap is more than 224 MiB and at most 256 MiB plus the interpreter.
    assert sb.execute("b = bytearray(224 << 20); print(len(b))").stdout == f"{224 << 20}\n"
    sb.execute("del b")
    with pytest.raises(eryx.MemoryLimitError) as e:
        sb.execute("b = bytearray(256 << 20)")
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
        # The cap refuses the growth: the load ends in the cap itself or in
        # the guest's own MemoryError (a failed restore).
        with pytest.raises((eryx.MemoryLimitError, eryx.StateError)) as e:
            sb.restore(hostile("l = []\nwhile True: l.append(bytearray(1 << 20))"))
        assert isinstance(e.value, eryx.MemoryLimitError) or "MemoryError" in e.value.message, e.value
        assert sb.execute("print(kept)").stdout == "yes\n"
        # The same container with a harmless payload is read to its end (the
        # pickle ran; it holds no variable table): the two above failed by
        # their limits alone.
        with pytest.raises(eryx.StateError) as e:
            sb.restore(hostile("x = 1"))
        assert "no variable table" in e.value.message, e.value
        assert sb.execute("print(kept)").stdout == "yes\n"


def test_checkpoint_budget_leaves_out_what_does_not_fit():
    with eryx.Sandbox(timeout=2.0, checkpoint_budget=1 << 20) as sb:
        r = sb.execute("small = 1\nbig = bytes(2 << 20)")
        assert "big (bytes: over the 1.0 MiB budget)" in r.stderr
        with pytest.raises(eryx.TimeoutError):
            sb.execute("while True: pass")
        assert sb.execute("print(small, 'big' in dir())").stdout == "1 False\n"
    # The package's default: a quarter of max_memory (256 MiB): 64 MiB.
    with eryx.Sandbox() as sb:
        r = sb.execute("big = bytes(65 << 20)")
        assert "over the 64.0 MiB budget" in r.stderr
    for bad in (0, -1):
        with pytest.raises(ValueError, match="checkpoint_budget"):
            eryx.Sandbox(checkpoint_budget=bad)
