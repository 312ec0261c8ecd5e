"""``kg serve``: a read-only SPARQL 1.1 Protocol endpoint, the stored queries as a web API, and
linked-data pages, over HTTP (standard library server; the SPARQL work runs in kg.serve.workers).

Routes: ``/`` home page with query editor · ``/sparql`` (GET, POST form or application/sparql-query;
service description without a query) · ``/api/queries`` and ``/api/queries/{name}?param=value`` ·
``/openapi.json`` · ``/id/...`` the dataset's own IRIs (HTML or RDF by content negotiation).
Writes (SPARQL Update, Graph Store PUT/POST/DELETE) are refused: the server is read-only.
"""

from __future__ import annotations

import json
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from kg.core import queries
from kg.core.namespaces import BASE
from kg.core.version import __version__
from kg.serve import conneg
from kg.serve.answer import Answer
from kg.serve.workers import Pool, Timeout

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Accept",
    "Access-Control-Max-Age": "86400",
}
FORMAT_PARAM = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "turtle": "text/turtle",
    "nt": "application/n-triples",
    "jsonld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
    "html": "text/html",
}


def openapi(stored: dict[str, queries.StoredQuery], server_url: str) -> dict:
    """An OpenAPI 3.0 document with one operation per stored query and its parameters."""
    result_content = {m: {"schema": {"type": "string"}} for m in conneg.RESULTS if m != "application/json"}
    error = {
        "description": "bad parameter",
        "content": {
            "application/json": {"schema": {"type": "object", "properties": {"error": {"type": "string"}}}}
        },
    }
    paths: dict = {
        "/sparql": {
            "get": {
                "summary": "SPARQL 1.1 query (GET)",
                "operationId": "sparqlGet",
                "parameters": [
                    {"name": "query", "in": "query", "required": False, "schema": {"type": "string"}}
                ],
                "responses": {"200": {"description": "query results", "content": result_content}},
            }
        },
        "/api/queries": {
            "get": {
                "summary": "the stored queries",
                "operationId": "listQueries",
                "responses": {
                    "200": {
                        "description": "names, summaries and parameters",
                        "content": {"application/json": {"schema": {"type": "array"}}},
                    }
                },
            }
        },
    }
    for name, query in stored.items():
        parameters = []
        for p in query.parameters:
            schema: dict = {
                "type": {"integer": "integer", "decimal": "number", "boolean": "boolean"}.get(
                    p.type, "string"
                )
            }
            if p.type == "iri":
                schema["format"] = "uri"
            if p.example is not None:
                schema["example"] = p.example
            if p.name == "lang":
                schema["enum"] = ["nl", "en"]
            parameters.append(
                {
                    "name": p.name,
                    "in": "query",
                    "required": p.required,
                    "description": p.description or p.name,
                    "schema": schema,
                }
            )
        paths[f"/api/queries/{name}"] = {
            "get": {
                "summary": query.summary,
                "description": query.description or query.summary,
                "operationId": name.replace("-", "_"),
                "tags": list(query.tags),
                "parameters": parameters,
                "responses": {
                    "200": {"description": "query results", "content": result_content},
                    "400": error,
                },
            }
        }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "kg: citizen initiatives (Ruim op de Regels)",
            "version": __version__,
            "description": "SPARQL endpoint and stored queries of the kg knowledge graph.",
        },
        "servers": [{"url": server_url}],
        "paths": paths,
    }


