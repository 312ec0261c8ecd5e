"""Research views: DataFrames, a NetworkX graph and figures of the initiatives and their bottlenecks.

pandas, networkx and matplotlib are imported here only, so that the rest of kg starts fast.
Figures use the Okabe-Ito palette (safe for colour-blind readers) and the ``cividis`` colour map.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from kg.core.errors import UsageError
from kg.core.results import column_name

if TYPE_CHECKING:
    import networkx
    import pandas
    from matplotlib.figure import Figure

    from kg.graph import KnowledgeGraph

OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000")
# The colours of bottleneck types, given out in the order of their codes (so the same in every figure
# and language); yellow and black last, as thin yellow lines are hard to see.
TYPE_PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#F0E442", "#000000")
PLOTS = ("network", "cooccurrence", "by-province", "timeline")
NETWORK_FORMATS = ("graphml", "gexf")  # graph_bytes(): for Gephi or Cytoscape

TEXT = {
    "nl": {
        "network": "Initiatieven en de knelpunttypen die zij tegenkomen",
        "initiative": "initiatief",
        "bottleneck": "knelpunttype",
        "none": "geen knelpunt genoemd",
        "cooccurrence": "Knelpunttypen die samen voorkomen (aantal initiatieven)",
        "by-province": "Knelpunttypen per provincie",
        "province": "provincie",
        "count": "aantal initiatieven met dit knelpunttype",
        "both": "aantal initiatieven met beide knelpunttypen",
        "initiatives_n": "aantal initiatieven",
        "timeline": "Jaartallen in de gegevens, per initiatief",
        "goal_year": "doeljaar van een doel",
        "year": "jaar",
        "programme": "deelname aan Ruim op de Regels",
        "founded": "gestart",
        "goal": "doel",
        "legend_period": "rechtsvorm (periode)",
        "legend_event": "gebeurtenis",
        "open": "rechtsvorm, geen eindjaar bekend",
    },
    "en": {
        "network": "Initiatives and the bottleneck types they meet",
        "initiative": "initiative",
        "bottleneck": "bottleneck type",
        "none": "no bottleneck named",
        "cooccurrence": "Bottleneck types met together (number of initiatives)",
        "by-province": "Bottleneck types by province",
        "province": "province",
        "count": "initiatives meeting the bottleneck type",
        "both": "initiatives meeting both types",
        "initiatives_n": "number of initiatives",
        "timeline": "Years in the data, by initiative",
        "goal_year": "target year of a goal",
        "year": "year",
        "programme": "taking part in Ruim op de Regels",
        "founded": "started",
        "goal": "goal",
        "legend_period": "legal form (period)",
        "legend_event": "event",
        "open": "legal form, no end year given",
    },
}

_LABEL = """OPTIONAL {{ {var} skos:prefLabel ?{out}InLang . FILTER (LANG(?{out}InLang) = "{lang}") }}
  OPTIONAL {{ {var} skos:prefLabel ?{out}Else . FILTER (LANG(?{out}Else) IN ("nl", "")) }}
  BIND (COALESCE(?{out}InLang, ?{out}Else) AS ?{out})"""


def query_df(graph: KnowledgeGraph, name: str, lang: str = "nl", **params: object) -> pandas.DataFrame:
    """A stored query's rows as a DataFrame (:meth:`kg.core.results.Result.to_df`: columns named by
    kg's one rule, ``legal_form``), labels in ``lang``."""
    return graph.query(name, params, lang=lang).to_df()


def _labelled(graph: KnowledgeGraph, body: str, lang: str, **labels: str) -> list[dict]:
    parts = [_LABEL.format(var=var, lang=lang, out=out) for out, var in labels.items()]
    text = "SELECT * WHERE { " + body + "\n" + "\n".join(parts) + " }"
    return list(graph.query(text, infer=True))


