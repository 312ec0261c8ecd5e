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
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import resource
import signal
import socket
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.reduction import recv_handle, send_handle

from kg.core.sparql_text import STACK_BYTES, on_big_stack
from kg.serve.contract import Answer, NotConforming, Settings
from kg.serve.endpoint import Handler


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


def _work(connection: Connection, handler: object, settings: Settings) -> None:
    """A forked worker: answer requests until the socket closes, each on a thread with a big stack (the
    query inside finds itself on it and runs there, not on a second one). One long-lived big-stack
    thread for all requests was measured at half the throughput, so it is one thread per request."""
    _lock_down(settings)
    _serve(connection, handler)


def _serve(connection: Connection, handler: object) -> None:
    while True:
        try:
            op, args = connection.recv()
        except (EOFError, OSError):
            return
        try:
            answer = on_big_stack(lambda op=op, args=args: handler.handle(op, args))
        except MemoryError:
            answer = Answer(
                503,
                "application/json",
                b'{"error": "the query needed more memory than the cap"}',
                {"Retry-After": "5"},
            )
        connection.send(answer)


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

    async def call(self, op: str, args: dict) -> Answer:
        """Run one request on a worker under the admission rules; raises Busy for a 503."""
        if self.in_system >= self.capacity:
            raise Busy(f"the server is busy ({self.capacity} requests in progress); retry shortly")
        self.in_system += 1
        started = time.monotonic()
        deadline = started + self.timeout
        try:
            return await self._run(op, args, deadline, started)
        finally:
            self.in_system -= 1

    async def _run(self, op: str, args: dict, deadline: float, started: float) -> Answer:
        loop = asyncio.get_running_loop()
        try:
            await self.short.acquire(max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            raise Busy(f"no worker became free within {self.timeout:g} s; retry shortly") from None
        worker: _Worker | None = None
        holding_long = False
        try:
            worker = await self._checkout()
            reply: asyncio.Future = loop.create_future()
            fd = worker.connection.fileno()
            loop.add_reader(fd, lambda: reply.done() or reply.set_result(None))
            try:
                worker.connection.send((op, args))
                done, _ = await asyncio.wait({reply}, timeout=self.short_after)
                if not done:
                    self.short.release()
                    released = True
                    if self.long.locked():
                        worker.signal(signal.SIGSTOP)
                    try:
                        await asyncio.wait_for(self.long.acquire(), max(0.0, deadline - time.monotonic()))
                    finally:
                        worker.signal(signal.SIGCONT)
                    holding_long = True
                    done, _ = await asyncio.wait({reply}, timeout=max(0.0, deadline - time.monotonic()))
                    if not done:
                        raise TimeoutError
                else:
                    released = False
            finally:
                loop.remove_reader(fd)
            try:
                answer = worker.connection.recv()  # readable: the worker is sending the whole answer
            except (EOFError, OSError):
                worker.kill()
                worker = None
                cap = self.settings.memory_cap // (1024 * 1024)
                raise Busy(
                    f"the query stopped its worker: it needed more than the memory cap of {cap} MB or failed"
                ) from None
            if len(self.idle) < self.keep_idle:
                self.idle.append(worker)
            else:
                worker.kill()
            worker = None
            return answer
        except TimeoutError:
            raise Busy(
                f"the query ran longer than {self.timeout:g} s and was stopped "
                f"(after {time.monotonic() - started:.1f} s)"
            ) from None
        finally:
            if worker is not None:
                worker.kill()
            if holding_long:
                self.long.release()
            elif not locals().get("released", False):
                self.short.release()

    def close(self) -> None:
        for worker in self.idle:
            worker.kill()
        self.zygote.kill()