class Server(ThreadingHTTPServer):
    """The HTTP server: one thread per request; SPARQL in the worker pool."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], pool: Pool, max_request_size: int):
        super().__init__(address, RequestHandler)
        self.pool, self.max_request_size = pool, max_request_size

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class RequestHandler(BaseHTTPRequestHandler):
    """Routes requests; answers come from the worker pool or, for static ones, from here."""

    server: Server
    server_version = f"kg/{__version__}"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write(f"kg serve: {self.address_string()} {format % args}\n")

    # --- plumbing -----------------------------------------------------------------------------
    def send(self, answer: Answer, head_only: bool = False) -> None:
        self.send_response(answer.status)
        for name, value in {
            **CORS,
            **answer.headers,
            "Content-Type": answer.media_type,
            "Content-Length": str(len(answer.body)),
        }.items():
            self.send_header(name, value)
        self.end_headers()
        if not head_only:
            self.wfile.write(answer.body)

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        body = json.dumps({"error": message}, ensure_ascii=False).encode()
        self.send(Answer(status, "application/json", body, headers or {}))

    def accept(self, params: dict[str, list[str]]) -> str | None:
        """The Accept header, or the media type a ``format`` parameter names."""
        fmt = params.get("format", [None])[0]
        return FORMAT_PARAM.get(fmt, fmt) if fmt else self.headers.get("Accept")

    def body(self) -> bytes | None:
        """The request body (read once), or None after answering 413 if it is too large."""
        if getattr(self, "_body", None) is not None:
            return self._body
        length = int(self.headers.get("Content-Length") or 0)
        if length > self.server.max_request_size:
            self.error(
                413, f"request body larger than {self.server.max_request_size} bytes", {"Connection": "close"}
            )
            self.close_connection = True
            return None
        self._body = self.rfile.read(length) if length else b""
        return self._body

    def work(self, op: str, args: dict) -> None:
        try:
            self.send(self.server.pool.call(op, args))
        except Timeout as err:
            self.error(503, str(err), {"Retry-After": "1"})

    # --- methods ------------------------------------------------------------------------------
    def do_OPTIONS(self) -> None:
        self.send(Answer(204, "text/plain", b"", {"Allow": "GET, POST, OPTIONS"}))

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if len(self.path) > self.server.max_request_size:
            return self.error(414, "request URL too long")
        params = parse_qs(url.query, keep_blank_values=True)
        path = unquote(url.path)
        if path == "/":
            return self.work("home", {})
        if path == "/sparql":
            if "query" in params:
                return self.work("sparql", {"query": params["query"][0], "accept": self.accept(params)})
            if "update" in params:
                return self.read_only()
            return self.work(
                "description", {"endpoint": self.server.url + "/sparql", "accept": self.accept(params)}
            )
        if path == "/api/queries":
            listing = [
                {
                    "name": n,
                    "summary": q.summary,
                    "tags": list(q.tags),
                    "parameters": [
                        {"name": p.name, "type": p.type, "required": p.required, "example": p.example}
                        for p in q.parameters
                    ],
                    "url": f"/api/queries/{n}",
                }
                for n, q in queries.stored().items()
            ]
            return self.send(
                Answer(200, "application/json", json.dumps(listing, ensure_ascii=False).encode(), {})
            )
        if path.startswith("/api/queries/"):
            name = path[len("/api/queries/") :]
            if name not in queries.stored():
                return self.error(404, f"unknown query {name!r}; known: {', '.join(queries.stored())}")
            values = {k: v[-1] for k, v in params.items() if k != "format"}
            return self.work("stored", {"name": name, "params": values, "accept": self.accept(params)})
        if path == "/openapi.json":
            doc = openapi(queries.stored(), self.server.url)
            return self.send(Answer(200, "application/json", json.dumps(doc, indent=2).encode(), {}))
        if path.startswith("/id/"):
            return self.work("describe", {"iri": BASE + path[1:], "accept": self.accept(params)})
        return self.error(404, f"no such page: {path}")

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        if unquote(url.path) != "/sparql":
            return self.read_only()
        data = self.body()
        if data is None:
            return None
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        params = parse_qs(url.query, keep_blank_values=True)
        if kind == "application/sparql-update":
            return self.read_only()
        if kind == "application/sparql-query":
            return self.work(
                "sparql", {"query": data.decode("utf-8", "replace"), "accept": self.accept(params)}
            )
        if kind == "application/x-www-form-urlencoded":
            form = parse_qs(data.decode("utf-8", "replace"), keep_blank_values=True)
            if "update" in form:
                return self.read_only()
            if "query" in form:
                return self.work(
                    "sparql", {"query": form["query"][0], "accept": self.accept({**params, **form})}
                )
            return self.error(400, "the form has no 'query' field")
        return self.error(415, "send application/sparql-query or an application/x-www-form-urlencoded form")

    def read_only(self) -> None:
        self.body()
        self.error(
            HTTPStatus.FORBIDDEN if self.command == "POST" and self.path.startswith("/sparql") else 405,
            "this endpoint is read-only: SPARQL Update and Graph Store writes are refused",
            {"Allow": "GET, POST, OPTIONS"},
        )

    do_PUT = do_DELETE = do_PATCH = read_only


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    data: list[Path] | None = None,
    *,
    timeout: float = 10.0,
    max_rows: int = 10000,
    max_request_size: int = 1_000_000,
    workers: int = 2,
) -> None:
    """Run the server until interrupted."""
    pool = Pool(data, size=workers, timeout=timeout, max_rows=max_rows)
    server = Server((host, port), pool, max_request_size)
    print(
        f"kg: serving {server.url}/ (SPARQL endpoint {server.url}/sparql); Ctrl-C stops",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        pool.close()
