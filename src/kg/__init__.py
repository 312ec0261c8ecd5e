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
from kg.graph import KnowledgeGraph, load, query_df, to_networkx

__version__ = "0.1.0"

__all__ = [
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
    "get_query",
    "load",
    "query_df",
    "stored_queries",
    "to_networkx",
]
