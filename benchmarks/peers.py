"""kg's peers for validation and inference, each run in a process of its own (by ``scale.py``).

    python benchmarks/peers.py NAME DATA [--kg FOLDER]

``pyshacl`` and ``pyrudof`` validate the ontology and data against the project's shapes (no inference
first, as ``kg validate``); ``owlrl`` and ``reasonable`` compute the OWL 2 RL closure (W3C OWL 2
Profiles, section 4.3) of the ontology and data. DATA is a synthetic file (``kg synth``), read with the
municipalities and the programme, as ``scale.py`` gives them to kg. Each tool loads the files with its
own parser (timed as ``load``) and then does the step once (timed); the process prints a JSON line when
the step starts and one when it is done, so that a process stopped at its time limit still says how
long the step had run. Peak memory (ru_maxrss) is taken before anything else is computed.

With ``--kg FOLDER`` (what kg's own process wrote there: its findings and its inferred triples), the
peer's answer is compared with kg's after the timing: the findings with the same focus node, path and
source shape, and kg's inferred triples (those without a blank node, whose labels differ between
tools) that the peer derived too. The packages are the ``bench`` extra (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path

# name: (the step it does, the module it needs)
PEERS: dict[str, tuple[str, str]] = {
    "pyshacl": ("validation", "pyshacl"),
    "pyrudof": ("validation", "pyrudof"),
    "owlrl": ("inference", "owlrl"),
    "reasonable": ("inference", "reasonable"),
}
FINDINGS = "kg-findings.json"
INFERRED = "kg-inferred.nt"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
OWL = "http://www.w3.org/2002/07/owl#"


def missing(names: list[str]) -> list[str]:
    """The peers among ``names`` whose package is not installed."""
    return [name for name in names if find_spec(PEERS[name][1]) is None]


def _inputs(data: Path) -> tuple[list[Path], list[Path]]:
    """The ontology, the data of one size (as scale.py gives them to kg) and the shapes."""
    from scale import data_files  # here: scale imports this module

    from kg.core import bundle

    return bundle.ontology_files() + data_files(data), bundle.shapes_files()


def _say(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def _peak() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rdflib_graph(files: list[Path]) -> object:
    import rdflib

    graph = rdflib.Graph()
    for path in files:
        graph.parse(path, format="nt" if path.suffix == ".nt" else "turtle")
    return graph


def _kg_findings(folder: Path | None) -> Counter | None:
    if folder is None or not (folder / FINDINGS).exists():
        return None
    return Counter(tuple(key) for key in json.loads((folder / FINDINGS).read_text()))


def _matching(mine: list[tuple[str, str, str]], folder: Path | None) -> dict[str, int]:
    kg = _kg_findings(folder)
    if kg is None:
        return {}
    return {"findings matching kg's": sum((Counter(mine) & kg).values())}


def _pyshacl(files: list[Path], shapes: list[Path], folder: Path | None) -> dict:
    import pyshacl
    import rdflib

    start = time.perf_counter()
    data, shacl = _rdflib_graph(files), _rdflib_graph(shapes)
    out: dict = {"load": time.perf_counter() - start}
    _say(**out, started=time.time())
    start = time.perf_counter()
    _, report, _ = pyshacl.validate(data, shacl_graph=shacl, inference="none")
    out["validation"] = time.perf_counter() - start
    out["peak memory (MB)"] = _peak()
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    keys = []
    for result in report.subjects(rdflib.RDF.type, sh.ValidationResult):
        keys.append(
            tuple(str(report.value(result, p) or "") for p in (sh.focusNode, sh.resultPath, sh.sourceShape))
        )
    return {**out, "findings": len(keys), **_matching(keys, folder)}


def _pyrudof(files: list[Path], shapes: list[Path], folder: Path | None) -> dict:
    import pyrudof

    start = time.perf_counter()
    rudof = pyrudof.Rudof(pyrudof.RudofConfig())
    strict = pyrudof.ReaderMode.Strict
    for path in files:
        kind = pyrudof.RDFFormat.NTriples if path.suffix == ".nt" else pyrudof.RDFFormat.Turtle
        rudof.read_data(str(path), format=kind, reader_mode=strict, merge=True)
    if len(shapes) == 1:
        rudof.read_shacl(str(shapes[0]), reader_mode=strict)
    else:  # one shapes graph from several files
        rudof.read_shacl(_rdflib_graph(shapes).serialize(format="turtle"), reader_mode=strict)
    out: dict = {"load": time.perf_counter() - start}
    _say(**out, started=time.time())
    start = time.perf_counter()
    report = rudof.validate_shacl()
    out["validation"] = time.perf_counter() - start
    out["peak memory (MB)"] = _peak()
    keys = [(e.focus_node, e.path or "", e.source_shape or "") for e in report]
    return {**out, "findings": len(keys), **_matching(keys, folder)}


def _kg_inferred(folder: Path | None) -> list | None:
    """kg's inferred triples without blank nodes, as rdflib terms (or None if kg wrote none)."""
    if folder is None or not (folder / INFERRED).exists():
        return None
    return list(_rdflib_graph([folder / INFERRED]))


