"""Paged and streamed answers (issue 17): pages are slices of the one full answer, a streamed answer
writes the same bytes as the whole one, and streaming holds a bounded number of rows."""

from __future__ import annotations

import io
import time
import tracemalloc

import pytest

import kg
from kg.cli import main
from kg.core import queries
from kg.core.errors import QueryError, QueryTimeout, UsageError

FORMATS = ("table", "csv", "tsv", "json", "xml")


def _params(stored: queries.StoredQuery) -> dict[str, str]:
    return {p.name: p.example for p in stored.parameters if p.required and p.example is not None}


@pytest.mark.parametrize("name", sorted(kg.stored_queries()))
def test_streamed_bytes_equal_the_whole_answer(graph: kg.KnowledgeGraph, name: str) -> None:
    stored = kg.stored_queries()[name]
    whole = graph.query(stored, _params(stored))
    formats = FORMATS if whole.form in ("SELECT", "ASK") else ("table", "turtle", "nt", "jsonld", "xml")
    for fmt in formats:
        out = io.BytesIO()
        graph.query(stored, _params(stored), stream=True).write(out, fmt)
        assert out.getvalue() == whole.serialize(fmt), (name, fmt)


def test_streamed_construct_equals_the_whole_graph(graph: kg.KnowledgeGraph) -> None:
    text = "CONSTRUCT { ?s ?p ?o } WHERE { ?s a mi:Initiative ; ?p ?o }"
    whole = graph.query(text)
    assert len(whole) > 50
    for fmt in ("turtle", "nt", "jsonld", "xml", "table"):
        out = io.BytesIO()
        graph.query(text, stream=True).write(out, fmt)
        assert out.getvalue() == whole.serialize(fmt), fmt


def test_csv_formula_cells_are_quoted_when_streamed(graph: kg.KnowledgeGraph) -> None:
    text = 'SELECT ?a ?b WHERE { VALUES (?a ?b) { ("=cmd|x" "plain") ("ok" "@SUM(1)") ("-5" "x,y") } }'
    out = io.BytesIO()
    graph.query(text, stream=True).write(out, "csv")
    assert out.getvalue() == b"a,b\r\n'=cmd|x,plain\r\nok,'@SUM(1)\r\n-5,\"x,y\"\r\n"
    assert out.getvalue() == graph.query(text).serialize("csv")


@pytest.mark.parametrize("stream", [False, True])
def test_pages_are_slices_of_the_full_answer(graph: kg.KnowledgeGraph, stream: bool) -> None:
    full = graph.query("initiatives").rows
    assert len(full) > 5
    pages, truncated = [], []
    for page in range(5):
        result = graph.query("initiatives", offset=page * 3, limit=3, stream=stream)
        rows = list(result.rows)
        pages += rows
        truncated.append(result.truncated)
    assert pages == full[:15]
    n = len(full)
    assert truncated == [(page + 1) * 3 < n for page in range(5)]


def test_a_page_past_the_end_is_empty(graph: kg.KnowledgeGraph) -> None:
    result = graph.query("initiatives", offset=10_000, limit=100)
    assert result.rows == [] and not result.truncated


def test_negative_offset_is_refused(graph: kg.KnowledgeGraph) -> None:
    with pytest.raises(UsageError):
        graph.query("initiatives", offset=-1, limit=3)


def test_pagination_header() -> None:
    stored = queries.parse("#+ pagination: 25\nSELECT * WHERE { ?s ?p ?o }", "q")
    assert stored.pagination == 25
    assert queries.parse("SELECT * WHERE { ?s ?p ?o }", "q").pagination is None
    for bad in ("0", "-3", "many", "2.5"):
        with pytest.raises(QueryError, match="pagination"):
            queries.parse(f"#+ pagination: {bad}\nSELECT * WHERE {{ ?s ?p ?o }}", "q")


def test_big_stored_answers_declare_pagination() -> None:
    for name in ("initiatives", "initiatives-by-bottleneck", "initiatives-by-municipality"):
        assert kg.stored_queries()[name].pagination == 100


BIG = "SELECT ?a ?b ?c WHERE { ?a a ?x . ?b a ?y . ?c a skos:ConceptScheme }"


def test_closing_a_stream_early_stops_the_engine(graph: kg.KnowledgeGraph) -> None:
    start = time.perf_counter()
    result = graph.query(BIG, stream=True)
    first = [next(result.rows) for _ in range(10)]
    result.rows.close()
    assert len(first) == 10
    assert time.perf_counter() - start < 5


def test_streaming_memory_does_not_grow_with_the_rows(graph: kg.KnowledgeGraph) -> None:
    def peak(rows: int) -> int:
        sink = _Null()
        tracemalloc.start()
        graph.query(BIG, limit=rows, stream=True).write(sink, "json")
        size = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert sink.count > rows * 50  # the rows were written
        return size

    small, large = peak(4_000), peak(40_000)
    assert large < small * 2, (small, large)


