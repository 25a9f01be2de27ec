"""eryx.integrations.autogen against the pinned autogen-core: blocks in
one session, an error, a timeout (exit 124), cancellation through the
CancellationToken (interrupts, raises CancelledError, state kept), restart
(state gone), a shell block refused, the async context manager."""

import asyncio
import time

import pytest
from autogen_core import CancellationToken
from autogen_core.code_executor import CodeBlock, CodeExecutor

from eryx.integrations.autogen import EryxCodeExecutor


def run(coro):
    return asyncio.run(coro)


def blocks(*pairs):
    return [CodeBlock(code=c, language=l) for c, l in pairs]


def test_blocks_share_a_session():
    async def go():
        async with EryxCodeExecutor(timeout=3) as ex:
            assert isinstance(ex, CodeExecutor)
            r = await ex.execute_code_blocks(blocks(("x = 20", "python"), ("print(x + 22)", "py")), CancellationToken())
            again = await ex.execute_code_blocks(blocks(("print(x)", "python")), CancellationToken())
            return r, again

    r, again = run(go())
    assert (r.exit_code, r.output) == (0, "42\n")
    assert again.output == "20\n"


def test_error_stops_at_the_failing_block():
    async def go():
        async with EryxCodeExecutor(timeout=3) as ex:
            return await ex.execute_code_blocks(
                blocks(("print('one')", "python"), ("1 / 0", "python"), ("print('three')", "python")),
                CancellationToken(),
            )

    r = run(go())
    assert r.exit_code == 1
    assert r.output.startswith("one\n")
    assert "ZeroDivisionError: division by zero" in r.output
    assert "three" not in r.output


def test_timeout_is_exit_124_and_keeps_state():
    async def go():
        async with EryxCodeExecutor(timeout=1) as ex:
            await ex.execute_code_blocks(blocks(("kept = 1", "python")), CancellationToken())
            r = await ex.execute_code_blocks(blocks(("while True: pass", "python")), CancellationToken())
            after = await ex.execute_code_blocks(blocks(("print(kept)", "python")), CancellationToken())
            return r, after

    r, after = run(go())
    assert r.exit_code == 124 and "time limit of 1 s" in r.output
    assert after.output == "1\n"


def test_cancellation_interrupts_the_block():
    async def go():
        async with EryxCodeExecutor(timeout=30) as ex:
            await ex.execute_code_blocks(blocks(("kept = 'yes'", "python")), CancellationToken())
            token = CancellationToken()
            asyncio.get_running_loop().call_later(0.3, token.cancel)
            start = time.monotonic()
            with pytest.raises(asyncio.CancelledError):
                await ex.execute_code_blocks(blocks(("while True: pass", "python")), token)
            took = time.monotonic() - start
            after = await ex.execute_code_blocks(blocks(("print(kept)", "python")), CancellationToken())
            return took, after

    took, after = run(go())
    assert took < 1.5, took
    assert after.output == "yes\n"


def test_restart_gives_a_fresh_session():
    async def go():
        async with EryxCodeExecutor(timeout=3) as ex:
            await ex.execute_code_blocks(blocks(("gone = 1", "python")), CancellationToken())
            await ex.restart()
            return await ex.execute_code_blocks(blocks(("print(gone)", "python")), CancellationToken())

    r = run(go())
    assert r.exit_code == 1 and "NameError" in r.output


def test_shell_block_is_refused():
    async def go():
        async with EryxCodeExecutor(timeout=3) as ex:
            return await ex.execute_code_blocks(
                blocks(("print('ran')", "python"), ("rm -rf /", "sh")), CancellationToken()
            )

    r = run(go())
    assert r.exit_code == 1
    assert r.output.startswith("ran\n")
    assert "eryx runs Python only: the sh block was not run" in r.output
