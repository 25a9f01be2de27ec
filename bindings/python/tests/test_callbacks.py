"""Host callbacks: plain and async Python functions, by name and by
decorator, JSON arguments and results, failures becoming guest exceptions."""

import asyncio
import threading

import pytest

import eryx


def add(a, b):
    return a + b


async def slow_echo(value, delay=0.0):
    await asyncio.sleep(delay)
    return {"echo": value}


def test_sync_and_async_callbacks_by_name():
    with eryx.Sandbox(callbacks={"add": add, "echo": slow_echo}) as sb:
        r = sb.execute("print(await add(a=2, b=3))\nprint(await echo(value=[1, 'x', None]))")
        assert r.stdout == "5\n{'echo': [1, 'x', None]}\n"
        assert r.callback_invocations == 2


def test_decorator_names_and_namespaces():
    @eryx.callback
    def greet(name):
        """Say hello."""
        return "hi " + name

    @eryx.callback("math.mul")
    def mul(a, b):
        return a * b

    assert greet.__eryx_callback__ == "greet"
    with eryx.Sandbox(callbacks=[greet, mul]) as sb:
        assert sb.execute("print(await greet(name='py'), await math.mul(a=6, b=7))").stdout == "hi py 42\n"


def test_raising_callback_becomes_guest_exception():
    def explode(**kwargs):
        raise KeyError("no such thing")

    with eryx.Sandbox(callbacks={"explode": explode}) as sb:
        r = sb.execute(
            "import eryx\ntry:\n    await explode(x=1)\nexcept eryx.CallbackError as e:\n    print('caught', e)"
        )
        assert r.stdout == "caught KeyError: 'no such thing'\n"
        with pytest.raises(eryx.PythonError) as e:
            sb.execute("await explode()")
        assert e.value.type_name == "eryx.CallbackError"
        assert "KeyError" in e.value.message
        assert sb.execute("print('fine')").stdout == "fine\n"


def test_async_raising_callback():
    async def fails():
        await asyncio.sleep(0)
        raise RuntimeError("async failure")

    with eryx.Sandbox(callbacks={"fails": fails}) as sb:
        with pytest.raises(eryx.PythonError, match="async failure"):
            sb.execute("await fails()")

        async def main():
            with pytest.raises(eryx.PythonError, match="async failure"):
                await sb.execute_async("await fails()")

        asyncio.run(main())


def test_unserialisable_result_and_bad_arguments():
    def gives_object():
        return object()

    with eryx.Sandbox(callbacks={"gives_object": gives_object, "add": add}) as sb:
        with pytest.raises(eryx.PythonError, match="cannot be sent to the sandbox as JSON"):
            sb.execute("await gives_object()")
        with pytest.raises(eryx.PythonError, match="unexpected keyword argument"):
            sb.execute("await add(a=1, c=2)")
        assert sb.execute("print(await add(a=1, b=2))").stdout == "3\n"


def test_async_callback_runs_on_the_callers_loop():
    seen = {}

    async def where():
        seen["thread"] = threading.get_ident()
        seen["loop"] = asyncio.get_running_loop()
        return "ok"

    async def main():
        with eryx.Sandbox(callbacks={"where": where}) as sb:
            r = await sb.execute_async("print(await where())")
        assert r.stdout == "ok\n"
        assert seen["thread"] == threading.get_ident()
        assert seen["loop"] is asyncio.get_running_loop()

    asyncio.run(main())


def test_guest_gathers_callbacks_concurrently():
    async def main():
        with eryx.Sandbox(callbacks={"echo": slow_echo}) as sb:
            loop = asyncio.get_running_loop()
            t = loop.time()
            r = await sb.execute_async(
                "import asyncio\n"
                "rs = await asyncio.gather(*[echo(value=i, delay=0.3) for i in range(5)])\n"
                "print([r['echo'] for r in rs])"
            )
            elapsed = loop.time() - t
        assert r.stdout == "[0, 1, 2, 3, 4]\n"
        assert elapsed < 1.2, elapsed  # 5 x 0.3 s overlapped, not 1.5 s in a row

    asyncio.run(main())


def test_callback_cannot_reenter_its_own_sandbox():
    box = {}

    def reenter():
        try:
            box["sb"].execute("pass")
        except eryx.SandboxError as e:
            return "refused: " + str(e)
        return "entered"

    with eryx.Sandbox(callbacks={"reenter": reenter}) as sb:
        box["sb"] = sb
        out = sb.execute("print(await reenter())").stdout
    assert out.startswith("refused: a sandbox cannot be called from one of its own callbacks")


def test_callback_may_use_another_sandbox():
    with eryx.Sandbox() as inner:

        def ask_inner(code):
            return inner.execute(code).stdout

        with eryx.Sandbox(callbacks={"ask_inner": ask_inner}) as outer:
            assert outer.execute("print(await ask_inner(code='print(6*7)'), end='')").stdout == "42\n"


def test_callback_limits():
    async def sleepy():
        await asyncio.sleep(5)

    with eryx.Sandbox(callbacks={"add": add, "sleepy": sleepy}, max_callback_invocations=2, callback_timeout=0.2) as sb:
        with pytest.raises(eryx.PythonError, match="callback limit exceeded"):
            sb.execute("for i in range(3):\n    await add(a=i, b=i)")
        with pytest.raises(eryx.PythonError, match="timed out"):
            sb.execute("await sleepy()")
