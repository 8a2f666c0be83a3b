"""The fake server's book of requests received and faults still to deliver.

Thread-safe: the server records from its event loop while tests read, script
faults and wait from any thread or loop.
"""

from __future__ import annotations

import asyncio
import threading

from ._faults import Fault, QueuedFault
from ._recording import RecordedRequest

__all__ = ["Ledger"]


class Ledger:
    """Recorded requests, queued faults, and whoever is waiting for requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._faults: list[QueuedFault] = []
        self._arrived = threading.Condition(self._lock)
        self._waiters: list[tuple[int, asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def record(self, request: RecordedRequest) -> Fault | None:
        """Record *request*, wake waiters, and hand back the fault it must get, if any."""
        with self._lock:
            self._requests.append(request)
            fault = self._take_fault(request.method, request.path) if self._faults else None
            self._arrived.notify_all()
            for count, loop, future in self._waiters:
                if len(self._requests) >= count:
                    loop.call_soon_threadsafe(_resolve, future)
        return fault

    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()

    def enqueue(self, entries: list[QueuedFault]) -> None:
        with self._lock:
            self._faults.extend(entries)

    def pending(self) -> int:
        with self._lock:
            return len(self._faults)

    def wait(self, count: int, timeout: float) -> list[RecordedRequest]:
        """Block until *count* requests have arrived."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self._requests) >= count, timeout):
                raise TimeoutError(
                    f"{len(self._requests)} of {count} requests arrived in {timeout} s"
                )
            return list(self._requests)

    async def wait_async(self, count: int, timeout: float) -> list[RecordedRequest]:
        """Wait on the running loop until *count* requests have arrived."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        entry = (count, loop, future)
        with self._lock:
            if len(self._requests) >= count:
                return list(self._requests)
            self._waiters.append(entry)
        try:
            await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"fewer than {count} requests arrived in {timeout} s") from None
        finally:
            with self._lock:
                self._waiters.remove(entry)
        return self.requests()

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for index, entry in enumerate(self._faults):
            if entry.matches(method, path):
                del self._faults[index]
                return entry.fault
        return None


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
