"""SPARQL work in worker processes, with admission control, a timeout and a memory cap per query.

One *zygote* process loads the graph once (with inference); query workers are forked from it, so a
worker that is killed (timeout, memory) is replaced in milliseconds and shares the zygote's memory.
Each worker answers one request at a time over its own socket.

Admission (what keeps a cheap query fast while slow ones arrive):
- every query starts in the *short lane* (``short`` concurrent queries, newest waiter first), with
  ``short_after`` seconds;
- a query still running after that needs one of ``workers`` *long slots*; while none is free its
  worker is paused (SIGSTOP) and resumed when one frees up;
- at most ``queue`` requests are in the server at once; beyond that, or when the timeout ends a
  request, the answer is 503 with Retry-After.

A long query answer is streamed (kg.serve.contract): the worker writes it in chunks of about
:data:`CHUNK` bytes as the rows come, and the server passes each on before it reads the next, so neither
holds more than a chunk or two whatever the number of rows; a worker blocks while the server has not
read. The timeout covers the whole answer, its sending included. A worker is given the next request
only when its last answer was read to the end; one that was stopped part-way is killed and replaced,
so no byte of an earlier answer can reach a later request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import resource
import signal
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.reduction import recv_handle, send_handle

from kg.core.sparql_text import STACK_BYTES, on_big_stack
from kg.serve.contract import Answer, Cut, End, NotConforming, Settings
from kg.serve.endpoint import JSON, Handler, Streamed, failure


class Lane:
    """``size`` slots; waiters are served newest first, so that a request arriving while many wait (the
    slow ones, which hold a slot for at most ``short_after`` seconds each) gets the next free slot."""

    def __init__(self, size: int):
        self.free = size
        self.waiters: list[asyncio.Future] = []

    async def acquire(self, timeout: float) -> None:
        if self.free > 0:
            self.free -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), timeout)
        except TimeoutError:
            if waiter.done():  # handed over just now: give it back
                self.release()
            else:
                waiter.cancel()
                self.waiters.remove(waiter)
            raise

    def release(self) -> None:
        while self.waiters:
            waiter = self.waiters.pop()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.free += 1


class Busy(Exception):
    """The server is full or the query ran out of time or memory: answer 503 with Retry-After."""


def _zygote(control: Connection, settings: Settings) -> None:
    """Load the graph, then fork a worker for each ``"fork"`` request and hand its socket over."""
    try:
        handler = Handler.load(settings)
    except NotConforming as err:
        control.send(("not conforming", str(err)))
        return
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forked workers are reaped by the kernel
    control.send("ready")
    while True:
        try:
            control.recv()
        except (EOFError, OSError):
            os._exit(0)
        parent, child = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            control.close()
            parent.close()
            _work(Connection(child.detach()), handler, settings)
            os._exit(0)
        child.close()
        control.send(pid)
        send_handle(control, parent.fileno(), os.getppid())
        parent.close()


def _vm_size() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * resource.getpagesize()


def _lock_down(settings: Settings) -> None:
    """Limit the forked worker: its address space, and (without --allow-service) any new file or socket.

    Filling the gaps below the highest open descriptor and lowering RLIMIT_NOFILE to it means the
    process cannot open anything more: a SERVICE call that got past the query check cannot connect.
    """
    limit = _vm_size() + STACK_BYTES + 256 * 1024 * 1024 + settings.memory_cap
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if settings.allow_service:
        return
    top = max(int(n) for n in os.listdir("/proc/self/fd"))
    with contextlib.suppress(OSError):
        while True:  # fill every free descriptor below the highest open one
            fd = os.open(os.devnull, os.O_RDONLY)
            if fd >= top:
                os.close(fd)
                break
    resource.setrlimit(resource.RLIMIT_NOFILE, (top + 1, top + 1))


def _work(connection: Connection, handler: Handler, settings: Settings) -> None:
    """A forked worker: answer requests until the socket closes, each on a thread with a big stack (the
    query inside finds itself on it and runs there, not on a second one, also when its answer is
    streamed). One long-lived big-stack thread for all requests was measured at half the throughput,
    so it is one thread per request."""
    _lock_down(settings)
    _serve(connection, handler)


CHUNK = 64 * 1024  # bytes of a streamed body per message to the server


class _Chunks:
    """A writable file that sends what is written to the server in messages of about CHUNK bytes."""

    def __init__(self, connection: Connection):
        self.connection, self.buffer = connection, bytearray()

    def write(self, data: bytes) -> int:
        self.buffer += data
        if len(self.buffer) >= CHUNK:
            self.finish()
        return len(data)

    def flush(self) -> None:
        """Nothing: a message goes when CHUNK bytes are there (serializers flush often)."""

    def finish(self) -> None:
        if self.buffer:
            self.connection.send(bytes(self.buffer))
            self.buffer.clear()


def _memory() -> Answer:
    return Answer(
        503,
        "application/json",
        b'{"error": "the query needed more memory than the cap"}',
        {"Retry-After": "5"},
    )


def _serve(connection: Connection, handler: Handler) -> None:
    while True:
        try:
            op, args = connection.recv()
        except (EOFError, OSError):
            return
        on_big_stack(lambda op=op, args=args: _answer(connection, handler, op, args))


def _answer(connection: Connection, handler: Handler, op: str, args: dict) -> None:
    """Answer one request, on the request's big-stack thread: a streamed answer's rows are read from
    the engine on this thread as they are written (kg.core.producer)."""
    try:
        answer = handler.handle(op, args)
    except MemoryError:
        answer = _memory()
    if isinstance(answer, Streamed):
        _stream(connection, answer)
    else:
        connection.send(answer)


def _stream(connection: Connection, answer: Streamed) -> None:
    """Send a streamed answer: its head, its body in chunks as it is written, then End (or Cut)."""
    connection.send(answer.head)
    out = _Chunks(connection)
    try:
        answer.write(out)
        out.finish()
    except MemoryError:
        connection.send(Cut(_memory()))
        return
    except Exception as err:
        connection.send(Cut(failure(err)))
        return
    connection.send(End(answer.trailers()))


@dataclass
class _Worker:
    pid: int
    connection: Connection

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self.connection.close()

    def signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, sig)


class StreamCut(Exception):
    """A streamed answer could not be finished (time limit, worker stopped, error after the head);
    ``answer`` is the error a whole answer would have been."""

    def __init__(self, answer: Answer):
        super().__init__(json.loads(answer.body).get("error", "") if answer.media_type == JSON else "")
        self.answer = answer


def _busy(message: str) -> Answer:
    body = json.dumps({"error": message}, ensure_ascii=False).encode()
    return Answer(503, JSON, body, {"Retry-After": "2"})


class _Run:
    """One request on one worker: the lane slot it holds, its deadline, and the worker's messages.

    The deadline covers the whole answer, also the sending of a streamed one; the run moves from the
    short lane to a long slot once it has taken ``short_after`` seconds, whether or not its head came.
    """

    def __init__(self, pool: Pool):
        self.pool = pool
        self.started = time.monotonic()
        self.deadline = self.started + pool.timeout
        self.switch = self.deadline  # when to move to a long slot (set when the request is sent)
        self.worker: _Worker | None = None
        self.lane: str | None = None  # "short" or "long": the slot it holds
        self.closed = False

    def late(self) -> str:
        return (
            f"the query ran longer than {self.pool.timeout:g} s and was stopped "
            f"(after {time.monotonic() - self.started:.1f} s)"
        )

    async def start(self, op: str, args: dict) -> None:
        try:
            await self.pool.short.acquire(max(0.0, self.deadline - time.monotonic()))
        except TimeoutError:
            raise Busy(f"no worker became free within {self.pool.timeout:g} s; retry shortly") from None
        self.lane = "short"
        self.worker = await self.pool._checkout()
        self.worker.connection.send((op, args))
        self.switch = time.monotonic() + self.pool.short_after

    async def receive(self) -> object:
        """The worker's next message. TimeoutError at the deadline; EOFError if the worker died."""
        while True:
            now = time.monotonic()
            if now >= self.deadline:
                raise TimeoutError
            if self.lane == "short" and now >= self.switch:
                await self._to_long_slot()
                continue
            until = self.deadline if self.lane == "long" else min(self.deadline, self.switch)
            if await self._readable(until - now):
                # a message is arriving; the worker writes each one at once, so this read is short
                return self.worker.connection.recv()

    async def _readable(self, timeout: float) -> bool:
        connection = self.worker.connection
        if connection.poll(0):
            return True
        loop = asyncio.get_running_loop()
        ready: asyncio.Future = loop.create_future()
        fd = connection.fileno()
        loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
        try:
            done, _ = await asyncio.wait({ready}, timeout=max(0.0, timeout))
        finally:
            loop.remove_reader(fd)
        return bool(done)

    async def _to_long_slot(self) -> None:
        """Give up the short-lane slot for a long one; the worker waits paused while none is free."""
        self.pool.short.release()
        self.lane = None
        if self.pool.long.locked():
            self.worker.signal(signal.SIGSTOP)
        try:
            await asyncio.wait_for(self.pool.long.acquire(), max(0.0, self.deadline - time.monotonic()))
        finally:
            self.worker.signal(signal.SIGCONT)
        self.lane = "long"

    def close(self, *, reuse: bool) -> None:
        """Free the slot; keep the worker for another request only if ``reuse`` (its answer was read to
        the end, so nothing of it is left to be read by another request), else kill it."""
        if self.closed:
            return
        self.closed = True
        if self.worker is not None:
            if reuse and len(self.pool.idle) < self.pool.keep_idle:
                self.pool.idle.append(self.worker)
            else:
                self.worker.kill()
        if self.lane == "long":
            self.pool.long.release()
        elif self.lane == "short":
            self.pool.short.release()
        self.lane = None
        self.pool.in_system -= 1


