"""Where a subject is defined: the file and line where it is first written as a subject with its type.

A file that writes the subject with its type (``ex:a a ex:T``, as ``kg fmt`` writes ``a`` first) wins
over one that only says something about it (``data/imports.ttl``, which sorts before the initiatives'
files, says ``init:x prov:wasInfluencedBy ...``); with no typed line anywhere, the first line that
writes it as a subject counts.

Used by validation reports to point a steward at the line to edit. Nothing is recorded while loading
(loading stays as fast as it was): after a validation, only the subjects that have findings are looked
for, by reading the loaded files' text once, in load order, and stopping when every one is found.

What counts as "written as a subject" is the first token of a line that does not start with white space:
``<iri>`` (resolved against the file's base, RFC 3986 section 5) or ``prefix:local`` expanded with the
file's ``@prefix``/``PREFIX`` declarations (Turtle 1.1 section 6.3, TriG, and N-Triples/N-Quads, whose
every line starts with its subject); in RDF/XML an ``rdf:about`` attribute, in JSON-LD an ``@id``.
kg's own files (``kg fmt``) start every subject on a new line; a subject written elsewhere on a line is
simply not located, never located wrongly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urljoin

# a subject followed by its type: ``a``, ``rdf:type`` or the full IRI (Turtle 1.1 section 2.4)
_TYPED = re.compile(rb"[^\s;,]+\s+(?:a|rdf:type|<http://www\.w3\.org/1999/02/22-rdf-syntax-ns#type>)\s")
_TOKEN = re.compile(rb"^([^\s#@][^\s;,]*)", re.M)
# each starts with a literal, so that the regex engine finds candidates fast (no per-position tries)
_PREFIXES = [re.compile(w + rb"\s+([^\s:]*):\s*<([^>]*)>") for w in (b"@prefix", b"PREFIX", b"prefix")]
_BASES = [re.compile(w + rb"\s+<([^>]*)>") for w in (b"@base", b"BASE", b"base")]
_ABOUT = re.compile(rb"""(?:rdf:about|"@id")\s*[=:]\s*["']([^"']+)["']""")
_RELATIVE = re.compile(rb"\n<(?![A-Za-z][A-Za-z0-9+.-]*:)")
NO_PREFIXES = {".nt", ".nq"}
_ABSOLUTE = re.compile(rb"<[A-Za-z][A-Za-z0-9+.-]*:")
_LOCAL = re.compile(r"[^\s\\;,.()\[\]<>\"'#]([^\s\\;,()\[\]<>\"'#]*[^\s\\;,.()\[\]<>\"'#])?")
TURTLE_LIKE = {".ttl", ".nt", ".n3", ".trig", ".nq"}


def locate(
    subjects: Iterable[str], files: Iterable[Path], base: str | None = None
) -> dict[str, tuple[Path, int]]:
    """Subject IRI -> (file, line) of its first definition in ``files`` (in order); missing if not found."""
    wanted = {s for s in subjects if s and not s.startswith("_:")}
    found: dict[str, tuple[Path, int]] = {}
    mentioned: dict[str, tuple[Path, int]] = {}  # written as a subject, but not with its type there
    for path in files:
        if not wanted:
            break
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError:
            continue
        file_base = base or path.resolve().as_uri()
        if path.suffix.lower() in TURTLE_LIKE:
            hits = _turtle_subjects(data, file_base, wanted, path.suffix.lower() in NO_PREFIXES)
        else:
            hits = (
                (m.start(), urljoin(file_base, m[1].decode("utf-8", "replace")))
                for m in _ABOUT.finditer(data)
            )
        turtle = path.suffix.lower() in TURTLE_LIKE
        line, last = 1, 0
        for position, iri in hits:
            if iri in wanted:
                line += data.count(b"\n", last, position)
                last = position
                if turtle and not _TYPED.match(data, position):
                    mentioned.setdefault(iri, (path, line))
                    continue
                found[iri] = (path, line)
                wanted.discard(iri)
                if not wanted:
                    break
    return {**mentioned, **found}


def _turtle_subjects(
    data: bytes, base: str, wanted: set[str], ntriples: bool = False
) -> Iterable[tuple[int, str]]:
    """(byte offset, IRI) of each token that starts a line and writes one of ``wanted``.

    The written forms of the wanted IRIs (``<iri>``, ``prefix:local``) become one regular expression
    (a trie, so the scan runs in the regex engine and only matching lines reach Python); a file with a
    relative ``<ref>`` subject is read token by token instead, resolving each."""
    prefixes = {}
    if not ntriples:
        for pattern in _PREFIXES:
            prefixes.update({m[1].decode(): urljoin(base, m[2].decode()) for m in pattern.finditer(data)})
        bases = [m for pattern in _BASES for m in pattern.findall(data)]
        if bases:
            base = urljoin(base, bases[0].decode())
    forms: dict[bytes, str] = {}
    for iri in wanted:
        forms[f"<{iri}>".encode()] = iri
        for prefix, namespace in prefixes.items():
            if iri.startswith(namespace) and _LOCAL.fullmatch(iri[len(namespace) :]):
                forms[f"{prefix}:{iri[len(namespace) :]}".encode()] = iri
    if _RELATIVE.match(b"\n" + data[:4096]) or _RELATIVE.search(data):
        for match in _TOKEN.finditer(data):
            token = match[1]
            if token[:1] == b"<":
                token = token[: token.find(b">") + 1]
                if token not in forms and not _ABSOLUTE.match(token):
                    yield match.start(), urljoin(base, token[1:-1].decode("utf-8", "replace"))
                    continue
            if token in forms:
                yield match.start(), forms[token]
        return
    pattern = re.compile(rb"\n(" + _trie(sorted(forms)) + rb")(?=[\s;,]|\Z)")
    first = pattern.match(b"\n" + data[:4096])
    if first:
        yield 0, forms[first[1]]
    for match in pattern.finditer(data):
        yield match.start(1), forms[match[1]]


def _trie(words: list[bytes]) -> bytes:
    """A regular expression that matches exactly ``words``, as a trie (shared prefixes written once)."""
    if not words:
        return rb"(?!)"
    if len(words) == 1:
        return re.escape(words[0])
    end = b"" in words
    branches: dict[int, list[bytes]] = {}
    for word in words:
        if word:
            branches.setdefault(word[0], []).append(word[1:])
    alternatives = [re.escape(bytes([first])) + _trie(rest) for first, rest in sorted(branches.items())]
    body = alternatives[0] if len(alternatives) == 1 else b"(?:" + b"|".join(alternatives) + b")"
    return b"(?:" + body + b")?" if end else body
