"""Sending a streamed answer over HTTP as the worker writes it (chunked transfer coding, RFC 9112
section 7.1), within the answer's deadline.

The head (status and headers) goes first, so an error found after it cannot become an HTTP status:
when the answer cannot be finished (its time limit passed, its worker stopped, an error in the
middle), the connection is closed without the last, empty chunk. HTTP/1.1 clients see an incomplete
body (Python's ``http.client`` raises IncompleteRead, curl exits 18), never a shorter answer that looks
whole. The deadline also bounds the sending: a client that stops reading does not hold a worker.
"""

from __future__ import annotations

import asyncio
import logging
import time

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from kg.serve.workers import Stream, StreamCut


class Relay(StreamingResponse):
    """The chunks of ``stream`` as a response; the stream is closed when the response ends, however."""

    def __init__(self, stream: Stream, headers: dict[str, str]):
        super().__init__(stream.chunks(), stream.head.status, headers, media_type=None)
        self.stream = stream

    async def stream_response(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        async for chunk in self.body_iterator:
            message = {"type": "http.response.body", "body": chunk, "more_body": True}
            try:
                await asyncio.wait_for(send(message), max(0.0, self.stream.deadline - time.monotonic()))
            except TimeoutError:
                raise self.stream.late() from None
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.stream.close()


class CutLog(logging.Filter):
    """uvicorn logs an exception that ends a started response as an error with its traceback; a cut
    answer is expected (its time limit passed, say), so it is one warning line."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, StreamCut):
            record.msg = "kg: an answer was cut after its first bytes: %s"
            record.args, record.exc_info, record.exc_text = (error,), None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True
