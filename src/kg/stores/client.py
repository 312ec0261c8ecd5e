"""A SPARQL 1.1 Protocol client that works with any store: Virtuoso, Oxigraph server, Fuseki, GraphDB.

Queries go as GET when short, else as a form POST, or as a direct POST (SPARQL 1.1 Protocol,
section 2.1: the three operations). Which one an endpoint takes is found on first use (a 405, 414,
415 or 501 answer, or no answer at all, moves on to the next) and remembered for the rest of the
process: Virtuoso 7.2 never answers a direct POST (openlink/virtuoso-opensource#842), some proxies
refuse long GETs. Updates go as a form POST or a direct POST (section 2.2), graphs through the
Graph Store Protocol (PUT, POST, DELETE with ``?graph=``).

Credentials: Basic and Digest authentication (RFC 7617, RFC 7616; urllib answers whichever the store
asks for), with the user name given and the password from an environment variable or ``~/.netrc``,
never from the command line. Extra headers go with every request. Only ``http`` and ``https`` URLs;
a redirect is followed only to the same scheme, host and port, never silently elsewhere. A store
that cuts its answer short (Virtuoso's ``X-SPARQL-MaxRows``) is an error, not a shorter answer.
Every failure is one line: :class:`RemoteError` (exit status 2).
"""

from __future__ import annotations

import base64
import netrc
import os
import socket
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode, urlsplit

from kg.core.errors import InputError, UsageError
from kg.core.results import Result
from kg.stores.answers import RDF_ACCEPT, RESULTS_ACCEPT, parse

PASSWORD_VARIABLE = "KG_PASSWORD"
MAX_GET = 2000  # longest URL sent as GET (what proxies and servers commonly accept)
_FALLBACK = {405, 414, 415, 501}  # "not this way": try the next way of sending
_CHOSEN: dict[tuple[str, str], str] = {}  # (endpoint, "query" | "update") -> the way that worked


class RemoteError(InputError):
    """The remote store could not be reached, refused, answered with an error, or not in time."""


@dataclass(frozen=True)
class Access:
    """How to talk to a store: credentials, extra headers, and the time to wait for each answer."""

    user: str | None = None
    password: str | None = field(default=None, repr=False)
    headers: tuple[tuple[str, str], ...] = ()
    timeout: float = 60.0


def access(
    url: str,
    user: str | None = None,
    *,
    password_variable: str = PASSWORD_VARIABLE,
    headers: Sequence[str] = (),
    timeout: float = 60.0,
) -> Access:
    """The Access for ``url``: ``user`` with the password from ``$password_variable`` or ``~/.netrc``
    (which may also name the user); ``headers`` as ``"Name: value"`` lines."""
    pairs = []
    for line in headers:
        name, sep, value = line.partition(":")
        if not sep or not name.strip() or any(c in line for c in "\r\n\0"):
            raise UsageError(f"--header {line!r}: expected 'Name: value' on one line")
        pairs.append((name.strip(), value.strip()))
    password = os.environ.get(password_variable) if user else None
    if password is None:
        host = urlsplit(url).hostname or ""
        try:
            entry = netrc.netrc().authenticators(host)
        except (FileNotFoundError, netrc.NetrcParseError, OSError):
            entry = None
        if entry is not None and (user is None or entry[0] == user):
            user, password = entry[0], entry[2]
    if user and password is None:
        raise UsageError(
            f"--user {user}: no password (set {password_variable}, or add {urlsplit(url).hostname} "
            "to ~/.netrc; kg takes no password on the command line)"
        )
    if timeout <= 0:
        raise UsageError("--timeout must be positive")
    return Access(user, password, tuple(pairs), timeout)


