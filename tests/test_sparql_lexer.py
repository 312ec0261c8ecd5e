"""The SPARQL lexer of kg.core.sparql_text: its faster word pattern tokenizes exactly as the plain
pattern of SPARQL 1.1 Query section 19.8 that it replaced (the reference), on any text."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from kg.core import queries
from kg.core.sparql_text import _TOKEN, tokens

# the reference: one character (or escape) at a time, as first written
REFERENCE = re.compile(
    _TOKEN.pattern.replace(
        r"""(?P<word>(?:[^\s{}()\[\],;<>"'\#\\=!&|+*/^@]+|\\.|@[A-Za-z])+)""",
        r"""(?P<word>(?:[^\s{}()\[\],;<>"'\#\\=!&|+*/^@]|\\.|@[A-Za-z])+)""",
    ),
    re.VERBOSE | re.DOTALL,
)


def reference_tokens(text: str) -> list[tuple[str, str, int, int]]:
    out, depth = [], 0
    for match in REFERENCE.finditer(text):
        kind = match.lastgroup
        if kind in ("space", "comment"):
            continue
        value = match.group()
        if kind == "punct" and value in "})]":
            depth -= 1
        out.append((kind, value, match.start(), depth))
        if kind == "punct" and value in "{([":
            depth += 1
    return out


def test_the_reference_differs_in_the_word_pattern() -> None:
    assert REFERENCE.pattern != _TOKEN.pattern  # the replacement above found the fast pattern


def test_stored_queries_tokenize_as_the_reference() -> None:
    for stored in queries.stored().values():
        assert [tuple(t) for t in tokens(stored.text)] == reference_tokens(stored.text)


SPARQLISH = st.text(alphabet=st.sampled_from(list("ab:_?@\\.#<>\"'{}()[] \n\t-9é")), max_size=80)


@settings(max_examples=400, deadline=None)
@given(SPARQLISH)
def test_any_text_tokenizes_as_the_reference(text: str) -> None:
    assert [tuple(t) for t in tokens(text)] == reference_tokens(text)