def to_networkx(graph: KnowledgeGraph, lang: str = "nl") -> networkx.Graph:
    """Initiatives, bottleneck types and activities as a NetworkX graph.

    Nodes are IRIs with attributes ``type`` (initiative, bottleneck, activity) and ``label`` (in
    ``lang``); initiatives also carry number, municipality, province and legal form where known,
    concepts their code. Edges link an initiative to what it meets or does (``relation``).
    """
    import networkx as nx

    g = nx.Graph(name="kg: initiatives, bottleneck types and activities")
    for row in graph.query("initiatives", lang=lang):
        attrs = {
            "type": "initiative",
            "label": row["name"],
            "number": row["number"],
            "municipality": row["municipality"],
            "province": row["province"],
            column_name("legalForm"): row["legalForm"],
        }
        g.add_node(row["initiative"], **{k: v for k, v in attrs.items() if v is not None})
    for kind, cls in (("bottleneck", "mi:BottleneckType"), ("activity", "mi:Activity")):
        for row in _labelled(graph, f"?c a {cls} ; skos:notation ?code .", lang, label="?c"):
            g.add_node(row["c"], type=kind, label=row["label"], code=row["code"])
        prop = "mi:bottleneck" if kind == "bottleneck" else "mi:activity"
        for row in graph.query(f"SELECT ?i ?c WHERE {{ ?i a mi:Initiative ; {prop} ?c }}"):
            g.add_edge(row["i"], row["c"], relation=kind)
    return g


def bottleneck_colours(graph: KnowledgeGraph) -> dict[str, str]:
    """Code of each bottleneck type -> its colour in every figure, whatever the language."""
    codes = sorted(
        set(graph.query("SELECT ?code WHERE { ?b a mi:BottleneckType ; skos:notation ?code }").column("code"))
    )
    return {code: TYPE_PALETTE[i % len(TYPE_PALETTE)] for i, code in enumerate(codes)}


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def plot_network(graph: KnowledgeGraph, lang: str = "nl") -> Figure:
    """Bipartite drawing: initiatives (left, by partner number) and bottleneck types (right)."""
    t = TEXT[lang]
    g = to_networkx(graph, lang)
    initiatives = sorted(
        (n for n, d in g.nodes(data=True) if d["type"] == "initiative"),
        key=lambda n: (g.nodes[n].get("number") is None, g.nodes[n].get("number", 0), g.nodes[n]["label"]),
    )
    types = sorted(
        (n for n, d in g.nodes(data=True) if d["type"] == "bottleneck" and g.degree(n)),
        key=lambda n: g.nodes[n]["label"],
    )
    by_code = bottleneck_colours(graph)
    colour = {n: by_code[g.nodes[n]["code"]] for n in types}
    left = {n: (0.0, 1 - i / max(len(initiatives) - 1, 1)) for i, n in enumerate(initiatives)}
    right = {n: (1.0, 1 - (i + 0.5) / len(types)) for i, n in enumerate(types)}
    fig = _figure(11, 7)
    ax = fig.add_subplot()
    for b in types:
        for i in g.neighbors(b):
            (x0, y0), (x1, y1) = left[i], right[b]
            ax.plot([x0, x1], [y0, y1], color=colour[b], linewidth=1.6, alpha=0.8, zorder=1)
    for n, (x, y) in left.items():
        met = any(g.nodes[m]["type"] == "bottleneck" for m in g.neighbors(n))
        ax.scatter([x], [y], s=70, color="#555555" if met else "white", edgecolors="#555555", zorder=2)
        ax.text(
            x - 0.03,
            y,
            f"{g.nodes[n]['number']}. {g.nodes[n]['label']}"
            if "number" in g.nodes[n]
            else g.nodes[n]["label"],
            ha="right",
            va="center",
            fontsize=10,
        )
    for n, (x, y) in right.items():
        ax.scatter([x], [y], s=160, color=colour[n], marker="s", zorder=2)
        ax.text(
            x + 0.03,
            y,
            f"{g.nodes[n]['label']} ({g.degree(n)})",
            ha="left",
            va="center",
            fontsize=10,
            fontweight="bold",
        )
    ax.set_xlim(-1.25, 1.9)
    ax.set_ylim(-0.08, 1.08)
    ax.axis("off")
    ax.set_title(t["network"], fontsize=13)
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], marker="o", linestyle="", color="#555555", label=t["initiative"]),
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markerfacecolor="white",
            color="#555555",
            label=f"{t['initiative']}: {t['none']}",
        ),
        Line2D([], [], marker="s", linestyle="", color="#999999", label=f"{t['bottleneck']} (n)"),
    ]
    ax.legend(handles=handles, loc="lower right", frameon=False)
    return fig


