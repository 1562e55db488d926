"""Work after the webhook answered: one queue per sender, run in arrival order; different senders concurrently.

Tasks are kept in a dict (asyncio only holds weak references to tasks), and `wait_idle` lets the server
finish everything it accepted before it stops.

With a `ConversationThread`, the queues live on their own event loop in a second thread. Rasa's NLU and
policies are synchronous CPU work; on the web server's loop they would hold back every webhook answer
behind the message being processed. On their own loop, the server answers Meta at once.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import sys
import threading
from collections.abc import Awaitable, Callable

from common.phone import mask_phone

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class ConversationThread:
    """An event loop in a daemon thread, where the conversation work of the channel runs."""

    # the web server's thread gets the GIL back within 1 ms instead of 5 ms while Rasa computes
    SWITCH_INTERVAL_SECONDS = 0.001

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="whatsapp-conversations", daemon=True)
        sys.setswitchinterval(self.SWITCH_INTERVAL_SECONDS)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    async def run(self, coro: Awaitable) -> object:
        """Run a coroutine on the conversation loop and wait for it from the caller's loop."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))  # type: ignore[arg-type]

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


class SenderQueues:
    def __init__(self, thread: ConversationThread | None = None) -> None:
        self._queues: dict[str, collections.deque[Job]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._thread = thread

    @property
    def pending(self) -> int:
        """Jobs accepted and not finished (queued + running)."""
        return sum(len(q) for q in self._queues.values()) + len(self._workers)

    def submit(self, sender_id: str, job: Job) -> None:
        if self._thread is not None:
            # the queues belong to the conversation loop; arrival order is kept by call_soon's FIFO
            self._thread.loop.call_soon_threadsafe(self._submit_here, sender_id, job)
        else:
            self._submit_here(sender_id, job)

    def _submit_here(self, sender_id: str, job: Job) -> None:
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
        if self._thread is not None and asyncio.get_running_loop() is not self._thread.loop:
            return bool(await self._thread.run(self.wait_idle(timeout)))
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while self._workers:
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            await asyncio.wait(list(self._workers.values()), timeout=remaining)
        return True
