"""``kg serve``: a read-only SPARQL 1.1 Protocol endpoint, the stored queries as a web API, and
linked-data pages. HTTP is handled by uvicorn (h11: keep-alive, Content-Length and chunked bodies, HEAD,
header limits) running a Starlette app; the SPARQL work runs in kg.serve.workers, and long answers are
sent as they are written (kg.serve.relay).

Routes: ``/`` home page with query editor · ``/sparql`` and ``/sparql/`` (GET, POST form or
application/sparql-query; the service description without a query) · ``/api/queries`` and
``/api/queries/{name}?param=value`` · ``/openapi.json`` · ``/id/...``, ``/def/...`` and ``/def`` (the
ontology): the dataset's own IRIs, HTML or RDF by content negotiation · ``/static/...``.
Writes (SPARQL Update, Graph Store PUT/POST/DELETE) are refused: the server is read-only.
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path
from urllib.parse import unquote_to_bytes

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kg.core import queries
from kg.core.namespaces import BASE, PREFIXES
from kg.core.version import __version__
from kg.serve import conneg, pages
from kg.serve.contract import Answer, Settings
from kg.serve.relay import CutLog, Relay
from kg.serve.workers import Busy, Pool, Stream, StreamCut

READ_ONLY = "this endpoint is read-only: SPARQL Update and Graph Store writes are refused"
# The two hashes allow exactly the two <style> elements YASGUI's table column resizer inserts (its
# fixed rules, and a cursor while dragging); any other inline style or script is refused (README).
YASGUI_STYLES = " ".join(
    (
        "'sha256-zCK2EVMoPc04mRF/g5CotUvxbJPWS+8V0b+s9ptqQIk='",
        "'sha256-c0O6TmFAkgpNbHxKAa1BrveWHHopjEtC47i0PzMudxg='",
    )
)
CSP = (
    f"default-src 'self'; script-src 'self'; style-src 'self' {YASGUI_STYLES}; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
STATIC = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".map": "application/json",
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
    string = {"schema": {"type": "string"}}
    headers = {
        "X-KG-Truncated": {"description": "the server's row limit cut the answer, and by how much", **string},
        "X-KG-Row-Limit": {
            "description": "on a long answer sent as it is computed (its head cannot say whether it will "
            "be cut): the server's row limit",
            **string,
        },
    }
    results = {"description": "query results", "headers": headers, "content": result_content}
    fmt = {
        "name": "format",
        "in": "query",
        "required": False,
        "description": "the answer's format, instead of the Accept header: json, xml, csv or tsv for SELECT "
        "and ASK, an RDF format for CONSTRUCT and DESCRIBE (a media type is also accepted; any other value "
        "is a 400)",
        "schema": {"type": "string", "enum": [f for f in FORMAT_PARAM if f != "html"]},
    }
    busy = {**error, "description": "every worker is busy: try again after Retry-After seconds"}
    paths: dict = {
        "/sparql": {
            "get": {
                "summary": "SPARQL 1.1 query (GET)",
                "operationId": "sparqlGet",
                "parameters": [
                    {"name": "query", "in": "query", "required": False, "schema": {"type": "string"}},
                    fmt,
                ],
                "responses": {
                    "200": results,
                    "400": {
                        **error,
                        "description": "a SPARQL syntax error, a refused query, a bad parameter (query or "
                        "format given twice, an unknown format, not valid UTF-8) or no answer in time",
                    },
                    "406": {**error, "description": "no acceptable format for this answer"},
                    "503": busy,
                },
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
    page = {
        "name": "page",
        "in": "query",
        "required": False,
        "description": "only this page (from 1) of the answer: the query's '#+ pagination' rows, else 100",
        "schema": {"type": "integer", "minimum": 1},
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
                "parameters": [*parameters, fmt, page],
                "responses": {
                    "200": {
                        **results,
                        "headers": {
                            **headers,
                            "Link": {
                                "description": "with page: the first, previous and next pages (RFC 8288)",
                                **string,
                            },
                        },
                    },
                    "400": {
                        **error,
                        "description": "a bad parameter (missing, unknown, given twice, not valid UTF-8, or "
                        "a value its type or list does not allow), or no answer in time",
                    },
                    "406": {**error, "description": "no acceptable format for this answer"},
                    "503": busy,
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


class Limits:
    """What the HTTP layer refuses before any SPARQL work: request size and the query checks."""

    def __init__(self, max_request_size: int, allow_service: tuple[str, ...], cors_origin: str):
        self.max_request_size, self.allow_service, self.cors_origin = (
            max_request_size,
            allow_service,
            cors_origin,
        )


class Problem(Exception):
    """An HTTP error answered before the workers are asked."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.headers = status, headers or {}


