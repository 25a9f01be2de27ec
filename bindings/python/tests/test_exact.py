"""Exact sandboxes: ``Sandbox(exact=True)``, ``fork()`` (blocking and
asyncio), ``snapshot(exact=True)`` and ``restore()`` of either format:
an open sqlite3 connection in the middle of a transaction, a half-consumed
generator, an open file at its offset and a closure all carry over; the
branches then diverge; bad uses are clear errors."""

import asyncio
import subprocess
import sys
import textwrap

import pytest

import eryx

SETUP = """
import sqlite3
db = sqlite3.connect('/tmp/t.db')
db.execute('create table t (x)')
db.execute('insert into t values (1)')
db.commit()
db.execute('insert into t values (2)')
db.execute('insert into t values (3)')
def squares():
    n = 0
    while True:
        n += 1
        yield n * n
g = squares()
next(g); next(g)
f = open('/tmp/lines.txt', 'w+')
f.write('a\\nb\\nc\\n'); f.seek(2)
def counter(start):
    def step():
        nonlocal start
        start += 1
        return start
    return step
step = counter(10)
step()
"""

PROBE = (
    "print(next(g), db.in_transaction, db.execute('select sum(x) from t').fetchone()[0],"
    " repr(f.readline()), step())"
)


def test_fork_continues_alike_then_diverges():
    with eryx.Sandbox(exact=True) as a:
        assert a.exact
        a.execute(SETUP)
        b = a.fork()
        with b:
            assert isinstance(b, eryx.Sandbox) and b.exact
            pa, pb = a.execute(PROBE).stdout, b.execute(PROBE).stdout
            assert pa == "9 True 6 'b\\n' 12\n"
            assert pa == pb
            a.execute("db.commit()")
            b.execute("db.rollback(); next(g)")
            reopen = "db.close(); db = sqlite3.connect('/tmp/t.db'); print(next(g), db.execute('select sum(x) from t').fetchone()[0])"
            assert a.execute(reopen).stdout == "16 6\n"
            assert b.execute(reopen).stdout == "25 1\n"
            # Files are each branch's own.
            b.files.write("/tmp/only-b", b"b")
            assert a.execute("import os; print(os.path.exists('/tmp/only-b'))").stdout == "False\n"


def test_exact_snapshot_restores_in_another_process():
    with eryx.Sandbox(exact=True) as a:
        a.execute(SETUP)
        exact = a.snapshot(exact=True)
        pickled = a.snapshot()
    assert isinstance(exact, bytes) and exact != pickled
    # A fresh interpreter (another process) with a new sandbox.
    code = textwrap.dedent(
        """
        import sys, eryx
        data = sys.stdin.buffer.read()
        with eryx.Sandbox(exact=True) as sb:
            sb.restore(data)
            print(sb.execute(%r).stdout, end="")
        """
        % PROBE
    )
    out = subprocess.run([sys.executable, "-c", code], input=exact, capture_output=True, check=True)
    assert out.stdout.decode() == "9 True 6 'b\\n' 12\n", out.stderr.decode()
    # The pickled one still restores anywhere, without what does not pickle.
    with eryx.Sandbox() as c:
        c.restore(pickled)
        assert c.execute("print(step(), 'g' in globals())").stdout == "12 False\n"


def test_exact_needs_an_exact_sandbox_and_bad_bytes_are_refused():
    with eryx.Sandbox() as plain:
        plain.execute("x = 1")
        with pytest.raises(eryx.SetupError, match="exact"):
            plain.fork()
        with pytest.raises(eryx.SetupError, match="exact"):
            plain.snapshot(exact=True)
        with eryx.Sandbox(exact=True) as ex:
            ex.execute("y = 2")
            state = ex.snapshot(exact=True)
            # Exact bytes into a sandbox that is not exact: a clear error.
            with pytest.raises(eryx.SandboxError, match="exact"):
                plain.restore(state)
            assert plain.execute("print(x)").stdout == "1\n"
            # Cut or damaged exact bytes: StateError, the session unchanged.
            for bad in (state[: len(state) // 2], state[:16], state[:-1] + bytes([state[-1] ^ 1])):
                with pytest.raises(eryx.StateError):
                    ex.restore(bad)
            assert ex.execute("print(y)").stdout == "2\n"
    with pytest.raises(eryx.SetupError, match="fuel"):
        eryx.Sandbox(exact=True, fuel=10**9)


def test_fork_of_a_sandbox_with_callbacks_has_its_own_callbacks():
    calls = []

    def add(a, b):
        calls.append((a, b))
        return a + b

    async def mul(a, b):
        return a * b

    with eryx.Sandbox(exact=True, callbacks=[add, mul], timeout=3.0) as sb:
        sb.execute("g = (i for i in range(5)); next(g)")
        with sb.fork() as child:
            assert child.exact and child._has_callbacks
            assert child.execute("print(next(g), await add(a=1, b=2), await mul(a=2, b=3))").stdout == "1 3 6\n"
            # The source goes on from where it was.
            assert sb.execute("print(next(g))").stdout == "1\n"
        assert calls == [(1, 2)]
        with pytest.raises(eryx.SandboxError, match="callbacks"):
            sb._fork()

        async def branch():
            c = await sb.fork_async()
            async with c:
                return (await c.execute_async("print(next(g), await mul(a=4, b=5))")).stdout

        assert asyncio.run(branch()) == "2 20\n"


def test_fork_and_exact_snapshot_for_asyncio():
    async def main():
        async with eryx.Sandbox(exact=True) as a:
            await a.execute_async("g = (i * 2 for i in range(10)); next(g)")
            b = await a.fork_async()
            async with b:
                state = await b.snapshot_async(exact=True)
                r = await asyncio.gather(a.execute_async("print(next(g))"), b.execute_async("print(next(g))"))
                assert [e.stdout for e in r] == ["2\n", "2\n"]
                await b.restore_async(state)
                assert (await b.execute_async("print(next(g))")).stdout == "2\n"

    asyncio.run(main())
