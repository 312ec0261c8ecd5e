"""Research views: DataFrames, a NetworkX graph and figures of the initiatives and their bottlenecks.

pandas, networkx and matplotlib are imported here only, so that the rest of kg starts fast.
Figures use the Okabe-Ito palette (safe for colour-blind readers) and the ``cividis`` colour map.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kg.core.errors import UsageError
from kg.core.results import column_name

if TYPE_CHECKING:
    import networkx
    import pandas
    from matplotlib.figure import Figure

    from kg.graph import KnowledgeGraph

OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000")
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
        "timeline": "Jaartallen in de gegevens",
        "year": "jaar",
        "programme": "Ruim op de Regels (programma)",
        "founded": "gestart",
        "goal": "doel",
        "legend_period": "periode",
        "legend_event": "gebeurtenis",
        "open": "geen eindjaar bekend",
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
        "timeline": "Years in the data",
        "year": "year",
        "programme": "Ruim op de Regels (programme)",
        "founded": "started",
        "goal": "goal",
        "legend_period": "period",
        "legend_event": "event",
        "open": "no end year given",
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


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def plot_network(graph: KnowledgeGraph, lang: str = "nl") -> Figure:
    """Bipartite drawing: initiatives (left, by partner number) and bottleneck types (right)."""
    t = TEXT[lang]
    g = to_networkx(graph, lang)
    initiatives = sorted(
        (n for n, d in g.nodes(data=True) if d["type"] == "initiative"), key=lambda n: g.nodes[n]["number"]
    )
    types = sorted(
        (n for n, d in g.nodes(data=True) if d["type"] == "bottleneck" and g.degree(n)),
        key=lambda n: g.nodes[n]["label"],
    )
    lines = [c for c in OKABE_ITO if c != "#F0E442"]  # yellow is too faint for thin lines
    colour = {n: lines[i % len(lines)] for i, n in enumerate(types)}
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
            f"{g.nodes[n]['number']}. {g.nodes[n]['label']}",
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
    """Heatmap: how many initiatives meet both types (diagonal: the type at all)."""
    rows = _direct_bottlenecks(graph, lang)
    labels = sorted({r["label"] for r in rows})
    met: dict[str, set[str]] = {label: set() for label in labels}
    for r in rows:
        met[r["label"]].add(r["i"])
    counts = [[len(met[a] & met[b]) for b in labels] for a in labels]
    fig = _figure(8.5, 7.5)
    ax = fig.add_subplot()
    image = ax.imshow(counts, cmap="cividis")
    peak = max(max(row) for row in counts)
    for y, row in enumerate(counts):
        for x, value in enumerate(row):
            ax.text(
                x,
                y,
                str(value),
                ha="center",
                va="center",
                fontsize=12,
                color="black" if value > peak / 2 else "white",
            )
    ax.set_xticks(range(len(labels)), labels, rotation=90)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel(TEXT[lang]["bottleneck"])
    ax.set_ylabel(TEXT[lang]["bottleneck"])
    ax.set_title(TEXT[lang]["cooccurrence"])
    fig.colorbar(image, ax=ax, label=TEXT[lang]["count"], shrink=0.8)
    return fig


def plot_by_province(graph: KnowledgeGraph, lang: str = "nl") -> Figure:
    """Stacked bars: per province, how many initiatives meet each bottleneck type."""
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
    fig = _figure(9, 5.5)
    ax = fig.add_subplot()
    bottom = [0] * len(provinces)
    for k, label in enumerate(labels):
        heights = [sum(1 for r in rows if r["label"] == label and r["province"] == p) for p in provinces]
        ax.bar(
            provinces,
            heights,
            bottom=bottom,
            label=label,
            color=OKABE_ITO[k % len(OKABE_ITO)],
            edgecolor="white",
        )
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_xlabel(TEXT[lang]["province"])
    ax.set_ylabel(TEXT[lang]["count"])
    ax.set_title(TEXT[lang]["by-province"])
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(title=TEXT[lang]["bottleneck"], frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
    return fig


def timeline_rows(graph: KnowledgeGraph, lang: str = "nl") -> list[tuple[str, int, int | None, str]]:
    """(label, start year, end year or None for a single year or open end, kind) from the data."""
    t = TEXT[lang]
    out: list[tuple[str, int, int | None, str]] = []
    for r in graph.query("""SELECT ?s ?e WHERE { ?p a mi:Programme ; dct:temporal ?t .
            ?t dcat:startDate ?s . OPTIONAL { ?t dcat:endDate ?e } }"""):
        out.append((t["programme"], int(r["s"]), int(r["e"]) if r["e"] else None, "period"))
    for r in graph.query("legal-form-history", lang=lang):
        short = r["name"].split()[-1]
        out.append(
            (
                f"{short}: {r['legalForm']}",
                int(r["from"]),
                int(r["until"]) if r["until"] else None,
                "open" if not r["until"] else "period",
            )
        )
    for r in _labelled(graph, "?i a mi:Initiative ; schema:foundingDate ?y .", lang, name="?i"):
        out.append((f"{r['name'].split()[-1]}: {t['founded']}", int(r["y"]), None, "event"))
    for r in _labelled(graph, "?i a mi:Initiative ; mi:goal/mi:targetYear ?y .", lang, name="?i"):
        out.append((f"{r['name']}: {t['goal']}", int(r["y"]), None, "event"))
    return sorted(out, key=lambda row: (row[1], row[3] != "event", row[0]))


def plot_timeline(graph: KnowledgeGraph, lang: str = "nl") -> Figure:
    """Periods as bars and single years as markers, one row each."""
    t = TEXT[lang]
    rows = timeline_rows(graph, lang)
    last = max(max(s, e or s) for _, s, e, _ in rows)
    fig = _figure(10, 1.6 + 0.55 * len(rows))
    ax = fig.add_subplot()
    for y, (_, start, end, kind) in enumerate(rows):
        if kind == "event":
            ax.scatter([start + 0.5], [y], marker="D", s=70, color=OKABE_ITO[5], zorder=2)
        else:
            stop = (end + 1) if end else last + 1.6  # an open end runs past the last year
            ax.barh(
                y,
                stop - start,
                left=start,
                height=0.5,
                zorder=2,
                color=OKABE_ITO[4] if kind == "period" else OKABE_ITO[2],
                hatch="//" if kind == "open" else None,
                edgecolor="white",
            )
    ax.set_yticks(range(len(rows)), [r[0] for r in rows])
    ax.invert_yaxis()
    first = min(s for _, s, _, _ in rows)
    ax.set_xticks([y + 0.5 for y in range(first, last + 1)], [str(y) for y in range(first, last + 1)])
    ax.set_xticks(range(first, last + 2), minor=True)
    ax.set_xlim(first - 0.3, last + 1.7)
    ax.grid(axis="x", which="minor", color="#dddddd", zorder=0)
    ax.tick_params(axis="x", which="minor", length=0)
    ax.set_xlabel(t["year"])
    ax.set_title(t["timeline"])
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    ax.legend(
        handles=[
            Patch(color=OKABE_ITO[4], label=t["legend_period"]),
            Patch(facecolor=OKABE_ITO[2], hatch="//", edgecolor="white", label=t["open"]),
            Line2D([], [], marker="D", linestyle="", color=OKABE_ITO[5], label=t["legend_event"]),
        ],
        frameon=False,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.18),
        ncols=3,
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
    """The NetworkX graph as GraphML or GEXF, for Gephi and Cytoscape."""
    import io

    import networkx as nx

    g = to_networkx(graph, lang)
    out = io.BytesIO()
    if fmt == "graphml":
        nx.write_graphml(g, out)
    elif fmt == "gexf":
        nx.write_gexf(g, out)
    else:
        raise UsageError(f"unknown graph format {fmt!r} (known: {', '.join(NETWORK_FORMATS)})")
    return out.getvalue()