def language(request: Request, params: dict[str, list[str]]) -> str:
    """The page language: ``?lang=``, else the Accept-Language header (RFC 9110, 12.5.4), else Dutch."""
    wanted = params.get("lang", [None])[-1]
    if wanted in pages.LANGUAGES:
        return wanted
    best = conneg.negotiate_language(request.headers.get("accept-language"), list(pages.LANGUAGES))
    return best or "nl"


def wants_html(request: Request) -> bool:
    """True when the client prefers HTML over JSON (a browser)."""
    return conneg.negotiate(
        request.headers.get("accept"), ["application/json", "text/html"]
    ) == "text/html" and "text/html" in request.headers.get("accept", "")


_UPDATE_FIELDS = ("update", "using-graph-uri", "using-named-graph-uri")  # SPARQL 1.1 Protocol, 2.2


def _query_params(request: Request, *, strict: bool = True) -> dict[str, list[str]]:
    """The parameters of the request's URL (see :func:`_fields`)."""
    return _fields(request.scope.get("query_string", b""), strict=strict)


def _fields(raw: bytes, *, strict: bool = True) -> dict[str, list[str]]:
    """Name -> values of an ``application/x-www-form-urlencoded`` string (a URL query or a form
    body; WHATWG URL Standard, section 5.1): fields split at ``&``, ``+`` is a space, percent escapes
    are bytes, and the bytes are UTF-8. With ``strict``, a name or value that is not valid UTF-8 is a
    400 naming it; otherwise its bad bytes become U+FFFD (for pages, which only pick a language)."""
    fields: dict[str, list[str]] = {}
    for field in raw.split(b"&"):
        if not field:
            continue
        name_bytes, _, value_bytes = field.partition(b"=")
        name_bytes, value_bytes = (unquote_to_bytes(b.replace(b"+", b" ")) for b in (name_bytes, value_bytes))
        try:
            name = name_bytes.decode("utf-8")
        except UnicodeDecodeError:
            if strict:
                raise Problem(400, "a parameter name is not valid UTF-8") from None
            name = name_bytes.decode("utf-8", "replace")
        try:
            value = value_bytes.decode("utf-8")
        except UnicodeDecodeError as err:
            if strict:
                raise Problem(400, _not_utf8(name, f"byte {err.start}")) from None
            value = value_bytes.decode("utf-8", "replace")
        fields.setdefault(name, []).append(value)
    return fields


def _not_utf8(name: str, where: str) -> str:
    """The error for a parameter whose bytes are not UTF-8 (``where``: the first bad byte)."""
    if name == "query":
        return f"the query is not valid UTF-8 (parameter 'query', {where})"
    return f"parameter {name!r} is not valid UTF-8 ({where})"


def _single(params: dict[str, list[str]], name: str) -> str | None:
    """The one value of parameter ``name`` (None: not given); 400 if it is given more than once."""
    values = params.get(name, [])
    if len(values) > 1:
        raise Problem(400, _repeated(name, len(values)))
    return values[0] if values else None


def _repeated(name: str, count: int) -> str:
    return f"{count} {name!r} parameters: send exactly one"


async def _body(request: Request, limit: int) -> bytes:
    """The request body, read as it arrives (Content-Length or chunked); 413 past ``limit`` bytes."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, f"request body larger than {limit} bytes", {"Connection": "close"})
        chunks.append(chunk)
    return b"".join(chunks)


def _charset(content_type: str) -> None:
    """400 unless the body's charset is UTF-8 (SPARQL 1.1 Protocol, sections 2.1.2 and 2.1.3)."""
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        value = value.strip().strip('"')
        if name.strip().lower() == "charset" and value.lower().replace("_", "-") not in ("utf-8", "utf8"):
            raise Problem(400, f"charset {value} is not supported: send the query in UTF-8")