def _direct_bottlenecks(graph: KnowledgeGraph, lang: str) -> list[dict]:
    return _labelled(
        graph,
        "?i a mi:Initiative ; mi:bottleneck ?b ; mi:municipality ?m . "
        "?m tooi:ligtInProvincie/skos:prefLabel ?province . ?b skos:notation ?code .",
        lang,
        label="?b",
    )


def plot_cooccurrence(graph: KnowledgeGraph, lang: str = "nl") -> Figure:
    """Heatmap, one triangle: for each pair of types, how many initiatives meet both. The colour scale
    is the pairs' own; how many meet each type at all is in its label, not on the diagonal."""
    import numpy as np

    rows = _direct_bottlenecks(graph, lang)
    labels = sorted({r["label"] for r in rows})
    met: dict[str, set[str]] = {label: set() for label in labels}
    for r in rows:
        met[r["label"]].add(r["i"])
    n = len(labels)
    counts = np.ma.masked_all((n, n))
    for y in range(n):
        for x in range(y):
            counts[y, x] = len(met[labels[y]] & met[labels[x]])
    fig = _figure(8.5, 7.5)
    ax = fig.add_subplot()
    peak = max(int(counts.max()) if n > 1 else 0, 1)
    image = ax.imshow(counts, cmap="cividis", vmin=0, vmax=peak)
    for y in range(n):
        for x in range(y):
            value = int(counts[y, x])
            colour = "black" if value > peak / 2 else "white"
            ax.text(x, y, str(value), ha="center", va="center", fontsize=12, color=colour)
    names = [f"{label} ({len(met[label])})" for label in labels]
    ax.set_xticks(range(n), names, rotation=90)
    ax.set_yticks(range(n), names)
    ax.set_xlim(-0.5, n - 1.5)  # the last column and the first row would only hold masked cells
    ax.set_ylim(n - 0.5, 0.5)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_xlabel(f"{TEXT[lang]['bottleneck']} ({TEXT[lang]['initiatives_n']})")
    ax.set_ylabel(f"{TEXT[lang]['bottleneck']} ({TEXT[lang]['initiatives_n']})")
    ax.set_title(TEXT[lang]["cooccurrence"])
    fig.colorbar(image, ax=ax, label=TEXT[lang]["both"], shrink=0.8).ax.yaxis.get_major_locator().set_params(
        integer=True
    )
    return fig


