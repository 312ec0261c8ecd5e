"""External SPARQL stores: ``kg push`` (SPARQL 1.1 Graph Store Protocol) and ``kg query --endpoint``.

Errors are one line: an unreachable endpoint, an HTTP error status (with the start of the server's
message) or a time-out all raise RemoteError (exit 2).
"""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from urllib.parse import quote

import pyoxigraph as ox

from kg.core.errors import InputError
from kg.core.queries import StoredQuery
from kg.core.results import Result
from kg.graph import KnowledgeGraph

RESULTS_JSON = "application/sparql-results+json"
NTRIPLES = "application/n-triples"


class RemoteError(InputError):
    """The remote store could not be reached, answered with an error, or did not answer in time."""


def _request(url: str, data: bytes | None, headers: dict[str, str], method: str, timeout: float) -> bytes:
    try:
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as err:
        detail = " ".join(err.read(300).decode("utf-8", "replace").split())
        raise RemoteError(
            f"{url}: the server answered {err.code} {err.reason}" + (f": {detail}" if detail else "")
        ) from None
    except TimeoutError:
        raise RemoteError(f"{url}: no answer within {timeout:g} s") from None
    except urllib.error.URLError as err:
        reason = err.reason
        if isinstance(reason, (TimeoutError, socket.timeout)):
            raise RemoteError(f"{url}: no answer within {timeout:g} s") from None
        raise RemoteError(
            f"{url}: cannot reach the server: {getattr(reason, 'strerror', None) or reason}"
        ) from None
    except (ValueError, OSError) as err:
        raise RemoteError(f"{url}: {err}") from None


def push(
    graph: KnowledgeGraph,
    endpoint: str,
    target: str | None = None,
    *,
    inferred: bool = True,
    timeout: float = 60.0,
) -> int:
    """Replace the default graph (or graph ``target``) of a Graph Store endpoint with kg's triples."""
    triples = {t for g in graph.graphs(inferred=inferred) for t in graph.triples(g)}
    body = "".join(f"{t} .\n" for t in sorted(triples, key=str)).encode("utf-8")
    where = f"graph={quote(target, safe='')}" if target else "default"
    separator = "&" if "?" in endpoint else "?"
    _request(f"{endpoint}{separator}{where}", body, {"Content-Type": NTRIPLES}, "PUT", timeout)
    return len(triples)


def query(
    stored: StoredQuery,
    endpoint: str,
    graph: KnowledgeGraph,
    params: dict[str, str],
    *,
    lang: str = "nl",
    timeout: float = 60.0,
) -> Result:
    """Run a stored query on a remote SPARQL endpoint, with kg's parameter checks and binding."""
    text = graph.bound(stored, params, lang)
    accept = NTRIPLES if stored.form in ("CONSTRUCT", "DESCRIBE") else RESULTS_JSON
    headers = {"Content-Type": "application/sparql-query", "Accept": accept}

    body = _request(endpoint, text.encode("utf-8"), headers, "POST", timeout)
    if accept == NTRIPLES:
        return Result(stored.form, triples=[q.triple for q in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)])
    try:
        answer = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
    except SyntaxError as err:
        raise RemoteError(f"{endpoint}: not SPARQL JSON results: {err}") from None
    if isinstance(answer, ox.QueryBoolean):
        return Result("ASK", boolean=bool(answer))
    names = [v.value for v in answer.variables]
    return Result("SELECT", names, [tuple(sol[i] for i in range(len(names))) for sol in answer])