def _query_text(data: bytes) -> str:
    """The query sent directly as the request body (SPARQL 1.1 Protocol, section 2.1.3)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise Problem(400, f"the query is not valid UTF-8 (the request body, byte {err.start})") from None


class App:
    """The routes; answers come from the worker pool or, for static ones, from here."""

    def __init__(self, pool: Pool, limits: Limits):
        self.pool, self.limits = pool, limits
        routes = [
            Route("/", self.home, methods=["GET", "HEAD"]),
            Route("/sparql", self.sparql, methods=["GET", "HEAD", "POST", "OPTIONS"]),
            Route("/sparql/", self.sparql, methods=["GET", "HEAD", "POST", "OPTIONS"]),
            Route("/api/queries", self.listing, methods=["GET", "HEAD", "OPTIONS"]),
            Route("/api/queries/{name}", self.stored, methods=["GET", "HEAD", "POST", "OPTIONS"]),
            Route("/api/prefixes", self.prefixes, methods=["GET", "HEAD", "OPTIONS"]),
            Route("/openapi.json", self.openapi, methods=["GET", "HEAD", "OPTIONS"]),
            Route("/static/{name:path}", self.static, methods=["GET", "HEAD"]),
            Route("/favicon.ico", self.favicon, methods=["GET", "HEAD"]),
            Route("/schema", self.schema, methods=["GET", "HEAD", "OPTIONS"]),
            Route("/def", self.describe, methods=["GET", "HEAD", "OPTIONS"]),
            Route("/def/{rest:path}", self.describe, methods=["GET", "HEAD", "OPTIONS"]),
            Route("/id/{rest:path}", self.describe, methods=["GET", "HEAD", "OPTIONS"]),
        ]
        self.app = Starlette(routes=routes)
        self.app.add_exception_handler(404, self.not_found)
        self.app.add_exception_handler(405, self.not_allowed)

    async def __call__(self, scope: dict, receive: object, send: object) -> None:
        await self.app(scope, receive, send)

    # --- plumbing -----------------------------------------------------------------------------
    def headers(self, answer: Answer, *, data: bool = False) -> dict[str, str]:
        """The answer's headers with security headers; CORS only on read-only data (``data``) and
        non-HTML."""
        headers = {**answer.headers, "X-Content-Type-Options": "nosniff"}
        if answer.media_type.startswith("text/html"):
            headers["Content-Security-Policy"] = CSP
            headers["X-Frame-Options"] = "DENY"
            headers["Referrer-Policy"] = "same-origin"
        elif data:
            headers["Access-Control-Allow-Origin"] = self.limits.cors_origin
            if self.limits.cors_origin != "*":
                headers["Vary"] = ", ".join(filter(None, [headers.get("Vary"), "Origin"]))
        return headers

    def respond(
        self, request: Request, answer: Answer, *, data: bool = False, length: int | None = None
    ) -> Response:
        """The answer with security headers (see :meth:`headers`); a HEAD request gets the length of
        the body (``length``, or the body's) and no body."""
        body = b"" if request.method == "HEAD" else answer.body
        response = Response(body, answer.status, self.headers(answer, data=data), media_type=None)
        response.headers["content-type"] = conneg.content_type(answer.media_type)
        if request.method == "HEAD":
            response.headers["content-length"] = str(len(answer.body) if length is None else length)
        return response

    def fail(
        self, request: Request, status: int, message: str, headers: dict | None = None, data: bool = False
    ) -> Response:
        """An error: an HTML page for a browser, else JSON ``{"error": ...}``."""
        if wants_html(request):
            lang = language(request, _query_params(request, strict=False))
            body = pages.error_page(status, message, lang).encode()
            return self.respond(request, Answer(status, "text/html; charset=utf-8", body, headers or {}))
        body = json.dumps({"error": message}, ensure_ascii=False).encode()
        return self.respond(request, Answer(status, "application/json", body, headers or {}), data=data)

    async def work(self, request: Request, op: str, args: dict, *, data: bool = True) -> Response:
        try:
            answer = await self.pool.call(op, args)
        except Busy as err:
            return self.fail(request, 503, str(err), {"Retry-After": "2"}, data=data)
        if isinstance(answer, Stream):
            return await self.relay(request, answer, data=data)
        if answer.status >= 400 and wants_html(request):
            message = (
                json.loads(answer.body).get("error", "") if answer.media_type == "application/json" else ""
            )
            return self.fail(request, answer.status, message, answer.headers)
        return self.respond(request, answer, data=data)

    async def relay(self, request: Request, stream: Stream, *, data: bool) -> Response:
        """A streamed answer sent as it comes (kg.serve.relay). HEAD reads it to the end to give its
        length (holding one chunk at a time); an HTTP/1.0 client gets it whole, since without chunked
        coding a cut answer could not be told from a whole one."""
        head = stream.head
        if request.method != "HEAD" and request.scope.get("http_version") != "1.0":
            headers = self.headers(head, data=data)
            headers["content-type"] = conneg.content_type(head.media_type)
            return Relay(stream, headers)
        parts: list[bytes] = []
        length = 0
        try:
            async for chunk in stream.chunks():
                length += len(chunk)
                if request.method != "HEAD":
                    parts.append(chunk)
        except StreamCut as err:
            return self.fail(request, err.answer.status, str(err), err.answer.headers, data=data)
        finally:
            stream.close()
        answer = Answer(head.status, head.media_type, b"".join(parts), {**head.headers, **stream.trailers})
        return self.respond(request, answer, data=data, length=length)

    def preflight(self, request: Request) -> Response:
        return self.respond(
            request,
            Answer(
                204,
                "text/plain",
                b"",
                {
                    "Allow": "GET, HEAD, POST, OPTIONS",
                    "Access-Control-Allow-Methods": "GET, HEAD, POST, OPTIONS",
                    "Access-Control-Allow-Headers": "Content-Type, Accept",
                    "Access-Control-Max-Age": "86400",
                },
            ),
            data=True,
        )

    def accept(self, request: Request, params: dict[str, list[str]]) -> str | None:
        """The Accept header, or the media type a ``format`` parameter names: one of
        :data:`FORMAT_PARAM`, or a media type (negotiated as an Accept header would be). 400 for any
        other value, or for more than one (an empty one counts as none)."""
        fmt = _single(params, "format")
        if not fmt:
            return request.headers.get("accept")
        if fmt in FORMAT_PARAM:
            return FORMAT_PARAM[fmt]
        if "/" in fmt:
            return fmt
        raise Problem(
            400,
            f"parameter format: {fmt!r} is not a format; use one of: {', '.join(FORMAT_PARAM)} "
            "(or a media type)",
        )

    async def not_found(self, request: Request, exc: Exception) -> Response:
        if request.method not in ("GET", "HEAD", "OPTIONS"):  # Graph Store writes and the like
            return self.fail(request, 405, READ_ONLY, {"Allow": "GET, HEAD, POST, OPTIONS"})
        return self.fail(request, 404, f"no such page: {request.url.path}")

    async def not_allowed(self, request: Request, exc: Exception) -> Response:
        status = 403 if request.method == "POST" else 405
        return self.fail(request, status, READ_ONLY, {"Allow": "GET, HEAD, POST, OPTIONS"})

    # --- routes -------------------------------------------------------------------------------
    async def home(self, request: Request) -> Response:
        params = _query_params(request, strict=False)
        return await self.work(request, "home", {"lang": language(request, params)}, data=False)

    async def sparql(self, request: Request) -> Response:
        """SPARQL 1.1 Protocol, section 2.1: query via GET, POST form or POST directly."""
        if request.method == "OPTIONS":
            return self.preflight(request)
        try:
            params = _query_params(request)
            query = await self._query(request, params)
            accept = self.accept(request, params)
        except Problem as err:
            return self.fail(request, err.status, str(err), err.headers, data=True)
        endpoint = f"{request.url.scheme}://{request.url.netloc}/sparql"
        if query is None:
            return await self.work(request, "description", {"endpoint": endpoint, "accept": accept})
        # the query checks (size, nesting, SERVICE) run once, in the worker, on the one query path
        args = {
            "query": query,
            "accept": accept,
            "base": endpoint,
            "default_graphs": params.get("default-graph-uri", []),
            "named_graphs": params.get("named-graph-uri", []),
        }
        return await self.work(request, "sparql", args)

    async def _query(
        self, request: Request, params: dict[str, list[str]], *, form_needs_query: bool = True
    ) -> str | None:
        """The query text of the request (None: no query), adding form fields to ``params``."""
        if any(key in params for key in _UPDATE_FIELDS):
            raise Problem(403 if request.method == "POST" else 400, READ_ONLY)
        queries_ = list(params.get("query", []))
        if request.method == "POST":
            content_type = request.headers.get("content-type", "")
            kind = content_type.split(";")[0].strip().lower()
            data = await _body(request, self.limits.max_request_size)
            if kind == "application/sparql-update":
                raise Problem(403, READ_ONLY)
            if kind == "application/sparql-query":
                _charset(content_type)
                queries_.append(_query_text(data))
            elif kind == "application/x-www-form-urlencoded":
                _charset(content_type)
                form = _fields(data)
                if any(key in form for key in _UPDATE_FIELDS):  # as in the URL
                    raise Problem(403, READ_ONLY)
                for key, values in form.items():
                    params.setdefault(key, []).extend(values) if key != "query" else queries_.extend(values)
                if not queries_ and form_needs_query:
                    raise Problem(400, "the form has no 'query' field")
            else:
                raise Problem(
                    415,
                    "send application/sparql-query or an application/x-www-form-urlencoded "
                    "form (SPARQL 1.1 Protocol, section 2.1)",
                )
        elif len(request.url.query) > self.limits.max_request_size:
            raise Problem(414, "request URL too long")
        if len(queries_) > 1:
            raise Problem(400, _repeated("query", len(queries_)))
        return queries_[0] if queries_ else None

    async def listing(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return self.preflight(request)
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
        body = json.dumps(listing, ensure_ascii=False).encode()
        return self.respond(request, Answer(200, "application/json", body), data=True)

    async def stored(self, request: Request) -> Response:
        """A stored query with its parameters (GET), or, POSTed with a ``query`` field, its text as edited
        in the editor: the parameters the edited text names are validated and bound the same way."""
        if request.method == "OPTIONS":
            return self.preflight(request)
        name = request.path_params["name"]
        if name not in queries.stored():
            return self.fail(
                request, 404, f"unknown query {name!r}; known: {', '.join(queries.stored())}", data=True
            )
        text = None
        try:
            params = _query_params(request)
            if request.method == "POST":  # the text is checked in the worker (KnowledgeGraph.query)
                text = await self._query(request, params, form_needs_query=False)
            for key, given in params.items():  # in the URL and the form together
                if len(given) > 1:
                    raise Problem(400, _repeated(key, len(given)))
            accept = self.accept(request, params)
        except Problem as err:
            return self.fail(request, err.status, str(err), err.headers, data=True)
        values = {k: v[0] for k, v in params.items() if k not in ("format", "page")}
        lang = values.get("lang", "nl")  # the query's lang parameter: one of kg's languages (kg.core.queries)
        page = params.get("page", [None])[0]
        if page is not None and not (page.isascii() and page.isdigit() and 0 < int(page) < 10**9):
            return self.fail(request, 400, f"page must be a whole number from 1, not {page!r}", data=True)
        args = {"name": name, "params": values, "lang": lang, "accept": accept}
        if text is not None:
            args["text"] = text
        if page is not None:
            args["page"] = int(page)
        return await self.work(request, "stored", args)

    async def prefixes(self, request: Request) -> Response:
        """kg's prefixes as ``{"prefix": "namespace IRI"}`` (what the editor completes after PREFIX)."""
        if request.method == "OPTIONS":
            return self.preflight(request)
        body = json.dumps(PREFIXES, ensure_ascii=False).encode()
        answer = Answer(200, "application/json", body, {"Cache-Control": "public, max-age=3600"})
        return self.respond(request, answer, data=True)

    async def openapi(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return self.preflight(request)
        doc = openapi(queries.stored(), f"{request.url.scheme}://{request.url.netloc}")
        return self.respond(
            request, Answer(200, "application/json", json.dumps(doc, indent=2).encode()), data=True
        )

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        folder = resources.files("kg.serve") / "static"
        parts = name.split("/")
        suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
        if any(p in ("", ".", "..") for p in parts) or suffix not in STATIC:
            return self.fail(request, 404, f"no such page: {request.url.path}")
        target = folder.joinpath(*parts)
        if not target.is_file():
            return self.fail(request, 404, f"no such page: {request.url.path}")
        answer = Answer(200, STATIC[suffix], target.read_bytes(), {"Cache-Control": "public, max-age=3600"})
        return self.respond(request, answer)

    async def favicon(self, request: Request) -> Response:
        """No icon: 204, so that browsers neither log a 404 nor ask again for a day."""
        return self.respond(
            request, Answer(204, "image/x-icon", b"", {"Cache-Control": "public, max-age=86400"})
        )

    async def schema(self, request: Request) -> Response:
        """What ``kg schema`` prints: HTML, JSON, plain text or RDF by content negotiation."""
        if request.method == "OPTIONS":
            return self.preflight(request)
        params = _query_params(request, strict=False)
        try:
            args = {"accept": self.accept(request, params), "lang": language(request, params)}
        except Problem as err:
            return self.fail(request, err.status, str(err), err.headers, data=True)
        return await self.work(request, "schema", args)

    async def describe(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return self.preflight(request)
        iri = BASE + request.url.path[1:]
        params = _query_params(request, strict=False)
        if any(c in iri for c in ' <>"{}|^`') or any(ord(c) < 33 for c in iri):
            return self.fail(request, 404, f"nothing is known about {iri}")
        try:
            args = {"iri": iri, "accept": self.accept(request, params), "lang": language(request, params)}
        except Problem as err:
            return self.fail(request, err.status, str(err), err.headers, data=True)
        return await self.work(request, "describe", args)


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    data: list[Path] | None = None,
    *,
    timeout: float = 10.0,
    max_rows: int = 10000,
    max_request_size: int = 1_000_000,
    workers: int = 2,
    queue: int = 64,
    memory_cap: int = 1024,
    allow_service: list[str] | None = None,
    cors_origin: str = "*",
    named_graphs: list[tuple[str, str]] | None = None,
    base: str | None = None,
    validate: bool = True,
) -> None:
    """Run the server until interrupted (``memory_cap`` in MB per query worker); relative IRIs in the
    files resolve against ``base``, or each file's own IRI. Data that does not conform to the shapes is
    refused (NotConforming, with the report) unless ``validate`` is False."""
    import asyncio
    import logging

    import uvicorn

    settings = Settings(
        data=tuple(str(p) for p in data) if data else None,
        named_graphs=tuple(named_graphs or ()),
        max_rows=max_rows,
        memory_cap=memory_cap * 1024 * 1024,
        allow_service=tuple(allow_service or ()),
        base=base,
        validate=validate,
    )
    pool = Pool(settings, workers=workers, timeout=timeout, queue=queue)
    app = App(pool, Limits(max_request_size, settings.allow_service, cors_origin))
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http="h11",
        loop="asyncio",
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_keep_alive=5,
        h11_max_incomplete_event_size=16 * 1024,
        limit_concurrency=1000,
        server_header=False,
        headers=[("server", f"kg/{__version__}")],
    )
    logging.getLogger("uvicorn.error").addFilter(CutLog())
    server = uvicorn.Server(config)
    print(
        f"kg: serving http://{host}:{port}/ (SPARQL endpoint http://{host}:{port}/sparql); Ctrl-C stops",
        file=sys.stderr,
        flush=True,
    )
    try:
        asyncio.run(server.serve())
    except KeyboardInterrupt:
        pass
    finally:
        pool.close()