def plot_by_province(graph: KnowledgeGraph, lang: str = "nl") -> Figure:
    """Grouped bars: per province, how many initiatives meet each bottleneck type."""
    rows = _direct_bottlenecks(graph, lang)
    provinces = sorted(
        set(
            graph.query(
                "SELECT ?p WHERE { ?i a mi:Initiative ; "
                "mi:municipality/tooi:ligtInProvincie/skos:prefLabel ?p }"
            ).column("p")
        )
    )
    labels = sorted({r["label"] for r in rows})
    code = {r["label"]: r["code"] for r in rows}
    colours = bottleneck_colours(graph)
    fig = _figure(10, 5.5)
    ax = fig.add_subplot()
    width = 0.8 / max(len(labels), 1)
    for k, label in enumerate(labels):
        # initiatives (not mentions) per province that meet this type: bars side by side, not stacked
        heights = [
            len({r["i"] for r in rows if r["label"] == label and r["province"] == p}) for p in provinces
        ]
        ax.bar(
            [i - 0.4 + width * (k + 0.5) for i in range(len(provinces))],
            heights,
            width=width,
            label=label,
            color=colours[code[label]],
            edgecolor="white",
        )
    ax.set_xticks(range(len(provinces)), provinces)
    ax.set_xlabel(TEXT[lang]["province"])
    ax.set_ylabel(TEXT[lang]["count"])
    ax.set_title(TEXT[lang]["by-province"])
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(title=TEXT[lang]["bottleneck"], frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
    return fig


def timeline_rows(graph: KnowledgeGraph, lang: str = "nl") -> list[tuple[str, int, int | None, str]]:
    """(label, start year, end year or None, kind) from the data: per initiative (by partner number)
    its years in the programme (kind ``programme``), its founding (``founded``), its goal's target year
    (``goal``), then its legal-form periods (``period``, or ``open`` without an end year)."""
    t = TEXT[lang]
    out: list[tuple[str, int, int | None, str]] = []
    initiatives = graph.query(
        """SELECT ?i ?number ?s ?e WHERE { ?i a mi:Initiative .
            OPTIONAL { ?i mi:participation ?p . ?p mi:partnerNumber ?number ;
                mi:programme/dct:temporal ?t . ?t dcat:startDate ?s . OPTIONAL { ?t dcat:endDate ?e } } }"""
    )
    names = {r["i"]: r["name"] for r in _labelled(graph, "?i a mi:Initiative .", lang, name="?i")}
    founded = {r["i"]: int(r["y"]) for r in graph.query("SELECT ?i ?y WHERE { ?i schema:foundingDate ?y }")}
    goals = {
        r["i"]: (int(r["y"]), r["d"])
        for r in graph.query(
            "SELECT ?i ?y ?d WHERE { ?i mi:goal ?g . ?g mi:targetYear ?y . "
            f'OPTIONAL {{ ?g dct:description ?d FILTER (LANG(?d) = "{lang}") }} }}'
        )
    }
    history: dict[str, list[dict]] = {}
    for r in graph.query("legal-form-history", lang=lang):
        history.setdefault(r["initiative"], []).append(r)

    def order(r: dict) -> tuple:  # by partner number; initiatives without one (imported) after, by name
        return (r["number"] is None, r["number"] or 0, names[r["i"]].casefold())

    for r in sorted(initiatives, key=order):
        i = r["i"]
        label = f"{r['number']}. {names[i]}" if r["number"] is not None else names[i]
        if r["s"] is not None:
            out.append((label, int(r["s"]), int(r["e"]) if r["e"] else None, "programme"))
        else:  # not in the programme: a row of its own if the data gives it any year
            years = [founded[i]] if i in founded else []
            years += [goals[i][0]] if i in goals else []
            years += [int(h["from"]) for h in history.get(i, [])]
            if not years:
                continue
            out.append((label, min(years), None, "initiative"))
        if i in founded:
            out.append((f"{label}: {t['founded']}", founded[i], None, "founded"))
        if i in goals:
            year, text = goals[i]
            out.append((f"{label}: {t['goal']}" + (f" ({text})" if text else ""), year, None, "goal"))
        for h in history.get(i, []):
            until = int(h["until"]) if h["until"] else None
            out.append((f"{label}: {h['legalForm']}", int(h["from"]), until, "period" if until else "open"))
    return out


def plot_timeline(graph: KnowledgeGraph, lang: str = "nl") -> Figure:
    """One row per initiative (its years in the programme), its founding and goal as markers on that
    row, and its legal-form periods as rows of their own beneath it."""
    t = TEXT[lang]
    rows = timeline_rows(graph, lang)
    bars = [r for r in rows if r[3] in ("programme", "initiative", "period", "open")]  # one row each
    first = min(s for _, s, _, _ in rows)
    last = max(max(s, e or s) for _, s, e, _ in rows)
    fig = _figure(11, 1.8 + 0.42 * len(bars))
    ax = fig.add_subplot()
    y_of: dict[str, int] = {}
    colours = {"programme": "#BBBBBB", "period": OKABE_ITO[4], "open": OKABE_ITO[2]}
    markers = {"founded": ("D", OKABE_ITO[5]), "goal": ("*", OKABE_ITO[0])}
    for y, (label, start, end, kind) in enumerate(bars):
        y_of[label] = y
        if kind == "initiative":  # a row for its markers only
            continue
        stop = (end + 1) if end else last + 1.6  # an open end runs past the last year
        ax.barh(
            y,
            stop - start,
            left=start,
            height=0.5,
            zorder=2,
            color=colours[kind],
            hatch="//" if kind == "open" else None,
            edgecolor="white",
        )
    for label, start, _, kind in rows:
        if kind in markers:
            owner = label.rsplit(": ", 1)[0] if kind == "founded" else label.split(f": {t['goal']}")[0]
            marker, colour = markers[kind]
            ax.scatter([start + 0.5], [y_of[owner]], marker=marker, s=110, color=colour, zorder=3)
    ax.set_yticks(
        range(len(bars)),
        [
            label if kind in ("programme", "initiative") else "    " + label.split(": ", 1)[1]
            for label, _, _, kind in bars
        ],
    )
    ax.invert_yaxis()
    ax.set_xticks([y + 0.5 for y in range(first, last + 1)], [str(y) for y in range(first, last + 1)])
    ax.set_xticks(range(first, last + 2), minor=True)
    ax.set_xlim(first - 0.3, last + 1.7)
    ax.grid(axis="x", which="minor", color="#dddddd", zorder=0)
    ax.tick_params(axis="x", which="minor", length=0)
    ax.set_xlabel(t["year"])
    ax.set_title(t["timeline"])
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    goals = [
        label.split(f": {t['goal']} (", 1)[1].removesuffix(")")
        for label, _, _, kind in rows
        if kind == "goal" and f": {t['goal']} (" in label
    ]
    ax.legend(
        handles=[
            Patch(color=colours["programme"], label=t["programme"]),
            Patch(color=colours["period"], label=t["legend_period"]),
            Patch(facecolor=colours["open"], hatch="//", edgecolor="white", label=t["open"]),
            Line2D([], [], marker="D", linestyle="", color=markers["founded"][1], label=t["founded"]),
            Line2D(
                [],
                [],
                marker="*",
                markersize=12,
                linestyle="",
                color=markers["goal"][1],
                label=t["goal_year"] + ("\n" + textwrap.fill(goals[0], 50) if len(goals) == 1 else ""),
            ),
        ],
        frameon=False,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.08 - 1.2 / (1.8 + 0.42 * len(bars))),
        ncols=2,
    )
    return fig


