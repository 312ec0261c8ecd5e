"""SPARQL work in separate processes, so that a timeout really stops a query.

Each worker process loads the graph once (with inference) and answers requests over a pipe. A request
that runs past the timeout gets its worker killed and replaced; the other workers go on serving.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from kg.graph import KnowledgeGraph
from kg.serve.answer import Answer
from kg.serve.endpoint import Handler


class Timeout(Exception):
    """The request ran past the timeout; its worker was stopped."""


def _serve(connection: object, data: Sequence[str] | None, max_rows: int) -> None:
    """Worker process: load the graph, then answer requests until the pipe closes."""
    graph = KnowledgeGraph.load(data)
    graph.infer()
    handler = Handler(graph, max_rows)
    connection.send("ready")
    while True:
        try:
            op, args = connection.recv()
        except EOFError:
            return
        connection.send(handler.handle(op, args))


class Pool:
    """``size`` worker processes; ``call`` runs one request on a free one, within ``timeout`` seconds."""

    def __init__(
        self,
        data: Sequence[str | Path] | None = None,
        size: int = 2,
        timeout: float = 10.0,
        max_rows: int = 10000,
    ):
        self.data = [str(p) for p in data] if data else None
        self.timeout, self.max_rows = timeout, max_rows
        self.context = multiprocessing.get_context("spawn")
        self.idle: queue.Queue = queue.Queue()
        self.lock = threading.Lock()
        self.processes: list = []
        for _ in range(size):
            self.idle.put(self._start())

    def _start(self) -> tuple:
        parent, child = self.context.Pipe()
        process = self.context.Process(target=_serve, args=(child, self.data, self.max_rows), daemon=True)
        process.start()
        child.close()
        if not parent.poll(120) or parent.recv() != "ready":
            process.kill()
            raise RuntimeError("a query worker did not start")
        with self.lock:
            self.processes.append(process)
        return process, parent

    def call(self, op: str, args: dict) -> Answer:
        """Run one request; raises Timeout (after replacing the worker) if it takes too long."""
        process, pipe = self.idle.get()
        started = time.monotonic()
        try:
            pipe.send((op, args))
            if pipe.poll(self.timeout):
                answer = pipe.recv()
                self.idle.put((process, pipe))
                return answer
        except (EOFError, OSError, BrokenPipeError):
            pass
        process.kill()
        process.join()
        with self.lock:
            self.processes.remove(process)
        threading.Thread(target=lambda: self.idle.put(self._start()), daemon=True).start()
        raise Timeout(
            f"the query ran longer than {self.timeout:g} s and was stopped "
            f"(after {time.monotonic() - started:.1f} s)"
        )

    def close(self) -> None:
        with self.lock:
            for process in self.processes:
                process.kill()
