"""kg: a linked-data knowledge graph of Dutch citizen initiatives (maatschappelijke initiatieven).

>>> import kg
>>> graph = kg.load()
>>> rows = graph.query("initiatives-by-bottleneck", {"bottleneck": "fiscaliteit"})
>>> report = graph.validate()
>>> frame = kg.query_df("bottleneck-counts", lang="en")     # pandas
>>> network = kg.to_networkx()                               # NetworkX
"""

from kg.core.errors import InputError, KgError, ParameterError, QueryError, UsageError
from kg.core.queries import Parameter, StoredQuery
from kg.core.queries import get as get_query
from kg.core.queries import stored as stored_queries
from kg.core.report import Finding, ValidationReport
from kg.core.results import Result
from kg.core.version import __version__
from kg.graph import ENGINES, KnowledgeGraph, load

_DEFAULT: KnowledgeGraph | None = None


def _default() -> KnowledgeGraph:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load()
    return _DEFAULT


def query_df(name: str, lang: str = "nl", **params: object) -> object:
    """A stored query on the bundled data as a pandas DataFrame: ``kg.query_df("initiatives")``."""
    from kg.views.figures import query_df as frame

    return frame(_default(), name, lang, **params)


def to_networkx(lang: str = "nl") -> object:
    """The bundled initiative-bottleneck-activity graph as a NetworkX graph."""
    from kg.views.figures import to_networkx as network

    return network(_default(), lang)


__all__ = [
    "ENGINES",
    "Finding",
    "InputError",
    "KgError",
    "KnowledgeGraph",
    "Parameter",
    "ParameterError",
    "QueryError",
    "Result",
    "StoredQuery",
    "UsageError",
    "ValidationReport",
    "__version__",
    "get_query",
    "load",
    "query_df",
    "stored_queries",
    "to_networkx",
]