class Stream:
    """A streamed answer: ``head`` (status, media type, headers), then :meth:`chunks` as the worker
    writes them, then ``trailers`` (headers known only at the end). Whoever gets a Stream closes it:
    a worker whose answer was not read to its end is killed, never reused."""

    def __init__(self, run: _Run, head: Answer):
        self.run, self.head = run, head
        self.trailers: dict[str, str] = {}

    @property
    def deadline(self) -> float:
        return self.run.deadline

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body's chunks; StreamCut if it cannot be finished (its worker is then stopped)."""
        while True:
            try:
                message = await self.run.receive()
            except TimeoutError:
                self.run.close(reuse=False)
                raise StreamCut(_busy(self.run.late())) from None
            except (EOFError, OSError):
                self.run.close(reuse=False)
                raise StreamCut(_busy(self.run.pool.stopped())) from None
            if isinstance(message, bytes):
                yield message
            elif isinstance(message, End):
                self.trailers = message.headers
                self.run.close(reuse=True)
                return
            elif isinstance(message, Cut):
                self.run.close(reuse=True)
                raise StreamCut(message.error)
            else:
                self.run.close(reuse=False)
                raise StreamCut(_busy("the query worker answered out of turn; retry"))

    def late(self) -> StreamCut:
        """The cut of an answer whose deadline passed while it was being sent."""
        return StreamCut(_busy(self.run.late()))

    def close(self) -> None:
        """Stop the answer if it is not finished (its worker is killed) and free its slot."""
        self.run.close(reuse=False)

    def __del__(self) -> None:
        self.run.close(reuse=False)


