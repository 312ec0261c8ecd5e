"""The ``kg`` command: a thin shell over the Python API.

Exit status: 0 success (data conforms; graphs equal), 1 data does not conform (graphs differ;
files not canonical), 2 usage or input error,
3 internal error (a bug: please report it).
Data goes to stdout, messages to stderr; errors are one line, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from kg.core.errors import KgError, QueryError, UsageError
from kg.core.files import write_atomic
from kg.core.messages import say
from kg.core.namespaces import GRAPH
from kg.core.report import REPORT_FORMATS
from kg.core.results import QUERY_FORMATS
from kg.core.version import __version__
from kg.engines.oxigraph.inference import REASONERS
from kg.graph import ENGINES
from kg.publish.export import EXPORT_FORMATS
from kg.steward.diff import DIFF_FORMATS
from kg.views.figures import NETWORK_FORMATS, PLOTS

EXIT_OK, EXIT_NONCONFORMING, EXIT_INTERNAL = 0, 1, 3  # 2 (usage or input error) comes with KgError
DEFAULT_PAGE_SIZE = 100  # rows per page of a query with no '#+ pagination' of its own

EXAMPLES = {
    "info": "example:\n  kg info",
    "init": "example:\n  kg init register-dordrecht && cd register-dordrecht && kg validate",
    "validate": "examples:\n  kg validate\n  kg validate my-data.ttl --format json\n"
    "  kg validate --format html -o rapport.html\n"
    "  kg validate --shapes extra-shapes.ttl --lang en\n"
    "  kg validate --endpoint http://127.0.0.1:7878/query     # the graphs kg push wrote there",
    "queries": "example:\n  kg queries",
    "query": "examples:\n  kg query initiatives\n"
    "  kg query shared-bottlenecks -p bottleneck=fiscaliteit\n"
    "  kg query initiatives-by-legal-form -p legalform=privaatrechtelijk --format csv\n"
    "  kg query my-question.rq --no-infer --format json\n"
    "  kg query initiatives --page 2 --page-size 50",
    "export": "examples:\n  kg export > kg.ttl\n  kg export --format jsonld --inferred -o kg.jsonld\n"
    "  kg export --format trig --inferred\n"
    "  kg export --format graphml -o kg.graphml   # for Gephi or Cytoscape",
    "diff": "examples:\n  kg diff old.ttl new.ttl\n"
    "  kg diff HEAD~1:data data        # what changed since the last commit\n"
    "  kg diff main:data data --format turtle",
    "import": "examples:\n  kg import --template > nieuw.csv      # the documented template\n"
    "  kg import nieuw.csv --dry-run        # check and show, write nothing\n"
    "  kg import nieuw.csv",
    "release": "examples:\n  kg release --out release-0.1.0\n"
    "  kg release --out site/release --base-url https://example.org/kg/ --force",
    "serve": "examples:\n  kg serve                         # http://127.0.0.1:8000/ ; SPARQL at /sparql\n"
    "  kg serve --port 9000 --timeout 5 --max-rows 1000",
    "push": "examples:\n"
    "  kg push --endpoint http://127.0.0.1:7878/store --query-endpoint http://127.0.0.1:7878/query\n"
    "  KG_PASSWORD=... kg push --endpoint http://127.0.0.1:8890/sparql-graph-crud-auth --user kg \\\n"
    "      --query-endpoint http://127.0.0.1:8890/sparql --strict   # Virtuoso; exit 1: a literal rewritten",
    "infer": "examples:\n  kg infer -o inferred.nt\n"
    "  kg infer --endpoint http://127.0.0.1:7878/query --update-endpoint http://127.0.0.1:7878/update",
    "cache": "examples:\n  kg cache          # where the cache folder is\n  kg cache clear    # empty it",
    "synth": "examples:\n  kg synth --initiatives 1000 -o synth-1k.ttl\n"
    "  kg synth --initiatives 100000 --seed 7 --invalid-rate 0.01 -o synth-100k.nt\n"
    "  kg validate --data data/referentie/gemeenten.ttl data/programma.ttl synth-1k.ttl",
    "fmt": "examples:\n  kg fmt                 # rewrite ontology/ and data/ in canonical Turtle\n"
    "  kg fmt --check         # exit 1 if a file is not canonical (CI)\n"
    "  kg fmt data/initiatieven/12-nieuw.ttl",
    "schema": "examples:\n  kg schema                     # classes, properties, codes and prefixes\n"
    "  kg schema --lang en | less\n  kg schema --format json > schema.json\n"
    "  kg schema --format turtle     # RDF, with VoID class and property partitions",
    "plot": "examples:\n  kg plot network -o network.png\n"
    "  kg plot cooccurrence --lang en -o cooccurrence.svg\n"
    "  kg plot by-province\n  kg plot timeline",
}


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see {self.prog} --help)")


def _reasoner_option(p: argparse.ArgumentParser, before: str = "", after: str = "") -> None:
    """The one ``--reasoner`` option, worded for its verb."""
    p.add_argument(
        "--reasoner",
        choices=REASONERS,
        default="rules",
        help=f"{before}rules (fast, default) or owlrl (full OWL 2 RL reference){after}",
    )


def _allow_service_option(p: argparse.ArgumentParser) -> None:
    """The one ``--allow-service`` option (kg query, kg serve)."""
    p.add_argument(
        "--allow-service",
        metavar="PREFIX",
        action="append",
        default=[],
        help="allow SERVICE calls to endpoints whose IRI starts with PREFIX (repeatable; "
        "default: federated queries are refused)",
    )


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--lang", choices=("nl", "en"), default="nl", help="language of labels and messages (default: nl)"
    )
    data = argparse.ArgumentParser(add_help=False)
    data.add_argument(
        "--data",
        metavar="FILE|DIR",
        action="extend",
        nargs="+",
        type=Path,
        help="use these RDF files (or the RDF files in these folders) instead of the project's data",
    )
    data.add_argument(
        "--base",
        metavar="IRI",
        help="resolve relative IRIs in the files against IRI (default: each file's own file:// IRI)",
    )
    engine = argparse.ArgumentParser(add_help=False)
    engine.add_argument(
        "--engine",
        choices=ENGINES,
        default=next(iter(ENGINES)),
        help="oxigraph: fast path (default); rdflib: reference path with rdflib, owlrl "
        "and pyshacl, for comparison",
    )
    remote = argparse.ArgumentParser(add_help=False)
    remote.add_argument(
        "--user",
        metavar="NAME",
        help="user for Basic or Digest authentication; the password comes from $KG_PASSWORD (or the "
        "variable --password-env names) or ~/.netrc, never from the command line",
    )
    remote.add_argument(
        "--password-env", metavar="VAR", default="KG_PASSWORD", help="variable holding the password"
    )
    remote.add_argument(
        "--header",
        metavar="'NAME: VALUE'",
        action="append",
        default=[],
        help="extra HTTP header (repeatable)",
    )
    remote.add_argument(
        "--graph-base",
        metavar="IRI",
        default=GRAPH,
        help=f"the store's graphs are IRI + ontology, data, inferred (default {GRAPH})",
    )
    remote.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for the store (default 60)"
    )
    cached = argparse.ArgumentParser(add_help=False)
    cached.add_argument(
        "--no-cache",
        action="store_true",
        help="neither use nor fill the cache folder (kg cache shows where it is)",
    )
    out = argparse.ArgumentParser(add_help=False)
    out.add_argument(
        "-o", "--output", metavar="FILE", type=Path, help="write to FILE (atomically) instead of stdout"
    )

    parser = _Parser(
        prog="kg",
        description="A linked-data knowledge graph of Dutch citizen initiatives "
        "(Ruim op de Regels): validate, infer, query and export.",
        epilog="exit status:\n"
        "  0    success (data conforms; graphs equal; files canonical)\n"
        "  1    data does not conform (kg diff: graphs differ; kg fmt --check: a file to reformat;\n"
        "       kg import: invalid rows)\n"
        "  2    usage or input error (unknown verb, option, query or parameter; unreadable file;\n"
        "       SPARQL syntax error)\n"
        "  3    internal error: a bug in kg (KG_DEBUG=1 shows the traceback)\n"
        "  130  interrupted (Ctrl-C)\n\n"
        "kg VERB --help shows each verb's options and examples.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"kg {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)

    def verb(name: str, helptext: str, *parents: argparse.ArgumentParser) -> argparse.ArgumentParser:
        return verbs.add_parser(
            name,
            help=helptext,
            description=helptext,
            parents=[common, *parents],
            epilog=EXAMPLES[name],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    verb(
        "info", "what is loaded: the project folder (or the bundled files), files, triples, initiatives", data
    )

    p = verb("init", "start a project folder: the bundled ontology, shapes, data and queries, and a kg.toml")
    p.add_argument("dir", metavar="DIR", type=Path, help="the new folder (must not exist, or be empty)")

    p = verb(
        "validate",
        "validate data against the SHACL shapes (exit 1 if it does not conform)",
        data,
        engine,
        out,
        remote,
        cached,
    )
    p.add_argument(
        "--endpoint",
        metavar="URL",
        help="validate the graphs kg push wrote to this SPARQL endpoint, with the checks run there",
    )
    p.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        type=Path,
        help="data files to validate with the rest of the project's data (a file of the same name "
        "stands in for the project's)",
    )
    p.add_argument(
        "--alone", action="store_true", help="validate the FILEs alone, without the project's data"
    )
    p.add_argument(
        "--shapes",
        metavar="FILE",
        action="append",
        type=Path,
        help="use these SHACL shapes instead of the bundled ones (repeatable)",
    )
    p.add_argument(
        "--format",
        choices=REPORT_FORMATS,
        default="text",
        help="text (default: grouped by initiative, with values, files and lines), html (a readable page), "
        "turtle (the W3C SHACL report) or json",
    )

    verb("queries", "list the stored queries and their parameters")

    p = verb("query", "run a stored query by name, or a .rq file", data, engine, out, remote, cached)
    p.add_argument(
        "name", metavar="NAME|FILE.rq", help="a stored query (kg queries lists them) or a .rq file"
    )
    p.add_argument(
        "-p",
        "--param",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help="a query parameter (repeatable)",
    )
    p.add_argument(
        "--format",
        choices=QUERY_FORMATS,
        default="table",
        help="table (default); csv, tsv, json, xml (W3C SPARQL results) or xlsx (an Excel workbook; "
        "needs -o) for SELECT/ASK; turtle, nt, jsonld, xml for CONSTRUCT/DESCRIBE",
    )
    p.add_argument("--no-infer", action="store_true", help="query asserted triples only")
    p.add_argument(
        "--page",
        type=int,
        metavar="N",
        help="only page N (from 1) of the answer; stderr says whether more pages follow",
    )
    p.add_argument(
        "--page-size",
        type=int,
        metavar="ROWS",
        help="rows per page (default: the query's '#+ pagination', else 100); alone, means --page 1",
    )
    p.add_argument(
        "--cell-width",
        metavar="N",
        type=int,
        help="for --format table: cut values longer than N characters with an ellipsis (default: whole)",
    )
    p.add_argument(
        "--dialect",
        choices=("rfc4180", "excel-nl"),
        default="rfc4180",
        help="for --format csv: rfc4180 (W3C SPARQL CSV, default) or excel-nl (semicolons, decimal commas "
        "and a UTF-8 BOM, for Excel with Dutch settings)",
    )
    _allow_service_option(p)
    _reasoner_option(p)
    p.add_argument(
        "--endpoint",
        metavar="URL",
        help="run on this SPARQL 1.1 endpoint instead (after kg push), e.g. http://host/query",
    )

    p = verb(
        "infer",
        "compute the inferred triples (N-Triples), or fill the store's inferred graph",
        data,
        out,
        remote,
    )
    _reasoner_option(p, after="; a store (--endpoint) always gets the rules")
    p.add_argument("--endpoint", metavar="URL", help="the store's SPARQL query endpoint (after kg push)")
    p.add_argument(
        "--update-endpoint", metavar="URL", help="the store's SPARQL Update endpoint (needed with --endpoint)"
    )

    p = verb("export", "write the graph in an RDF format", data, out)
    p.add_argument(
        "--format",
        choices=(*EXPORT_FORMATS, *NETWORK_FORMATS),
        default="turtle",
        help="turtle (default), nt, jsonld, xml (RDF/XML), trig, nquads; graphml or gexf for Gephi",
    )
    p.add_argument(
        "--inferred",
        action="store_true",
        help="add the inferred triples (a named graph of their own in trig/nquads)",
    )
    _reasoner_option(p, before="with --inferred: ")

    p = verb("diff", "what changed between two graphs (exit 1 if they differ, as diff does)", out)
    p.add_argument("old", metavar="OLD", help="file, folder or REV:PATH")
    p.add_argument("new", metavar="NEW", help="file, folder or REV:PATH")
    p.add_argument(
        "--base",
        metavar="IRI",
        help="resolve relative IRIs in both graphs against IRI (default: each file's own file:// IRI; "
        "for REV:PATH, the IRI of PATH in the working tree)",
    )
    p.add_argument(
        "--format",
        choices=DIFF_FORMATS,
        default="text",
        help="text (default: grouped by initiative) or turtle (added and removed triples)",
    )

    p = verb("import", "add or update initiatives from a spreadsheet (CSV), validated first")
    p.add_argument("file", nargs="?", metavar="FILE.csv", type=Path, help="the spreadsheet (CSV) to import")
    p.add_argument("--dry-run", action="store_true", help="check everything, show the changes, write nothing")
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        type=Path,
        help="the data folder to write to (default: data/ of the project folder)",
    )
    p.add_argument("--template", action="store_true", help="print the CSV template and stop")
    p.add_argument(
        "--max-size", metavar="MB", type=float, default=100.0, help="largest file read, in MB (default 100)"
    )

    p = verb(
        "release",
        "build a complete, reproducible release folder (refused if the data does not conform)",
        data,
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        default=Path("release"),
        help="the folder to create (default: ./release)",
    )
    p.add_argument(
        "--base-url",
        metavar="URL",
        help="where the files will be published (default: https://w3id.org/initiatieven/release/VERSION/)",
    )
    p.add_argument("--force", action="store_true", help="replace DIR if it exists")

    p = verb("serve", "serve a read-only SPARQL endpoint, the stored queries and linked-data pages", data)
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)"
    )
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds a query may run (default 10)")
    p.add_argument(
        "--max-rows",
        type=int,
        default=10000,
        help="most result rows or triples computed and sent (default 10000)",
    )
    p.add_argument(
        "--max-request-size",
        type=int,
        default=1_000_000,
        help="largest request body in bytes; larger ones get 413 (default 1000000)",
    )
    p.add_argument(
        "--workers", type=int, default=2, help="queries that may run longer than 0.5 s at once (default 2)"
    )
    p.add_argument(
        "--queue",
        type=int,
        default=64,
        help="requests in progress at once; more get 503 with Retry-After (default 64)",
    )
    p.add_argument(
        "--memory-cap",
        type=int,
        default=1024,
        metavar="MB",
        help="memory a query may use above its worker's start; more stops it with 503 (default 1024)",
    )
    _allow_service_option(p)
    p.add_argument(
        "--cors-origin",
        default="*",
        help="Access-Control-Allow-Origin of the read-only data routes (default *)",
    )
    p.add_argument(
        "--named-graph",
        metavar="IRI=FILE",
        action="append",
        default=[],
        help="also serve FILE as the named graph IRI (not part of the default graph; repeatable)",
    )
    p.add_argument(
        "--no-validate",
        action="store_true",
        help="serve data that does not conform to the shapes (default: refuse it, exit 1)",
    )

    p = verb(
        "push",
        "replace kg's ontology, data and inferred graphs in a store (SPARQL 1.1 Graph Store Protocol)",
        data,
        remote,
    )
    p.add_argument("--endpoint", metavar="URL", required=True, help="the store's Graph Store endpoint")
    p.add_argument("--no-inferred", action="store_true", help="push asserted triples only")
    p.add_argument(
        "--query-endpoint",
        metavar="URL",
        help="the store's SPARQL query endpoint: afterwards, check that it gives back every typed literal "
        "as written (one warning line per datatype it rewrote)",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 if the store gives back a literal in another form (needs --query-endpoint)",
    )

    p = verb("cache", "show where the cache folder is, or empty it (kg cache clear)")
    p.add_argument(
        "action",
        nargs="?",
        choices=("path", "clear"),
        default="path",
        help="path: print the cache folder (default); clear: remove every kept graph and answer",
    )

    p = verb("synth", "write synthetic initiatives (marked as such) for testing at scale")
    p.add_argument(
        "--initiatives", type=int, required=True, metavar="N", help="how many initiatives to write"
    )
    p.add_argument(
        "--seed", type=int, default=1, help="random seed: the same seed gives the same file (default 1)"
    )
    p.add_argument(
        "--invalid-rate",
        type=float,
        default=0.0,
        metavar="R",
        help="share of initiatives made invalid on purpose (0 to 1)",
    )
    p.add_argument(
        "-o", "--output", metavar="FILE", type=Path, required=True, help="the file to write: .nt or .ttl"
    )

    p = verb("fmt", "write Turtle files in canonical form (default: ontology/ and data/)")
    p.add_argument(
        "files", nargs="*", metavar="FILE", type=Path, help="Turtle files (default: ontology/ and data/)"
    )
    p.add_argument(
        "--base",
        metavar="IRI",
        help="resolve relative IRIs against IRI and write them in full (default: relative IRIs are "
        "refused, as the written file would name this machine's file:// path)",
    )
    p.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if any file is not in canonical form"
    )
    p.add_argument(
        "--drop-comments",
        action="store_true",
        help="rewrite files even if comments outside their opening comment block are lost (without it, "
        "such a file is refused with exit 2, naming the comment's line)",
    )

    p = verb(
        "schema",
        "the classes, properties (domain, range, uses, kinds of value), concept codes and prefixes "
        "to write queries with",
        data,
        out,
    )
    p.add_argument(
        "--format",
        choices=("table", "json", "turtle"),
        default="table",
        help="table (default), json or turtle",
    )

    p = verb("plot", "draw a figure: network, cooccurrence, by-province or timeline", data)
    p.add_argument("kind", choices=PLOTS, metavar="KIND", help=", ".join(PLOTS))
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        type=Path,
        help="write the figure to FILE, .png or .svg (atomically; default: KIND.png)",
    )
    return parser


def _write(data: bytes, output: Path | None) -> None:
    """Write to stdout, or to ``output`` through a temporary file renamed into place."""
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    write_atomic(output, data)


def _params(pairs: Sequence[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"-p {pair!r}: expected NAME=VALUE")
        params[name.strip()] = value
    return params


def _check_utf8(argv: Sequence[str]) -> None:
    """UsageError for an argument that is not valid UTF-8 (Python keeps such bytes as surrogates)."""
    for arg in argv:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            raw = arg.encode("utf-8", "surrogateescape")
            raise UsageError(f"argument {raw!r} is not valid UTF-8 text") from None


def _expand_files(args: argparse.Namespace) -> None:
    """--data and FILE arguments: folders become their RDF files; each file is checked before reading.

    Pending changes in those folders are finished first (kg.core.files.settle); FIFOs, devices and
    RDF/XML with runaway or external entities are refused here, for both engines.
    """
    from kg.core.bundle import expand
    from kg.core.loading import check_file

    for name in ("data", "files"):
        given = getattr(args, name, None)
        if given and args.verb != "fmt":
            setattr(args, name, expand(given))
            for path in getattr(args, name):
                check_file(path)


def _init(args: argparse.Namespace) -> int:
    from kg.core.bundle import init

    target = init(args.dir, args.lang)
    print(f"kg: {say('init.started', args.lang, path=target)}", file=sys.stderr)
    return EXIT_OK


def _info(args: argparse.Namespace) -> int:
    from kg.core.queries import stored
    from kg.graph import KnowledgeGraph

    kg = KnowledgeGraph.load(args.data, base=getattr(args, "base", None))
    counts = kg.query(
        """PREFIX mi: <https://w3id.org/initiatieven/def/>
        PREFIX tooi: <https://identifier.overheid.nl/tooi/def/ont/>
        SELECT (COUNT(DISTINCT ?i) AS ?initiatives) (COUNT(DISTINCT ?g) AS ?municipalities)
        WHERE { { ?i a mi:Initiative } UNION { ?g a tooi:Gemeente } }""",
        infer=False,
    )
    row = next(iter(counts))
    from kg.core.bundle import find_project, folder, root
    from kg.graph import DATA, ONTOLOGY

    project = find_project()
    where = (
        f"project:         {project}" if project else f"bundled files:   {root()} (no project folder here)"
    )
    lines = [
        f"kg {__version__}",
        where,
        *(f"{name + ':':<17}{folder(name)}" for name in ("ontology", "shapes", "data", "queries") if project),
        f"ontology files:  {len(kg.ontology_files)} ({len(kg.triples(ONTOLOGY))} triples)",
        f"data files:      {len(kg.data_files)} ({len(kg.triples(DATA))} triples)",
        f"initiatives:     {row['initiatives']}",
        f"municipalities:  {row['municipalities']}",
        f"stored queries:  {len(stored())} (kg queries lists them)",
    ]
    _write(("\n".join(lines) + "\n").encode(), None)
    return EXIT_OK


def _validated_files(args: argparse.Namespace) -> list[Path] | None:
    """The data to validate: FILEs with the rest of the data (--data, or the project's), or alone.

    A FILE with the same name as a data file stands in for it (an edited copy is checked in its place).
    """
    from kg.core.bundle import data_files

    given = list(args.files or [])
    if not given or args.alone:
        return (given + list(args.data or [])) or None
    rest = list(args.data or data_files())
    names = {Path(f).name for f in given}
    paths = {Path(f).resolve() for f in given}
    return given + [f for f in rest if Path(f).name not in names and Path(f).resolve() not in paths]


def _client(args: argparse.Namespace, url: str) -> object:
    from kg.stores.client import Client, access, check_url

    check_url(url)
    how = access(
        url, args.user, password_variable=args.password_env, headers=args.header, timeout=args.timeout
    )
    return Client(url, how)


def _graphs(args: argparse.Namespace) -> object:
    from kg.stores.remote import Graphs

    return Graphs(args.graph_base)


def _validate(args: argparse.Namespace) -> int:
    from kg.core.progress import progress
    from kg.graph import KnowledgeGraph

    if args.endpoint:
        from kg.stores.remote import validate

        if args.files or args.data or args.engine != "oxigraph":
            raise UsageError("--endpoint validates the store's graphs: no FILE, --data or --engine with it")
        with progress(f"validating on {args.endpoint}"):
            report = validate(_client(args, args.endpoint), _graphs(args), args.shapes)
        text = {
            "text": lambda: report.text(args.lang),
            "html": lambda: report.html(args.lang),
            "turtle": report.turtle,
            "json": report.json,
        }
        _write(text[args.format]().encode(), args.output)
        return EXIT_OK if report.conforms else EXIT_NONCONFORMING
    files = _validated_files(args)
    with progress(say("validate.progress", args.lang, engine=args.engine)):
        # the cache only where it is there already: a graph seen before, or one a small change away
        cache = args.engine == "oxigraph" and not args.no_cache
        graph = KnowledgeGraph.load(
            files or None, engine=args.engine, base=getattr(args, "base", None), cache=cache, build=False
        )
        report = graph.validate(args.shapes, engine=args.engine)
    text = {
        "text": lambda: report.text(args.lang),
        "html": lambda: report.html(args.lang),
        "turtle": report.turtle,
        "json": report.json,
    }
    _write(text[args.format]().encode(), args.output)
    return EXIT_OK if report.conforms else EXIT_NONCONFORMING


def _queries(args: argparse.Namespace) -> int:
    from kg.core.queries import stored

    lines = []
    for query in stored().values():
        params = " ".join(
            p.name if p.required else f"[{p.name}]" for p in query.parameters if p.name != "lang"
        )
        lines.append((query.name, params, query.summary))
    width = max(len(n) for n, _, _ in lines)
    pwidth = max(len(p) for _, p, _ in lines)
    text = "\n".join(f"{n.ljust(width)}  {p.ljust(pwidth)}  {s}" for n, p, s in lines)
    _write((text + "\n").encode(), None)
    return EXIT_OK


def _query(args: argparse.Namespace) -> int:
    from kg.core.namespaces import PREFIXES
    from kg.core.progress import progress
    from kg.core.queries import get
    from kg.core.sparql_text import check
    from kg.graph import DEFAULT_REASONER, KnowledgeGraph

    if args.format == "xlsx" and args.output is None and sys.stdout.isatty():
        raise UsageError("--format xlsx writes a binary workbook: give -o FILE.xlsx")
    stored = get(args.name)
    if (args.page is not None and args.page < 1) or (args.page_size is not None and args.page_size < 1):
        raise UsageError("--page and --page-size must be at least 1")
    if args.endpoint and (args.page or args.page_size):
        raise UsageError("--page does not go with --endpoint")
    try:  # before any work
        check(stored.text, allow_service=args.allow_service, prefixes=PREFIXES)
    except QueryError as err:
        raise QueryError(f"{stored.path or stored.name}: {err}") from None
    if args.engine == "rdflib" and args.endpoint:
        raise UsageError("--engine and --endpoint do not go together (the endpoint is the engine)")
    if args.cell_width is not None and (args.cell_width < 2 or args.format != "table"):
        raise UsageError("--cell-width N goes with --format table, and N must be at least 2")
    if args.endpoint:
        from kg.stores.remote import query

        if args.data:
            raise UsageError("--data and --endpoint do not go together (the store has the data)")
        result = query(
            stored,
            _client(args, args.endpoint),
            _params(args.param),
            names=_graphs(args),
            infer=not args.no_infer,
            lang=args.lang,
            allow_service=args.allow_service,
        )
        _write(_dialect(result.serialize(args.format), args), args.output)
        return EXIT_OK
    cache = args.engine == "oxigraph" and not args.no_cache
    with progress("loading and inferring"):
        kg = KnowledgeGraph.load(args.data, engine=args.engine, base=getattr(args, "base", None), cache=cache)
        # the default reasoner runs when the query needs it (not at all if the cache has the answer)
        other = args.engine != "oxigraph" or args.reasoner != DEFAULT_REASONER
        if stored.inference and not args.no_infer and other:
            kg.infer(args.reasoner if args.engine == "oxigraph" else "owlrl")
    paged = args.page is not None or args.page_size is not None
    size = args.page_size or stored.pagination or DEFAULT_PAGE_SIZE
    page = args.page or 1
    result = kg.query(
        stored,
        _params(args.param),
        infer=not args.no_infer,
        lang=args.lang,
        allow_service=args.allow_service,
        offset=(page - 1) * size if paged else 0,
        limit=size if paged else None,
        stream=args.dialect == "rfc4180",
    )
    for warning in result.warnings:
        print(f"kg: warning: {stored.path or stored.name}: {warning}", file=sys.stderr)
    shown = [0]  # rows (or triples) written; a streamed answer is counted as it goes
    field = "rows" if result.form == "SELECT" else "triples"
    if paged and result.form != "ASK":
        items = getattr(result, field)

        def counted() -> Iterator:
            for item in items:
                shown[0] += 1
                yield item

        if isinstance(items, list):
            shown[0] = len(items)
        else:
            setattr(result, field, counted())
    if args.dialect != "rfc4180":
        data = (
            result.table(args.cell_width).encode()
            if args.format == "table"
            else result.serialize(args.format)
        )
        _write(_dialect(data, args), args.output)
    else:
        _stream(result, args.format, args.output, args.cell_width)
    if paged and result.form != "ASK":
        print(f"kg: {_page_note(page, size, shown[0], result.truncated, field)}", file=sys.stderr)
    return EXIT_OK


def _page_note(page: int, size: int, rows: int, more: bool, what: str = "rows") -> str:
    """What a page of ``size`` rows held: which rows, and whether more follow."""
    first = (page - 1) * size + 1
    if not rows:
        return f"page {page} is past the end: the answer has fewer than {first} {what}"
    span = f"{first}-{first + rows - 1}" if rows > 1 else f"{first}"
    where = f"page {page}: {what if rows > 1 else what[:-1]} {span}"
    return f"{where}; more: --page {page + 1}" if more else f"{where} (the last page)"


def _stream(result: object, fmt: str, output: Path | None, width: int | None = None) -> None:
    """Write a streamed answer as it comes: to stdout, or to ``output`` through a temporary file."""
    from kg.core.files import atomic_output

    if output is None:
        result.write(sys.stdout.buffer, fmt, width)
        sys.stdout.flush()
        return
    with atomic_output(output) as handle:
        result.write(handle, fmt, width)


def _dialect(data: bytes, args: argparse.Namespace) -> bytes:
    """Query output in the CSV dialect asked for (only csv has dialects)."""
    if args.dialect == "rfc4180":
        return data
    if args.format != "csv":
        raise UsageError(f"--dialect {args.dialect} goes with --format csv")
    from kg.core.spreadsheet import excel_nl

    return excel_nl(data.decode("utf-8")).encode("utf-8")


def _export(args: argparse.Namespace) -> int:
    from kg.graph import KnowledgeGraph
    from kg.publish.export import serialize

    kg = KnowledgeGraph.load(args.data, base=getattr(args, "base", None))
    if args.format in NETWORK_FORMATS:
        from kg.views.figures import graph_bytes

        _write(graph_bytes(kg, args.format, args.lang), args.output)
        return EXIT_OK
    if args.inferred:
        kg.infer(args.reasoner)
    _write(serialize(kg, args.format, inferred=args.inferred), args.output)
    return EXIT_OK


def _diff(args: argparse.Namespace) -> int:
    from kg.steward.diff import diff, read

    result = diff(read(args.old, args.base), read(args.new, args.base))
    text = result.text(args.lang) if args.format == "text" else result.turtle(args.lang)
    _write(text.encode(), args.output)
    return EXIT_NONCONFORMING if result else EXIT_OK


def _import(args: argparse.Namespace) -> int:
    from kg.core.progress import progress
    from kg.steward.intake import ImportRejected, import_csv

    if args.template:
        from kg.core.bundle import root

        _write((root() / "templates" / "initiatieven.csv").read_bytes(), None)
        return EXIT_OK
    lang = args.lang
    if args.file is None:
        raise UsageError(say("import.needs_file", lang))
    try:
        with progress(say("import.progress", lang, name=args.file.name)):
            result = import_csv(
                args.file,
                args.data_dir,
                dry_run=args.dry_run,
                max_bytes=int(args.max_size * 1_000_000),
                lang=lang,
            )
    except ImportRejected as err:
        for problem in err.errors:
            print(f"kg: {args.file}: {problem.text(lang)}", file=sys.stderr)
        if err.report:
            print(err.report, end="", file=sys.stderr)
        raise
    if not result.changed:
        print(f"kg: {say('import.no_changes', lang, path=args.file)}", file=sys.stderr)
        return EXIT_OK
    _write(result.report(lang).encode(), None)
    names = [str(p) for p in result.files]
    more = f" {say('import.more', lang, count=len(names) - 5)}" if len(names) > 5 else ""
    summary = say(
        "import.summary",
        lang,
        path=args.file,
        encoding=result.encoding,
        delimiter=result.delimiter,
        created=len(result.created),
        updated=len(result.updated),
        verb=say("import.would_write" if args.dry_run else "import.wrote", lang),
        count=len(names),
        shown=", ".join(names[:5]) + more,
    )
    print(f"kg: {summary}", file=sys.stderr)
    return EXIT_OK


def _release(args: argparse.Namespace) -> int:
    from kg.graph import KnowledgeGraph
    from kg.publish.release import release, terminal_progress

    files = release(
        args.out,
        KnowledgeGraph.load(args.data, base=getattr(args, "base", None)),
        base_url=args.base_url,
        force=args.force,
        progress=terminal_progress(),
    )
    print(f"kg: released {len(files)} files into {args.out}", file=sys.stderr)
    return EXIT_OK


def _push(args: argparse.Namespace) -> int:
    from kg.graph import KnowledgeGraph
    from kg.stores import literals
    from kg.stores.remote import RemoteError, push, pushed

    if args.strict and not args.query_endpoint:
        raise UsageError("--strict needs --query-endpoint (the URL to read the literals back from)")
    client = _client(args, args.endpoint)
    reader = _client(args, args.query_endpoint) if args.query_endpoint else None
    graph = KnowledgeGraph.load(args.data, base=getattr(args, "base", None))
    counts = push(graph, client, args.endpoint, _graphs(args), inferred=not args.no_inferred)
    graphs = ", ".join(f"{n} to {iri}" for iri, n in counts.items())
    print(f"kg: pushed {sum(counts.values())} triples to {args.endpoint}: {graphs}", file=sys.stderr)
    if reader is None:
        print("kg: literals not read back (give --query-endpoint to check them)", file=sys.stderr)
        return EXIT_OK
    try:
        changed = literals.check(pushed(graph, _graphs(args), inferred=not args.no_inferred), reader)
    except RemoteError as err:
        if args.strict:
            raise
        print(f"kg: warning: literals not read back: {err}", file=sys.stderr)
        return EXIT_OK
    for change in changed:
        print(f"kg: warning: {change.line()}", file=sys.stderr)
    if not changed:
        print("kg: the store gives back every typed literal as written", file=sys.stderr)
    elif args.strict:
        total = sum(c.count for c in changed)
        print(f"kg: {total} literal(s) not kept as written by the store (--strict)", file=sys.stderr)
        return EXIT_NONCONFORMING
    return EXIT_OK


def _infer(args: argparse.Namespace) -> int:
    from kg.graph import KnowledgeGraph

    if args.endpoint or args.update_endpoint:
        from kg.stores.remote import infer

        if not (args.endpoint and args.update_endpoint):
            raise UsageError(
                "--endpoint and --update-endpoint go together (the store's query and update URLs)"
            )
        if args.data:
            raise UsageError("--data and --endpoint do not go together (the store has the data)")
        count = infer(_client(args, args.endpoint), args.update_endpoint, _graphs(args))
        print(f"kg: the store's inferred graph holds {count} triples", file=sys.stderr)
        return EXIT_OK
    graph = KnowledgeGraph.load(args.data, base=getattr(args, "base", None))
    graph.infer(args.reasoner)
    inferred = graph.triples(graph.graphs(inferred=True)[2])
    _write("".join(f"{t} .\n" for t in inferred).encode("utf-8"), args.output)
    print(f"kg: {len(inferred)} inferred triples", file=sys.stderr)
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    from kg.serve.contract import NotConforming
    from kg.serve.server import serve

    named = []
    for spec in args.named_graph:
        iri, sep, path = spec.partition("=")
        if not sep or ":" not in iri or not Path(path).is_file():
            raise UsageError(f"--named-graph {spec!r}: expected IRI=FILE with an existing file")
        named.append((iri, path))
    if min(args.workers, args.queue, args.memory_cap, args.max_rows) < 1 or args.timeout <= 0:
        raise UsageError("--workers, --queue, --memory-cap, --max-rows and --timeout must be positive")
    try:
        serve(
            args.host,
            args.port,
            args.data,
            timeout=args.timeout,
            max_rows=args.max_rows,
            max_request_size=args.max_request_size,
            workers=args.workers,
            queue=args.queue,
            memory_cap=args.memory_cap,
            allow_service=args.allow_service,
            cors_origin=args.cors_origin,
            named_graphs=named,
            base=args.base,
            validate=not args.no_validate,
        )
    except NotConforming as err:
        print(str(err), end="", file=sys.stderr)
        print(
            "kg: error: the data does not conform to the shapes: not serving it "
            "(kg validate tells why; --no-validate serves it anyway)",
            file=sys.stderr,
        )
        return EXIT_NONCONFORMING
    except OSError as err:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {err.strerror or err}") from None
    return EXIT_OK


def _cache(args: argparse.Namespace) -> int:
    from kg.core import cache

    if args.action == "clear":
        count = cache.clear()
        print(
            f"kg: removed {count} cached graph{'' if count == 1 else 's'} from {cache.root()}",
            file=sys.stderr,
        )
    else:
        _write(f"{cache.root()}\n".encode(), None)
    return EXIT_OK


def _synth(args: argparse.Namespace) -> int:
    from kg.synth.generate import write

    if args.initiatives < 1 or not 0 <= args.invalid_rate <= 1:
        raise UsageError("--initiatives must be at least 1 and --invalid-rate between 0 and 1")
    count = write(args.output, args.initiatives, args.seed, args.invalid_rate)
    print(f"kg: wrote {count} synthetic triples to {args.output}", file=sys.stderr)
    return EXIT_OK


def _fmt(args: argparse.Namespace) -> int:
    from kg.steward.fmt import fmt

    changed = fmt(
        args.files, check=args.check, base=args.base, lang=args.lang, drop_comments=args.drop_comments
    )
    for path, line in changed.items():
        key = ("fmt.would_drop" if line else "fmt.would") if args.check else "fmt.did"
        print(say(key, args.lang, path=path, line=line), file=sys.stderr)
    if args.check and changed:
        return EXIT_NONCONFORMING
    if not changed:
        print(f"kg: {say('fmt.canonical', args.lang)}", file=sys.stderr)
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    from kg.graph import KnowledgeGraph
    from kg.publish.schema import render, schema

    graph = KnowledgeGraph.load(args.data, base=getattr(args, "base", None))
    _write(render(schema(graph, args.lang), args.format), args.output)
    return EXIT_OK


def _plot(args: argparse.Namespace) -> int:
    from kg.graph import KnowledgeGraph
    from kg.views.figures import figure_bytes, plot

    output = args.output or Path(f"{args.kind}.png")
    fmt = output.suffix.lstrip(".").lower()
    if fmt not in ("png", "svg"):
        raise UsageError(f"-o {output}: the file name must end in .png or .svg")
    figure = plot(KnowledgeGraph.load(args.data, base=getattr(args, "base", None)), args.kind, args.lang)
    _write(figure_bytes(figure, fmt), output)
    print(f"kg: wrote {output}", file=sys.stderr)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    try:
        argv = list(sys.argv[1:] if argv is None else argv)
        _check_utf8(argv)
        args = parser.parse_args(argv)
        if args.verb is None:
            parser.print_help()
            return EXIT_OK
        _expand_files(args)
        handler = {
            "info": _info,
            "init": _init,
            "validate": _validate,
            "queries": _queries,
            "query": _query,
            "export": _export,
            "plot": _plot,
            "schema": _schema,
            "fmt": _fmt,
            "diff": _diff,
            "import": _import,
            "release": _release,
            "serve": _serve,
            "push": _push,
            "infer": _infer,
            "synth": _synth,
            "cache": _cache,
        }[args.verb]
        return handler(args)
    except KgError as err:
        print(f"kg: error: {err}", file=sys.stderr)
        return err.exit_code
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # a bug in kg or a library: still one line, unless KG_DEBUG is set
        if os.environ.get("KG_DEBUG"):
            raise
        print(
            f"kg: internal error: {type(err).__name__}: {err} (set KG_DEBUG=1 for a traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
