"""What the HTTP layer and the worker processes exchange: settings go in, answers come out.

A worker answers a request with one :class:`Answer`. A long answer is streamed instead: an Answer with
``streamed=True`` and no body (its head), then the body as ``bytes`` messages, then :class:`End` or, when
the answer could not be finished, :class:`Cut`. Nothing else comes from the worker until the next request.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Answer:
    """What a worker answers: an HTTP status, a media type, the body and extra headers."""

    status: int
    media_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    streamed: bool = False  # the head of a streamed answer: the body follows in chunks


@dataclass
class End:
    """A streamed answer is complete; ``headers`` became known only at its end (X-KG-Truncated)."""

    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Cut:
    """A streamed answer stopped after its head: ``error`` is what a whole answer would have been."""

    error: Answer


@dataclass(frozen=True)
class Settings:
    """What a worker needs to know; picklable, sent to the zygote."""

    data: tuple[str, ...] | None
    named_graphs: tuple[tuple[str, str], ...] = ()
    max_rows: int = 10000
    memory_cap: int = 1024 * 1024 * 1024  # bytes above the worker's size when forked
    allow_service: tuple[str, ...] = ()
    base: str | None = None  # relative IRIs in the files resolve against it (default: each file's IRI)
    validate: bool = True  # refuse data that does not conform to the shapes


class NotConforming(Exception):
    """The data to serve does not conform to the shapes; the message is the validation report."""
