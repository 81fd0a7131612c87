"""The ingest worker leaves room to the webhook endpoint while it works through a backlog."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from bandeja.jobs.ingest import IngestWorker
from tests.support.factory import BOX


class _Worker(IngestWorker):
    """``run_once`` hands out scripted batch sizes, each taking 20 ms; pauses are recorded."""

    def __init__(self, sizes: list[int], pace: float) -> None:
        super().__init__(None, BOX, httpx.AsyncClient(), batch=10, idle_s=0.01, pace=pace)  # type: ignore[arg-type]
        self.sizes = sizes
        self.pauses: list[float] = []

    async def run_once(self) -> int:
        if not self.sizes:
            raise asyncio.CancelledError
        await asyncio.sleep(0.02)
        return self.sizes.pop(0)

    async def pause(self, seconds: float) -> None:
        self.pauses.append(seconds)


@pytest.mark.parametrize("pace", [0.5, 2.0])
async def test_a_full_batch_is_followed_by_a_pause_in_proportion(pace: float) -> None:
    worker = _Worker([10, 10, 3, 10], pace)
    with pytest.raises(asyncio.CancelledError):
        await worker.run()
    # Full batches (10) pause; the short one (a drained queue) waits for work instead.
    assert len(worker.pauses) == 3
    for seconds in worker.pauses:
        assert 0.02 * pace * 0.9 <= seconds <= 0.02 * pace * 10


async def test_no_pace_no_pause() -> None:
    worker = _Worker([10, 10, 10], 0.0)
    with pytest.raises(asyncio.CancelledError):
        await worker.run()
    assert worker.pauses == []
