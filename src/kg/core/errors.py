"""The exception hierarchy of kg. Library code raises these; only the CLI turns them into exit codes."""

from __future__ import annotations

from collections.abc import Callable


class KgError(Exception):
    """Base class of every error kg raises on purpose. ``exit_code`` is what the CLI exits with."""

    exit_code = 2


class InputError(KgError):
    """A file is missing, unreadable or not valid RDF."""


class QueryError(KgError):
    """A query is unknown, malformed or has a SPARQL syntax error."""


class ParameterError(KgError):
    """A query parameter is missing, unknown or of the wrong type or value.

    ``example`` is a (name, value) setting the message suggests; :meth:`worded` writes it as the
    caller's interface spells one (``?name=value`` over HTTP). ``str()`` is the command line's
    wording, ``-p name=value``."""

    def __init__(self, message: str, example: tuple[str, str] | None = None):
        self.message, self.example = message, example
        super().__init__(self.worded(lambda name, value: f"-p {name}={value}"))

    def __reduce__(self) -> tuple:
        return type(self), (self.message, self.example)

    def worded(self, setting: Callable[[str, str], str]) -> str:
        """The message with its example written by ``setting(name, value)``."""
        if self.example is None:
            return self.message
        return f"{self.message} (e.g. {setting(*self.example)})"


class UsageError(KgError):
    """An option or combination of options makes no sense (e.g. a SELECT query asked for as Turtle)."""


class QueryTimeout(QueryError):
    """A query ran past its time limit."""
