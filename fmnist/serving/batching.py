"""Micro-batching: requests that arrive while a model is busy share its next call.

No waiting window: an idle model answers a lone request at once, and under load each call takes every image queued
meanwhile (up to max_images), so throughput approaches that of predicting from memory in large batches.
"""
import asyncio
from concurrent.futures import ThreadPoolExecutor

import numpy as np


class MicroBatcher:
    """Runs `predict(images) -> rows` (one row per image) on its own thread, batching concurrent callers."""

    def __init__(self, predict, max_images, name):
        self.predict = predict
        self.max_images = max_images
        self.executor = ThreadPoolExecutor(1, thread_name_prefix=f"model-{name}")
        self.queue = None
        self.worker = None
        self.calls = 0  # model calls made: a test sees concurrent requests share them

    def start(self):
        """Start the worker on the running event loop (the app's lifespan)."""
        self.queue = asyncio.Queue()
        self.worker = asyncio.create_task(self.serve_queue())

    async def stop(self):
        if self.worker:
            self.worker.cancel()
            await asyncio.gather(self.worker, return_exceptions=True)
        self.executor.shutdown(wait=True)

    async def __call__(self, images):
        """The rows for `images` (n, ...), computed in a shared call."""
        future = asyncio.get_running_loop().create_future()
        await self.queue.put((images, future))
        return await future

    async def run_alone(self, function, *args):
        """Run `function(*args)` on the model's thread, between batches (for work that is not a prediction)."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    async def serve_queue(self):
        while True:
            waiting = [await self.queue.get()]
            count = len(waiting[0][0])
            while count < self.max_images and not self.queue.empty():
                waiting.append(self.queue.get_nowait())
                count += len(waiting[-1][0])
            await self.answer(waiting)

    async def answer(self, waiting):
        live = [(images, future) for images, future in waiting if not future.cancelled()]
        if not live:
            return
        try:
            rows = await self.run_alone(self.predict, np.concatenate([images for images, _ in live]))
            self.calls += 1
        except Exception as error:  # noqa: BLE001  every waiting request gets the failure, the worker carries on
            for _, future in live:
                if not future.done():
                    future.set_exception(error)
            return
        start = 0
        for images, future in live:
            if not future.done():
                future.set_result(rows[start:start + len(images)])
            start += len(images)
