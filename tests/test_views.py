"""Research views: the DataFrames, the NetworkX graph and what each figure actually shows."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from test_queries import BOTTLENECKS

import kg
from kg.cli import main
from kg.views import figures
from kg.views.figures import figure_bytes, timeline_rows

EN = {
    "aanbesteden": "social procurement",
    "aansprakelijkheid": "liability",
    "fiscaliteit": "tax rules",
    "regelluwte": "regulation-light zones",
    "parapluvergunning": "umbrella permit",
}
NL = {
    "aanbesteden": "maatschappelijk aanbesteden",
    "aansprakelijkheid": "aansprakelijkheid",
    "fiscaliteit": "fiscale regelgeving",
    "regelluwte": "regelluwe zones",
    "parapluvergunning": "parapluvergunning",
}
PROVINCE = {
    1: "Utrecht",
    2: "Noord-Holland",
    3: "Noord-Holland",
    4: "Zuid-Holland",
    5: "Utrecht",
    6: "Drenthe",
    7: "Zuid-Holland",
    8: "Zuid-Holland",
    9: "Noord-Brabant",
    10: "Zuid-Holland",
    11: "Noord-Brabant",
}


def test_query_df_has_readable_columns_and_labels(graph: kg.KnowledgeGraph) -> None:
    frame = figures.query_df(graph, "initiatives", lang="en")
    assert list(frame.columns) == [
        "number",
        "initiative",
        "name",
        "municipality",
        "province",
        "legal_form",
        "bottlenecks",
    ]
    assert frame.loc[frame["number"] == 3, "legal_form"].item() == "foundation"
    assert frame["bottlenecks"].sum() == sum(len(b) for b in BOTTLENECKS.values())
    assert (
        kg.query_df("bottleneck-counts", lang="en").set_index("code")["initiatives"].to_dict()["fiscaliteit"]
        == 5
    )


def test_to_networkx(graph: kg.KnowledgeGraph) -> None:
    g = figures.to_networkx(graph, lang="en")
    kinds = nx.get_node_attributes(g, "type")
    assert sum(1 for k in kinds.values() if k == "initiative") == 11
    assert sum(1 for k in kinds.values() if k == "bottleneck") == 6
    bottleneck_edges = [e for e in g.edges(data=True) if e[2]["relation"] == "bottleneck"]
    assert len(bottleneck_edges) == sum(len(b) for b in BOTTLENECKS.values())
    wattwest = g.nodes["https://w3id.org/initiatieven/id/initiatief/wattwest"]
    assert wattwest["label"] == "Wijkonderneming watTWest" and wattwest["legal_form"] == "cooperative"
    tax_iri = "https://w3id.org/initiatieven/id/knelpunttype/fiscaliteit"
    tax = g.nodes[tax_iri]
    assert (tax["label"], tax["code"], g.degree(tax_iri)) == ("tax rules", "fiscaliteit", 5)


def _texts(fig) -> list:
    return [t for ax in fig.axes for t in ax.texts]


def test_network_figure(graph: kg.KnowledgeGraph) -> None:
    fig = figures.plot(graph, "network", lang="en")
    ax = fig.axes[0]
    labels = {t.get_text() for t in ax.texts}
    assert {f"{n}. " for n in range(1, 12)} <= {label.split(" ")[0] + " " for label in labels}
    counts = {code: sum(1 for b in BOTTLENECKS.values() if code in b) for code in EN}
    assert {f"{EN[c]} ({n})" for c, n in counts.items()} <= labels
    assert len(ax.lines) == sum(len(b) for b in BOTTLENECKS.values())
    assert ax.get_title() == "Initiatives and the bottleneck types they meet"
    assert ax.get_legend() is not None


@pytest.mark.parametrize("kind", ["network", "cooccurrence", "by-province", "timeline"])
def test_no_text_overlaps(graph: kg.KnowledgeGraph, kind: str) -> None:
    fig = figures.plot(graph, kind, lang="nl")
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    boxes = [t.get_window_extent(renderer) for t in _texts(fig) if t.get_text()]
    for ax in fig.axes:
        boxes += [
            t.get_window_extent(renderer) for t in ax.get_yticklabels() + ax.get_xticklabels() if t.get_text()
        ]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), (kind, a, b)
    assert all(ax.get_title() for ax in fig.axes[:1])


def test_cooccurrence_counts(graph: kg.KnowledgeGraph) -> None:
    """One triangle of pairs (no diagonal, each pair once), its own colour scale; totals in the labels."""
    fig = figures.plot(graph, "cooccurrence", lang="en")
    ax = fig.axes[0]
    code = {v: k for k, v in EN.items()}
    totals = {c: sum(1 for met in BOTTLENECKS.values() if c in met) for c in EN}

    def name(tick) -> str:
        label, _, count = tick.get_text().rpartition(" (")
        assert int(count.rstrip(")")) == totals[code[label]]
        return label

    rows = [name(t) for t in ax.get_yticklabels()]
    cols = [name(t) for t in ax.get_xticklabels()]
    assert rows == cols  # the same order on both axes
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): int(t.get_text()) for t in ax.texts}
    for (y, x), value in cells.items():
        assert x < y  # below the diagonal only
        a, b = code[rows[y]], code[cols[x]]
        assert value == sum(1 for met in BOTTLENECKS.values() if a in met and b in met), (a, b)
    n = len({c for met in BOTTLENECKS.values() for c in met})
    assert len(cells) == n * (n - 1) // 2
    image = ax.images[0]
    assert image.get_clim() == (0, max(cells.values()))  # the pairs' scale, not the diagonal's
    assert len(fig.axes) == 2  # heatmap and colour bar


def test_by_province_bars(graph: kg.KnowledgeGraph) -> None:
    fig = figures.plot(graph, "by-province", lang="en")
    ax = fig.axes[0]
    provinces = [t.get_text() for t in ax.get_xticklabels()]
    assert provinces == ["Drenthe", "Noord-Brabant", "Noord-Holland", "Utrecht", "Zuid-Holland"]
    code = {v: k for k, v in EN.items()}
    for container in ax.containers:
        label = container.get_label()
        heights = [round(bar.get_height()) for bar in container]
        expected = [
            sum(1 for n, met in BOTTLENECKS.items() if code[label] in met and PROVINCE[n] == p)
            for p in provinces
        ]
        assert heights == expected, label
    assert {t.get_text() for t in ax.get_legend().get_texts()} == set(EN.values())
    assert ax.get_ylabel() and ax.get_xlabel() == "province"


def test_timeline_rows_and_figure(graph: kg.KnowledgeGraph) -> None:
    rows = timeline_rows(graph, "en")
    programme = [r for r in rows if r[3] == "programme"]
    # every initiative has a year: its part in the programme, 2014-2016
    assert [r[0].split(". ")[0] for r in programme] == [str(n) for n in range(1, 12)]
    assert {(r[1], r[2]) for r in programme} == {(2014, 2016)}
    # partner 11: started 2011, foundation 2011-2016, cooperative from 2015; partner 2: goal in 2015
    others = [r for r in rows if r[3] != "programme"]
    assert others == [
        (
            "2. Noorderpark Trust: goal (To have a business model of its own and no longer depend on "
            "subsidies.)",
            2015,
            None,
            "goal",
        ),
        ("11. Wijkonderneming watTWest: started", 2011, None, "founded"),
        ("11. Wijkonderneming watTWest: foundation", 2011, 2016, "period"),
        ("11. Wijkonderneming watTWest: cooperative", 2015, None, "open"),
    ]
    fig = figures.plot(graph, "timeline", lang="en")
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks[0] == "1. Vereniging Duurzaam Soesterkwartier" and ticks[-2].strip() == "foundation"
    bars = sorted((round(p.get_x()), round(p.get_width())) for p in ax.patches)
    assert bars.count((2014, 3)) == 11 and (2011, 6) in bars  # whole years: 2014 to the end of 2016
    legend = " ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert "target year of a goal" in legend and "started" in legend


def _type_colours(graph: kg.KnowledgeGraph, lang: str) -> dict[str, dict[str, str]]:
    """Per figure, the colour each bottleneck type is drawn in (type code -> hex)."""
    from matplotlib.colors import to_hex

    code = {v: k for k, v in (EN if lang == "en" else NL).items()}
    found: dict[str, dict[str, str]] = {}
    ax = figures.plot(graph, "by-province", lang=lang).axes[0]
    found["by-province"] = {code[c.get_label()]: to_hex(c.patches[0].get_facecolor()) for c in ax.containers}
    ax = figures.plot(graph, "network", lang=lang).axes[0]
    squares = [c for c in ax.collections if c.get_paths() and len(c.get_offsets()) == 1]
    by_position = {
        tuple(round(v, 3) for v in c.get_offsets()[0]): to_hex(c.get_facecolor()[0]) for c in squares
    }
    network = {}
    for text in ax.texts:
        label = text.get_text().rsplit(" (", 1)[0]
        x, y = text.get_position()
        if label in code:
            network[code[label]] = by_position[(round(x - 0.03, 3), round(y, 3))]
    found["network"] = network
    return found


def test_one_colour_per_bottleneck_type_in_every_figure_and_language(graph: kg.KnowledgeGraph) -> None:
    seen: dict[str, set[str]] = {}
    for lang in ("nl", "en"):
        for figure, colours in _type_colours(graph, lang).items():
            assert len(colours) >= 5, (lang, figure)
            for code, colour in colours.items():
                seen.setdefault(code, set()).add(colour)
    assert all(len(colours) == 1 for colours in seen.values()), seen
    assert len({next(iter(c)) for c in seen.values()}) == len(seen)  # and no two types share one


def test_images_are_deterministic(graph: kg.KnowledgeGraph) -> None:
    assert figure_bytes(figures.plot(graph, "network"), "svg") == figure_bytes(
        figures.plot(graph, "network"), "svg"
    )
    assert figure_bytes(figures.plot(graph, "timeline"), "png").startswith(b"\x89PNG")


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_graph_exports(tmp_path: Path, fmt: str) -> None:
    target = tmp_path / f"kg.{fmt}"
    assert main(["export", "--format", fmt, "-o", str(target)]) == 0
    g = nx.read_graphml(target) if fmt == "graphml" else nx.read_gexf(target)
    original = kg.to_networkx()
    assert g.number_of_nodes() == original.number_of_nodes()
    assert g.number_of_edges() == original.number_of_edges()


def test_plot_command(tmp_path: Path) -> None:
    target = tmp_path / "network.png"
    assert main(["plot", "network", "-o", str(target)]) == 0
    assert target.read_bytes().startswith(b"\x89PNG") and target.stat().st_mode & 0o044
    assert main(["plot", "network", "-o", str(tmp_path / "network.pdf")]) == 2


def test_readme_shows_the_network_picture_and_its_command() -> None:
    root = Path(__file__).parent.parent
    readme = (root / "README.md").read_text()
    head = readme[:1500]
    assert "![" in head and "(docs/network.svg)" in head
    assert "kg plot network --lang en -o docs/network.svg" in head


@pytest.mark.parametrize("kind", ["network", "cooccurrence", "by-province", "timeline"])
def test_readme_figures_are_what_their_commands_make(graph: kg.KnowledgeGraph, kind: str) -> None:
    """Each SVG in docs/ is shown in the README under the command that makes it, and is that command's
    output for the bundled data today (regenerate with the command when a figure changes)."""
    root = Path(__file__).parent.parent
    readme = (root / "README.md").read_text()
    command = f"kg plot {kind} --lang en -o docs/{kind}.svg"
    assert f"(docs/{kind}.svg)" in readme and command in readme
    made = figure_bytes(figures.plot(graph, kind, lang="en"), "svg")
    assert (root / "docs" / f"{kind}.svg").read_bytes() == made


def test_figures_take_an_initiative_outside_the_programme(tmp_path: Path) -> None:
    """An imported initiative has no partner number: the figures still draw it (found by running the
    README's commands in order: kg import, then kg plot network, crashed)."""
    from kg.core import bundle

    extra = tmp_path / "nieuw.ttl"
    extra.write_text(
        "@prefix mi: <https://w3id.org/initiatieven/def/> .\n"
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        "@prefix schema: <https://schema.org/> .\n"
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        "<https://w3id.org/initiatieven/id/initiatief/nieuw> a mi:Initiative ;\n"
        '    skos:prefLabel "Nieuwe tuin" ; schema:foundingDate "2020"^^xsd:gYear ;\n'
        "    mi:bottleneck <https://w3id.org/initiatieven/id/knelpunttype/fiscaliteit> ;\n"
        "    mi:municipality <https://identifier.overheid.nl/tooi/id/gemeente/gm0505> .\n"
    )
    graph = kg.load([*bundle.data_files(), extra])
    rows = timeline_rows(graph, "en")
    assert ("Nieuwe tuin", 2020, None, "initiative") in rows
    assert ("Nieuwe tuin: started", 2020, None, "founded") in rows
    for kind in ("network", "timeline", "by-province", "cooccurrence"):
        assert figure_bytes(figures.plot(graph, kind, lang="en"), "png").startswith(b"\x89PNG")
    labels = {t.get_text() for t in figures.plot(graph, "network", lang="en").axes[0].texts}
    assert "Nieuwe tuin" in labels