class _Null(io.RawIOBase):
    def __init__(self) -> None:
        self.count = 0

    def write(self, data: bytes) -> int:
        self.count += len(data)
        return len(data)


def test_a_streamed_answer_stops_at_its_timeout(graph: kg.KnowledgeGraph) -> None:
    result = graph.query(BIG, stream=True, timeout=0.2)
    with pytest.raises(QueryTimeout):
        for _ in result.rows:
            time.sleep(0.0001)


def test_cli_pages(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "initiatives", "--page", "2", "--page-size", "3", "--format", "csv"]) == 0
    captured = capsys.readouterr()
    assert main(["query", "initiatives", "--format", "csv"]) == 0
    whole = capsys.readouterr().out.splitlines()
    assert captured.out.splitlines() == [whole[0], *whole[4:7]]
    assert "page 2: rows 4-6; more: --page 3" in captured.err


@pytest.mark.parametrize("cache", [[], ["--no-cache"]])
@pytest.mark.parametrize(
    ("page", "note"),
    [
        ("4", "page 4: rows 10-11 (the last page)"),  # 11 partners, 3 a page
        ("5", "page 5 is past the end: the answer has fewer than 13 rows"),
    ],
)
def test_cli_says_which_rows_a_page_held(
    capsys: pytest.CaptureFixture[str], cache: list[str], page: str, note: str
) -> None:
    assert main(["query", "initiatives", "--page", page, "--page-size", "3", "--format", "csv", *cache]) == 0
    captured = capsys.readouterr()
    assert f"kg: {note}\n" == captured.err
    assert len(captured.out.splitlines()) == (3 if page == "4" else 1)  # header and rows


def test_cli_refuses_page_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "initiatives", "--page", "0"]) == 2
    assert "--page" in capsys.readouterr().err


def test_cli_output_file_is_written_whole(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out.json"
    assert main(["query", "initiatives", "--format", "json", "-o", str(target)]) == 0
    assert main(["query", "initiatives", "--format", "json"]) == 0
    assert target.read_bytes() == capsys.readouterr().out.encode()
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_web_api_pages_with_link_headers(graph: kg.KnowledgeGraph) -> None:
    from kg.serve.contract import Settings
    from kg.serve.endpoint import Handler

    handler = Handler(graph, Settings(data=None, max_rows=4))  # pages of min(100, max-rows) = 4 rows
    full = graph.query("initiatives").rows
    first = handler.handle("stored", {"name": "initiatives", "params": {}, "accept": "text/csv", "page": 1})
    second = handler.handle("stored", {"name": "initiatives", "params": {}, "accept": "text/csv", "page": 2})
    last_page = (len(full) + 3) // 4
    last = handler.handle(
        "stored", {"name": "initiatives", "params": {}, "accept": "text/csv", "page": last_page}
    )
    whole = graph.query("initiatives").serialize("csv").decode().splitlines()
    assert first.body.decode().splitlines() == whole[:5]
    assert second.body.decode().splitlines() == [whole[0], *whole[5:9]]
    assert first.headers["Link"] == (
        '</api/queries/initiatives?page=1>; rel="first", </api/queries/initiatives?page=2>; rel="next"'
    )
    assert 'rel="prev"' in second.headers["Link"] and 'page=3>; rel="next"' in second.headers["Link"]
    assert 'rel="next"' not in last.headers["Link"]
    assert "X-KG-Truncated" not in first.headers


def test_web_api_pages_over_http() -> None:
    from serving import fetch, kg_serve

    with kg_serve("--max-rows", "1000") as base:
        status, headers, body = fetch(base + "/api/queries/initiatives?page=2&format=csv")
        assert status == 200
        assert 'rel="prev"' in headers["Link"] and 'rel="first"' in headers["Link"]
        assert body.decode().splitlines()[0].startswith("number,initiative")
        assert len(body.decode().splitlines()) == 1  # 11 initiatives: page 2 of 100 rows is empty
        for bad in ("0", "-1", "x", "1.5"):
            status, _, body = fetch(base + f"/api/queries/initiatives?page={bad}")
            assert status == 400 and b"page" in body, bad


def _shorten_reference(iri: str) -> str:
    """The former loop over every prefix (what the faster lookup must equal)."""
    from kg.core.namespaces import PREFIXES

    best = ""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(PREFIXES.get(best, "")):
            local = iri[len(ns) :]
            if local and all(c.isalnum() or c in "-_." for c in local):
                best = prefix
    return f"{best}:{iri[len(PREFIXES[best]) :]}" if best else f"<{iri}>"


def test_shorten_equals_the_loop_over_every_prefix() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from kg.core.namespaces import PREFIXES, shorten

    namespaces = st.sampled_from([*PREFIXES.values(), "http://example.org/", ""])
    tails = st.text(alphabet=st.sampled_from("ab9_-.é/#:?ⅷ٣ "), max_size=12)

    @settings(max_examples=2000, deadline=None)
    @given(namespaces, tails)
    def check(ns: str, tail: str) -> None:
        assert shorten(ns + tail) == _shorten_reference(ns + tail)

    check()