class Pool:
    """The zygote, its forked workers and the admission rules (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        *,
        workers: int = 2,
        timeout: float = 10.0,
        queue: int = 64,
        short_after: float = 0.5,
        short: int | None = None,
    ):
        self.settings, self.timeout, self.capacity, self.short_after = settings, timeout, queue, short_after
        context = multiprocessing.get_context("spawn")
        self.control, child = context.Pipe(duplex=True)
        self.zygote = context.Process(target=_zygote, args=(child, settings), daemon=True)
        self.zygote.start()
        child.close()
        message = self.control.recv() if self.control.poll(600) else None
        if message != "ready":
            self.zygote.kill()
            if isinstance(message, tuple) and message[0] == "not conforming":
                raise NotConforming(message[1])
            raise RuntimeError("the query worker did not start")
        self.long = asyncio.Semaphore(workers)
        self.short = Lane(short or 4 * workers)
        self.idle: list[_Worker] = []
        self.keep_idle = (short or 4 * workers) + workers
        self.fork_lock = asyncio.Lock()
        self.in_system = 0

    def _fork(self) -> _Worker:
        self.control.send("fork")
        pid = self.control.recv()
        fd = recv_handle(self.control)
        return _Worker(pid, Connection(fd))

    async def _checkout(self) -> _Worker:
        if self.idle:
            return self.idle.pop()
        async with self.fork_lock:
            return await asyncio.to_thread(self._fork)

    async def call(self, op: str, args: dict) -> Answer | Stream:
        """Run one request on a worker under the admission rules: its whole Answer, or a Stream when the
        worker streams it (the caller must close the Stream). Raises Busy for a 503."""
        if self.in_system >= self.capacity:
            raise Busy(f"the server is busy ({self.capacity} requests in progress); retry shortly")
        self.in_system += 1
        run = _Run(self)
        try:
            await run.start(op, args)
            message = await run.receive()
        except TimeoutError:
            run.close(reuse=False)
            raise Busy(run.late()) from None
        except (EOFError, OSError):
            run.close(reuse=False)
            raise Busy(self.stopped()) from None
        except BaseException:
            run.close(reuse=False)
            raise
        if not isinstance(message, Answer):
            run.close(reuse=False)
            raise Busy("the query worker answered out of turn; retry")
        if message.streamed:
            return Stream(run, message)
        run.close(reuse=True)
        return message

    def stopped(self) -> str:
        cap = self.settings.memory_cap // (1024 * 1024)
        return f"the query stopped its worker: it needed more than the memory cap of {cap} MB or failed"

    def close(self) -> None:
        for worker in self.idle:
            worker.kill()
        self.zygote.kill()