def _inferred_counts(inferred: object, kg: list | None, derived: Callable[[tuple], bool]) -> dict:
    """How many of the peer's inferred triples type a node ``owl:Thing`` or make it ``owl:sameAs``
    itself (conclusions kg leaves out), and how many of kg's the peer derived too."""
    thing = same = 0
    for s, p, o in inferred:
        thing += str(p) == RDF_TYPE and str(o) == OWL + "Thing"
        same += str(p) == OWL + "sameAs" and s == o
    out = {"inferred: x rdf:type owl:Thing": thing, "inferred: x owl:sameAs x": same}
    if kg is not None:
        out["kg's inferred triples derived too"] = sum(1 for t in kg if any(map(derived, _forms(t))))
    return out


def _forms(triple: tuple) -> list[tuple]:
    """The triple, and with a plain literal also as ``xsd:string`` (the same literal in RDF 1.1,
    section 3.3; reasonable gives every plain literal that datatype)."""
    import rdflib

    s, p, o = triple
    if isinstance(o, rdflib.Literal) and o.datatype is None and not o.language:
        return [triple, (s, p, rdflib.Literal(str(o), datatype=rdflib.XSD.string))]
    return [triple]


def _owlrl(files: list[Path], folder: Path | None) -> dict:
    import owlrl

    start = time.perf_counter()
    graph = _rdflib_graph(files)
    out: dict = {"load": time.perf_counter() - start}
    _say(**out, started=time.time())
    asserted = len(graph)
    start = time.perf_counter()
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
    out["inference"] = time.perf_counter() - start
    out["peak memory (MB)"] = _peak()
    out["inferred triples"] = len(graph) - asserted
    base = _rdflib_graph(files)  # after the timing: which of the closure's triples were asserted
    inferred = (t for t in graph if t not in base)
    return {**out, **_inferred_counts(inferred, _kg_inferred(folder), lambda t: t in graph)}


def _reasonable(files: list[Path], folder: Path | None) -> dict:
    import reasonable

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        reasoner = reasonable.PyReasoner()
        for n, path in enumerate(files):
            if path.suffix == ".nt":  # reasonable reads .ttl and .n3 only; N-Triples is Turtle
                link = Path(tmp, f"{n}.ttl")
                link.symlink_to(path.resolve())
                path = link
            reasoner.load_file(str(path))
        out: dict = {"load": time.perf_counter() - start}
    _say(**out, started=time.time())
    start = time.perf_counter()
    closure = reasoner.reason()
    out["inference"] = time.perf_counter() - start
    out["peak memory (MB)"] = _peak()
    everything = set(closure)
    inferred = everything - set(reasoner.get_base_triples())
    out["inferred triples"] = len(inferred)
    return {**out, **_inferred_counts(inferred, _kg_inferred(folder), lambda t: t in everything)}


def run(name: str, data: Path, folder: Path | None) -> dict:
    """Load the files with the peer's own parser, do its step once, and count its answer."""
    files, shapes = _inputs(data)
    if name == "pyshacl":
        return _pyshacl(files, shapes, folder)
    if name == "pyrudof":
        return _pyrudof(files, shapes, folder)
    if name == "owlrl":
        return _owlrl(files, folder)
    return _reasonable(files, folder)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=sorted(PEERS))
    parser.add_argument("data", type=Path)
    parser.add_argument("--kg", type=Path, help="the folder where kg's process wrote its answers")
    args = parser.parse_args()
    _say(**run(args.name, args.data, args.kg), done=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