def plot(graph: KnowledgeGraph, kind: str, lang: str = "nl") -> Figure:
    """The figure called ``kind`` (one of PLOTS)."""
    makers = {
        "network": plot_network,
        "cooccurrence": plot_cooccurrence,
        "by-province": plot_by_province,
        "timeline": plot_timeline,
    }
    if kind not in makers:
        raise UsageError(f"unknown plot {kind!r} (known: {', '.join(PLOTS)})")
    return makers[kind](graph, lang)


def figure_bytes(fig: Figure, fmt: str) -> bytes:
    """The figure as PNG or SVG, without timestamps so the same data gives the same file."""
    import io

    import matplotlib

    if fmt not in ("png", "svg"):
        raise UsageError(f"unknown image format {fmt!r} (use .png or .svg)")
    out = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "kg"}):
        fig.savefig(
            out,
            format=fmt,
            dpi=110,
            metadata={"Software": None} if fmt == "png" else {"Date": None, "Creator": None},
        )
    return out.getvalue()


def graph_bytes(graph: KnowledgeGraph, fmt: str, lang: str = "nl") -> bytes:
    """The NetworkX graph as GraphML or GEXF, for Gephi and Cytoscape.

    Both are XML: a label with a character XML 1.0 cannot hold is refused, naming the file and line
    of its literal, and a CR is written as ``&#13;`` so that it is read back (kg.core.xmlchars)."""
    import io

    import networkx as nx

    if fmt not in NETWORK_FORMATS:
        raise UsageError(f"unknown graph format {fmt!r} (known: {', '.join(NETWORK_FORMATS)})")
    g = to_networkx(graph, lang)
    _check_xml(graph, g, f"--format {fmt}")
    out = io.BytesIO()
    if fmt == "graphml":
        nx.write_graphml(g, out)
    else:
        nx.write_gexf(g, out)
    return out.getvalue().replace(b"\r", b"&#13;")


def _check_xml(graph: KnowledgeGraph, g: networkx.Graph, output: str) -> None:
    """InputError (or UsageError for a value not in the data) if ``g`` holds text XML cannot hold."""
    import pyoxigraph as ox

    from kg.core.xmlchars import check_triples, shown, unfit_text
    from kg.graph import DATA, ONTOLOGY

    texts = [str(n) for n in g.nodes] + [
        str(v)
        for _, data in [*g.nodes(data=True), *((e, d) for *e, d in g.edges(data=True))]
        for v in data.values()
    ]
    bad = next((t for t in texts if unfit_text(t)), None)
    if bad is None:
        return
    literal = ox.Literal(bad)
    for name in (DATA, ONTOLOGY):
        check_triples(
            (t for t in graph.triples(name) if isinstance(t.object, ox.Literal) and t.object.value == bad),
            output,
            [*graph.ontology_files, *graph.data_files],
        )
    raise UsageError(f"{output}: {literal} holds {shown(unfit_text(bad))}, which XML 1.0 cannot hold")