class _SameOrigin(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to the same scheme, host and port."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        old, new = urlsplit(req.full_url), urlsplit(newurl)
        if (old.scheme, old.hostname, old.port) != (new.scheme, new.hostname, new.port):
            raise RemoteError(f"{req.full_url}: redirected ({code}) to {newurl}, elsewhere: not followed")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def check_url(url: str, what: str = "--endpoint") -> str:
    """``url`` if it is an http(s) URL with a host; UsageError otherwise (never file: or ftp:)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{what} {url!r}: expected an http:// or https:// URL")
    if parts.username or parts.password:
        raise UsageError(
            f"{what}: no user or password in the URL (use --user, with the password in "
            f"{PASSWORD_VARIABLE} or ~/.netrc)"
        )
    return url


class Client:
    """One SPARQL endpoint (and optionally its update and Graph Store endpoints), with an Access."""

    def __init__(self, endpoint: str, how: Access | None = None):
        self.endpoint = check_url(endpoint)
        self.how = how or Access()
        handlers: list = [_SameOrigin()]
        if self.how.user:
            manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            parts = urlsplit(self.endpoint)  # the whole origin: query, update and store endpoints
            manager.add_password(None, f"{parts.scheme}://{parts.netloc}/", self.how.user, self.how.password)
            # Digest first: urllib's Basic handler gives up on a Digest challenge
            handlers += [
                urllib.request.HTTPDigestAuthHandler(manager),
                urllib.request.HTTPBasicAuthHandler(manager),
            ]
        self._opener = urllib.request.build_opener(*handlers)
        self._digest = handlers[1] if self.how.user else None
        self.server = ""  # the Server header of the last answer

    # --- transport ------------------------------------------------------------------------------

    def _send(
        self, url: str, data: bytes | None, headers: dict[str, str], method: str
    ) -> tuple[bytes, str, dict]:
        request = urllib.request.Request(
            url, data=data, headers={**dict(self.how.headers), **headers}, method=method
        )
        where = url.split("?")[0]
        if self.how.user and data is not None and len(data) > 32_768:
            self._authorise(request)
        try:
            with self._opener.open(request, timeout=self.how.timeout) as response:
                body = response.read()
                self.server = response.headers.get("Server", "")
                return body, response.headers.get("Content-Type", ""), dict(response.headers)
        except urllib.error.HTTPError as err:
            detail = " ".join(err.read(300).decode("utf-8", "replace").split())
            if err.code in (401, 403):
                who = f"user {self.how.user}" if self.how.user else "no user (give --user)"
                raise RemoteError(f"{where}: not authorised ({err.code} {err.reason}) with {who}") from None
            error = RemoteError(
                f"{where}: the server answered {err.code} {err.reason}" + (f": {detail}" if detail else "")
            )
            error.status = err.code  # type: ignore[attr-defined]
            raise error from None
        except TimeoutError:
            raise _timeout(where, self.how.timeout) from None
        except urllib.error.URLError as err:
            reason = err.reason
            if isinstance(reason, (TimeoutError, socket.timeout)):
                raise _timeout(where, self.how.timeout) from None
            raise RemoteError(
                f"{where}: cannot reach the server: {getattr(reason, 'strerror', None) or reason}"
            ) from None
        except ValueError as err:  # urllib: an unknown auth scheme, a malformed URL
            raise RemoteError(f"{where}: {err}") from None
        except OSError as err:
            raise RemoteError(f"{where}: {err.strerror or err}") from None

    def _authorise(self, request: urllib.request.Request) -> None:
        """Answer the auth challenge before sending a large body: a store that refuses the body
        unauthorised (401) closes the connection while it is still being sent (a broken pipe), so
        the challenge is fetched with a bodiless HEAD first (RFC 7616 section 3.4; RFC 7617)."""
        probe = urllib.request.Request(request.full_url, headers=dict(self.how.headers), method="HEAD")
        try:
            with urllib.request.build_opener(_SameOrigin()).open(probe, timeout=self.how.timeout):
                return  # no challenge
        except urllib.error.HTTPError as err:
            challenge = err.headers.get("WWW-Authenticate", "") if err.code == 401 else ""
        except OSError:
            return  # the real request reports it
        scheme = challenge.split(" ", 1)[0].lower()
        if scheme == "digest" and self._digest is not None:
            fields = urllib.request.parse_keqv_list(
                urllib.request.parse_http_list(challenge.split(" ", 1)[1])
            )
            header = self._digest.get_authorization(request, fields)
            if header:
                request.add_unredirected_header("Authorization", f"Digest {header}")
        elif scheme == "basic":
            token = base64.b64encode(f"{self.how.user}:{self.how.password}".encode()).decode("ascii")
            request.add_unredirected_header("Authorization", f"Basic {token}")

    def _try(
        self, url: str, kind: str, ways: list[tuple[str, str, bytes | None, dict]]
    ) -> tuple[bytes, str, dict]:
        """Send by the way remembered for ``url``, else each way in turn until one is taken."""
        key = (url, kind)
        known = _CHOSEN.get(key)
        if known is not None:
            ways = sorted(ways, key=lambda w: w[0] != known)
        last: RemoteError | None = None
        for name, url, data, headers in ways:
            try:
                answer = self._send(url, data, headers, "GET" if data is None else "POST")
            except RemoteError as err:
                status = getattr(err, "status", None)
                if status in _FALLBACK or (getattr(err, "timed_out", False) and known is None):
                    last = err
                    continue
                raise
            _CHOSEN[key] = name
            return answer
        assert last is not None
        raise last

    # --- the protocol ---------------------------------------------------------------------------

    def query(
        self,
        text: str,
        *,
        graph_form: bool = False,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
    ) -> Result:
        """Run a query; ``default_graphs`` and ``named_graphs`` set the dataset (section 2.1.4)."""
        params = [("default-graph-uri", g) for g in default_graphs or ()]
        params += [("named-graph-uri", g) for g in named_graphs or ()]
        accept = {"Accept": RDF_ACCEPT if graph_form else RESULTS_ACCEPT}
        form = urlencode([("query", text), *params]).encode("utf-8")
        get = f"{self.endpoint}{'&' if '?' in self.endpoint else '?'}{form.decode('ascii')}"
        direct = self.endpoint + (
            f"{'&' if '?' in self.endpoint else '?'}{urlencode(params)}" if params else ""
        )
        ways = [
            ("form", self.endpoint, form, {**accept, "Content-Type": "application/x-www-form-urlencoded"}),
            ("direct", direct, text.encode("utf-8"), {**accept, "Content-Type": "application/sparql-query"}),
        ]
        if len(get) <= MAX_GET:
            ways.insert(0, ("get", get, None, accept))
        body, media, headers = self._try(self.endpoint, "query", ways)
        cut = {k.lower(): v for k, v in headers.items()}.get("x-sparql-maxrows")
        if cut:
            raise RemoteError(
                f"{self.endpoint}: the store cut the answer at {cut} rows (its result limit, e.g. "
                "Virtuoso's ResultSetMaxRows): raise the limit, or ask for fewer rows"
            )
        return parse(body, media, self.endpoint)

    def update(self, text: str, endpoint: str | None = None) -> None:
        """Run a SPARQL 1.1 Update on ``endpoint`` (default: this client's)."""
        url = check_url(endpoint or self.endpoint, "--update-endpoint")
        form = urlencode([("update", text)]).encode("utf-8")
        self._try(
            url,
            "update",
            [
                ("form", url, form, {"Content-Type": "application/x-www-form-urlencoded"}),
                ("direct", url, text.encode("utf-8"), {"Content-Type": "application/sparql-update"}),
            ],
        )

    def graph(self, store: str, graph: str, method: str, body: bytes | None = None) -> None:
        """A Graph Store Protocol request (sections 5.3-5.6) on the named graph ``graph``."""
        url = check_url(store, "--endpoint")
        target = f"{url}{'&' if '?' in url else '?'}graph={quote(graph, safe='')}"
        headers = {"Content-Type": "application/n-triples"} if body is not None else {}
        self._send(target, body, headers, method)


def _timeout(where: str, seconds: float) -> RemoteError:
    error = RemoteError(f"{where}: no answer within {seconds:g} s")
    error.timed_out = True  # type: ignore[attr-defined]
    return error
