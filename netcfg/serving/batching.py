"""Micro-batching: requests that arrive together are computed together.

Each model has a `MicroBatcher`: a request handler puts its prepared job on an asyncio
queue and awaits the answer. One task takes the first waiting job, then more, until it
holds ``max_batch`` jobs, or no more are on their way (``arriving``: requests being read
that have not reached the queue yet), or ``window`` seconds have passed since the first;
and runs the batch in the model executor (a single thread, so the event loop keeps reading requests
while the network computes, and forward passes never compete for the CPU cores). Under
load the queue fills while a batch computes, so the next batch is taken at once and
throughput grows with concurrency, while a lone client never waits for the window;
``max_batch=1`` computes each request alone.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any

__all__ = ["MicroBatcher"]


class MicroBatcher:
    """Gathers jobs into batches and runs each batch in an executor.

    Args:
        run: computes a batch: a list of jobs in, a list of answers (same order) out.
        executor: where ``run`` is called (not the event loop).
        max_batch: the most jobs per batch (1: no batching).
        window: seconds the first job of a batch waits, at most, for others.
        arriving: how many jobs are on their way (default: assume some always are, and
            wait the whole window).
        on_batch: called with each batch's size (metrics).

    Example:
        >>> batcher = MicroBatcher(rank, executor, max_batch=64, window=0.002)
        >>> batcher.start()
        >>> answer = await batcher.submit(job)
    """

    def __init__(
        self,
        run: Callable[[list], Sequence[Any]],
        executor: Executor,
        *,
        max_batch: int = 64,
        window: float = 0.002,
        arriving: Callable[[], int] | None = None,
        on_batch: Callable[[int], None] | None = None,
    ):
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1 (got {max_batch})")
        self._run = run
        self._executor = executor
        self.max_batch = max_batch
        self.window = max(window, 0.0)
        self._arriving = arriving or (lambda: 1)
        self._on_batch = on_batch
        self._queue: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        """Start the batching task on the running event loop."""
        self._queue = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._serve())

    async def stop(self) -> None:
        """Stop the batching task; jobs still waiting are cancelled."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        while self._queue is not None and not self._queue.empty():
            _, future = self._queue.get_nowait()
            future.cancel()

    async def submit(self, job: Any) -> Any:
        """Queue ``job`` and wait for its answer (an exception of ``run`` is raised here)."""
        if self._task is None or self._task.done():
            raise RuntimeError("the batcher is not running")
        future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((job, future))
        return await future

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            deadline = loop.time() + self.window
            while len(batch) < self.max_batch:
                if not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                    continue
                remaining = deadline - loop.time()
                if remaining <= 0 or not self._arriving():
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), remaining))
                except asyncio.TimeoutError:
                    break
            batch = [(job, future) for job, future in batch if not future.done()]
            if batch:
                await self._compute(loop, batch)

    async def _compute(self, loop: asyncio.AbstractEventLoop, batch: list) -> None:
        if self._on_batch is not None:
            self._on_batch(len(batch))
        try:
            answers = await loop.run_in_executor(self._executor, self._run, [j for j, _ in batch])
        except Exception as err:  # every job of the batch gets the error
            for _, future in batch:
                if not future.done():
                    future.set_exception(err)
            return
        for (_, future), answer in zip(batch, answers, strict=True):
            if not future.done():
                future.set_result(answer)
