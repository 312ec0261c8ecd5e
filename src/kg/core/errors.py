"""The exception hierarchy of kg. Library code raises these; only the CLI turns them into exit codes."""

from __future__ import annotations


class KgError(Exception):
    """Base class of every error kg raises on purpose. ``exit_code`` is what the CLI exits with."""

    exit_code = 2


class InputError(KgError):
    """A file is missing, unreadable or not valid RDF."""


class QueryError(KgError):
    """A query is unknown, malformed or has a SPARQL syntax error."""


class ParameterError(KgError):
    """A query parameter is missing, unknown or of the wrong type or value."""


class UsageError(KgError):
    """An option or combination of options makes no sense (e.g. a SELECT query asked for as Turtle)."""


class QueryTimeout(QueryError):
    """A query ran past its time limit."""
