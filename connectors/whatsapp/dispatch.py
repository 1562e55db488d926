"""Work after the webhook answered: one queue per sender, run in arrival order; different senders concurrently.

Tasks are kept in a dict (asyncio only holds weak references to tasks), and `wait_idle` lets the server
finish everything it accepted before it stops.
"""
from __future__ import annotations

import asyncio
import collections
import logging
from typing import Awaitable, Callable

from common.phone import mask_phone

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class SenderQueues:
    def __init__(self) -> None:
        self._queues: dict[str, collections.deque[Job]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}

    @property
    def pending(self) -> int:
        """Jobs accepted and not finished (queued + running)."""
        return sum(len(q) for q in self._queues.values()) + len(self._workers)

    def submit(self, sender_id: str, job: Job) -> None:
        self._queues.setdefault(sender_id, collections.deque()).append(job)
        if sender_id not in self._workers:
            self._workers[sender_id] = asyncio.get_running_loop().create_task(
                self._drain(sender_id), name=f"whatsapp-sender-{mask_phone(sender_id)}"
            )

    async def _drain(self, sender_id: str) -> None:
        queue = self._queues[sender_id]
        try:
            while queue:
                job = queue.popleft()
                try:
                    await job()
                except Exception:  # one failed message must not stop the sender's next ones
                    logger.exception("handling a WhatsApp message from %s failed", mask_phone(sender_id))
        finally:
            # no await between the last `while queue` check and here, so nothing can slip in unseen
            self._queues.pop(sender_id, None)
            self._workers.pop(sender_id, None)

    async def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every accepted job has run (jobs submitted meanwhile included). False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while self._workers:
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            await asyncio.wait(list(self._workers.values()), timeout=remaining)
        return True
