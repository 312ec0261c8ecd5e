"""An answer read on the engine's own thread and handed over in chunks, so rows can be written as they
come while the engine keeps the large stack and the single thread its answers need.

The engine's answer object never leaves the thread that made it (Oxigraph's may not); only rows (plain
RDF terms) cross, through a queue of at most :data:`DEPTH` chunks, so memory stays bounded however long
the answer is. Closing the iterator early stops the producer at its next chunk. Called on a big-stack
thread already (:func:`kg.core.sparql_text.on_big_stack`; a server's query worker), it reads right
there instead, the caller reading the items on that thread: no second thread and no hand-overs.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from kg.core.errors import QueryTimeout
from kg.core.sparql_text import STACK_BYTES, big_stack

T = TypeVar("T")
H = TypeVar("H")
CHUNK = 256
DEPTH = 8
_END = object()


class Window:
    """Which items of an answer to pass on: skip ``offset``, then at most ``limit``; ``cut`` tells
    afterwards whether the limit left some."""

    def __init__(self, offset: int = 0, limit: int | None = None, timeout: float | None = None):
        self.offset, self.limit, self.timeout = offset, limit, timeout
        self.cut = False

    def apply(self, items: Iterator[T]) -> Iterator[T]:
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        taken = 0
        for seen, item in enumerate(items):
            if deadline is not None and seen % CHUNK == 0 and time.monotonic() > deadline:
                raise QueryTimeout(f"the query took longer than {self.timeout:g} s")
            if seen < self.offset:
                continue
            if self.limit is not None and taken >= self.limit:
                self.cut = True
                return
            taken += 1
            yield item


def produce(work: Callable[[], tuple[H, Iterator[T]]], window: Window) -> tuple[H, Iterator[T]]:
    """Run ``work`` on a large-stack thread; return its header and an iterator over its items.

    ``work`` returns something small that may cross threads (the header) and an iterator that is read
    on the same thread, through ``window``. An error in ``work`` or while reading is raised in the
    caller's thread: at once if it comes before the header, else from the iterator. On a big-stack
    thread, ``work`` runs right there and the iterator is read there too (it must not leave it).
    """
    if big_stack():
        header, items = work()
        return header, window.apply(items)
    handover: queue.Queue = queue.Queue(maxsize=DEPTH)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                handover.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        failure = None
        try:
            _run()
        except BaseException as err:  # handed to the reading thread without its frames, which hold
            failure = err.with_traceback(None)  # the engine's answer (to be dropped on this thread)
            failure.__context__ = failure.__cause__ = None
        if failure is not None:
            put((False, failure))

    def _run() -> None:
        header, items = work()
        if not put((True, header)):
            return
        chunk: list = []
        for item in window.apply(items):
            chunk.append(item)
            if len(chunk) >= CHUNK:
                if not put(chunk):
                    return
                chunk = []
        if chunk and not put(chunk):
            return
        put(_END)

    previous = threading.stack_size(STACK_BYTES)
    try:
        thread = threading.Thread(target=run, name="kg-stream", daemon=True)
        thread.start()
    finally:
        threading.stack_size(previous)
    first = handover.get()
    ok, value = first
    if not ok:
        thread.join()
        raise value

    return value, _Items(handover, stop, thread)


class _Items:
    """The reading end: yields the items, stops the producer when closed, finished or dropped."""

    def __init__(self, handover: queue.Queue, stop: threading.Event, thread: threading.Thread):
        self._handover, self._stop, self._thread = handover, stop, thread
        self._chunk: Iterator = iter(())
        self._done = False

    def __iter__(self) -> _Items:
        return self

    def __next__(self) -> object:
        while True:
            for item in self._chunk:
                return item
            if self._done:
                raise StopIteration
            got = self._handover.get()
            if got is _END:
                self.close()
                raise StopIteration
            if isinstance(got, tuple):
                self.close()
                raise got[1]
            self._chunk = iter(got)

    def close(self) -> None:
        """Stop the producer (it drops the engine's answer on its own thread) and wait for it."""
        self._done = True
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def __del__(self) -> None:
        self._stop.set()
