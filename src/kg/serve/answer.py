"""The unit of work between the HTTP layer and the worker processes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Answer:
    """What a worker answers: an HTTP status, a media type and the body."""

    status: int
    media_type: str
    body: bytes
    headers: dict[str, str]
