"""The micro-batcher alone: batch sizes, the window, errors, cancelled requests."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from netcfg.serving.batching import MicroBatcher


def _batcher(executor, sizes, **options):
    def run(jobs):
        sizes.append(len(jobs))
        if "boom" in jobs:
            raise ValueError("boom")
        return [job * 10 for job in jobs]

    return MicroBatcher(run, executor, **options)


def test_jobs_queued_together_are_computed_together():
    sizes = []

    async def go():
        with ThreadPoolExecutor(1) as executor:
            batcher = _batcher(executor, sizes, max_batch=4, window=0.05)
            batcher.start()
            answers = await asyncio.gather(*(batcher.submit(i) for i in range(10)))
            await batcher.stop()
            return answers

    assert asyncio.run(go()) == [i * 10 for i in range(10)]
    assert sizes == [4, 4, 2]


def test_without_batching_each_job_is_alone():
    sizes = []

    async def go():
        with ThreadPoolExecutor(1) as executor:
            batcher = _batcher(executor, sizes, max_batch=1, window=0.05)
            batcher.start()
            answers = await asyncio.gather(*(batcher.submit(i) for i in range(5)))
            await batcher.stop()
            return answers

    assert asyncio.run(go()) == [0, 10, 20, 30, 40]
    assert sizes == [1] * 5


def test_a_lone_job_does_not_wait_for_the_window_unless_more_are_arriving():
    async def timed(arriving):
        with ThreadPoolExecutor(1) as executor:
            batcher = _batcher(executor, [], window=0.5, arriving=arriving)
            batcher.start()
            loop = asyncio.get_running_loop()
            start = loop.time()
            await batcher.submit(1)
            elapsed = loop.time() - start
            await batcher.stop()
            return elapsed

    assert asyncio.run(timed(lambda: 0)) < 0.25
    assert asyncio.run(timed(lambda: 1)) >= 0.45  # waits the window for the others


def test_an_error_reaches_every_job_of_its_batch_and_the_batcher_goes_on():
    async def go():
        with ThreadPoolExecutor(1) as executor:
            batcher = _batcher(executor, [], max_batch=8, window=0.05)
            batcher.start()
            failed = await asyncio.gather(
                batcher.submit(1), batcher.submit("boom"), return_exceptions=True
            )
            after = await batcher.submit(3)
            await batcher.stop()
            return failed, after

    failed, after = asyncio.run(go())
    assert all(isinstance(f, ValueError) for f in failed) and after == 30


def test_a_cancelled_request_is_left_out_and_submit_needs_a_running_batcher():
    seen = []
    release = threading.Event()

    def run(jobs):
        seen.append(list(jobs))
        release.wait(5)
        return jobs

    async def go():
        with ThreadPoolExecutor(1) as executor:
            batcher = MicroBatcher(run, executor, max_batch=8, window=0.0)
            with pytest.raises(RuntimeError, match="not running"):
                await batcher.submit(0)
            batcher.start()
            first = asyncio.ensure_future(batcher.submit(1))  # occupies the executor
            await asyncio.sleep(0.05)
            gone = asyncio.ensure_future(batcher.submit(2))
            kept = asyncio.ensure_future(batcher.submit(3))
            await asyncio.sleep(0.05)
            gone.cancel()  # the client went away while waiting
            release.set()
            answers = await asyncio.gather(first, kept)
            await batcher.stop()
            return answers

    assert asyncio.run(go()) == [1, 3]
    assert seen == [[1], [3]]
