"""HTTP content negotiation (RFC 9110, section 12.5.1): pick a media type by the Accept header's q-values."""

from __future__ import annotations

RESULTS = {  # media type -> kg result format name, for SELECT and ASK
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "application/json": "json",
}
GRAPHS = {  # for CONSTRUCT and DESCRIBE, and linked-data pages
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "jsonld",
    "application/rdf+xml": "xml",
}
MEDIA_TYPE = {
    **{v: k for k, v in reversed(list(RESULTS.items()))},
    "turtle": "text/turtle",
    "nt": "application/n-triples",
    "jsonld": "application/ld+json",
}


def parse_accept(header: str | None) -> list[tuple[str, float, int]]:
    """(media range, q, index) for each entry of an Accept header."""
    ranges = []
    for index, part in enumerate((header or "*/*").split(",")):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0]:
            continue
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        ranges.append((fields[0].lower(), q, index))
    return ranges


def negotiate(header: str | None, offers: list[str]) -> str | None:
    """The offered media type the client prefers (first offer wins ties); None if none is acceptable."""
    best, best_key = None, None
    ranges = parse_accept(header)
    for order, offer in enumerate(offers):
        kind = offer.split("/")[0]
        matches = [
            (q, 2 if r == offer else 1 if r == f"{kind}/*" else 0)
            for r, q, _ in ranges
            if r in (offer, f"{kind}/*", "*/*")
        ]
        if not matches:
            continue
        q, _ = max(matches, key=lambda m: (m[1], m[0]))  # the most specific matching range decides
        if q <= 0:
            continue
        key = (q, -order)
        if best_key is None or key > best_key:
            best, best_key = offer, key
    return best


def negotiate_language(header: str | None, offers: list[str]) -> str | None:
    """The offered language the client prefers by Accept-Language (RFC 9110, section 12.5.4), matching
    primary subtags (``en-GB`` matches ``en``); None if the header names none of them."""
    best, best_key = None, None
    for tag, q, index in parse_accept(header or ""):
        primary = tag.split("-")[0]
        for order, offer in enumerate(offers):
            if q > 0 and primary in (offer, "*"):
                key = (q, -index, -order)
                if best_key is None or key > best_key:
                    best, best_key = offer, key
    return best


def content_type(media: str) -> str:
    """The Content-Type of an answer of type ``media``: a text type says its charset, UTF-8, since without
    one a text/* type is US-ASCII (RFC 2046, section 4.1.2; RFC 4180 for text/csv) and clients read the
    UTF-8 bytes of non-ASCII names (Dorpscoöperatie) as Latin-1."""
    if media.startswith("text/") and "charset=" not in media.lower():
        return media + "; charset=utf-8"
    return media
