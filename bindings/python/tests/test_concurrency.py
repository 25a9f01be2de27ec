"""Threads and asyncio: the GIL is released while the guest runs, many
sandboxes run at once from threads or from one event loop, one sandbox
serves concurrent callers one at a time, cancelling a task stops its call."""

import asyncio
import threading
import time

import pytest

import eryx

BUSY = "import time\nt = time.time()\nwhile time.time() - t < %s:\n    pass\n"


def test_gil_is_released_while_the_guest_runs(sb):
    counter = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            counter[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    try:
        before = counter[0]
        sb.execute(BUSY % 1.0)
        progressed = counter[0] - before
    finally:
        stop.set()
        t.join()
    # A thread that could not take the GIL would not have counted at all.
    assert progressed > 10_000, progressed


def test_eight_threads_times_eight_sandboxes():
    errors = []
    results = {}

    def worker(w):
        try:
            boxes = [eryx.Sandbox() for _ in range(8)]
            for i, b in enumerate(boxes):
                b.execute("v = %d" % (w * 8 + i))
            for _ in range(3):
                for i, b in enumerate(boxes):
                    b.execute("v += 1000")
            results[w] = [int(b.execute("print(v)").stdout) for b in boxes]
            for b in boxes:
                b.close()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for w in range(8):
        assert results[w] == [w * 8 + i + 3000 for i in range(8)]


def test_one_sandbox_shared_by_threads_serves_one_call_at_a_time(sb):
    sb.execute("log = []\nactive = 0")
    code = (
        "active += 1\nassert active == 1, active\nimport time\ntime.sleep(0.01)\n"
        "log.append(1)\nactive -= 1"
    )
    errors = []

    def worker():
        try:
            for _ in range(5):
                sb.execute(code)
        except Exception as e:  # pragma: no cover
            errors.append(repr(e))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sb.execute("print(len(log))").stdout == "40\n"


def test_asyncio_gather_of_twenty_executes():
    async def main():
        boxes = [eryx.Sandbox() for _ in range(20)]
        loop = asyncio.get_running_loop()
        t = loop.time()
        rs = await asyncio.gather(
            *[b.execute_async("import time\ntime.sleep(0.5)\nprint(%d)" % i) for i, b in enumerate(boxes)]
        )
        elapsed = loop.time() - t
        assert [r.stdout for r in rs] == ["%d\n" % i for i in range(20)]
        # 20 x 0.5 s of guest sleep overlapped (10 s one after the other).
        assert elapsed < 5, elapsed
        for b in boxes:
            b.close()

    asyncio.run(main())


def test_loop_keeps_running_during_execute_async(sb):
    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.ensure_future(ticker())
        await sb.execute_async(BUSY % 0.5)
        task.cancel()
        return ticks

    assert asyncio.run(main()) > 10


def test_async_api_all_methods(sb):
    async def main():
        await sb.execute_async("q = 9")
        state = await sb.snapshot_async()
        await sb.clear_async()
        with pytest.raises(eryx.PythonError):
            await sb.execute_async("q")
        await sb.restore_async(state)
        r = await sb.execute_async("print(q)")
        assert r.stdout == "9\n"
        with pytest.raises(eryx.StateError):
            await sb.restore_async(b"junk")
        with pytest.raises(TypeError):
            await sb.execute_async(123)
        async with eryx.Sandbox() as other:
            await other.execute_async("pass")
        assert other.closed

    asyncio.run(main())


def test_concurrent_execute_async_on_one_sandbox_waits(sb):
    async def main():
        sb.execute("n = 0")
        await asyncio.gather(*[sb.execute_async("n += 1") for _ in range(10)])
        return (await sb.execute_async("print(n)")).stdout

    assert asyncio.run(main()) == "10\n"


def test_cancelling_a_task_interrupts_its_call(sb):
    sb.execute("kept = 'state'")

    async def main():
        t = time.monotonic()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(sb.execute_async("while True:\n    pass"), 0.3)
        return time.monotonic() - t

    assert asyncio.run(main()) < 3
    # the interrupted call is over; the session kept its state
    assert sb.execute("print(kept)").stdout == "state\n"
