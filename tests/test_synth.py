"""kg synth: deterministic, clearly synthetic, and its planted defects are exactly what validation finds."""

from __future__ import annotations

from pathlib import Path

import kg
from kg.cli import main
from kg.core import bundle
from kg.core.namespaces import SHAPES
from kg.synth.generate import DEFECTS, SYN, triples

REFERENCE = [p for p in bundle.data_files() if p.name in ("gemeenten.ttl", "programma.ttl")]


def test_same_seed_same_file(tmp_path: Path) -> None:
    for name in ("a.ttl", "b.ttl", "c.ttl"):
        seed = "2" if name == "c.ttl" else "1"
        assert main(["synth", "--initiatives", "50", "--seed", seed, "-o", str(tmp_path / name)]) == 0
    assert (tmp_path / "a.ttl").read_bytes() == (tmp_path / "b.ttl").read_bytes()
    assert (tmp_path / "a.ttl").read_bytes() != (tmp_path / "c.ttl").read_bytes()
    assert (tmp_path / "a.ttl").read_text().startswith("# SYNTHETIC DATA")


def test_marked_synthetic_and_in_the_model(tmp_path: Path) -> None:
    path = tmp_path / "s.nt"
    assert main(["synth", "--initiatives", "200", "-o", str(path)]) == 0
    graph = kg.load([*REFERENCE, path])
    initiatives = graph.query(
        "SELECT ?i ?t WHERE { ?i a mi:Initiative ; prov:wasDerivedFrom/dct:title ?t "
        "FILTER (LANG(?t) = 'en') }"
    )
    assert len(initiatives) == 200
    assert all(r["i"].startswith(SYN) and r["t"].startswith("Synthetic data") for r in initiatives)
    assert graph.validate().conforms
    counts = {r["code"]: r["initiatives"] for r in graph.query("bottleneck-counts")}
    assert counts["aanbesteden"] > counts["aansprakelijkheid"]  # the real partners' order of frequency
    assert len(graph.query("initiatives-by-legal-form", {"legalform": "privaatrechtelijk"})) > 100


def test_validation_finds_exactly_the_planted_defects(tmp_path: Path) -> None:
    planted: dict[int, str] = {}
    lines = list(triples(300, seed=5, invalid_rate=0.1, planted=planted))
    path = tmp_path / "s.nt"
    path.write_text("\n".join(lines) + "\n")
    assert 15 < len(planted) < 45 and set(planted.values()) == set(DEFECTS)
    report = kg.load([*REFERENCE, path]).validate()
    found = {(f.focus, f.shape, f.path) for f in report.findings}
    expected = {(f"{SYN}initiatief/{n}", SHAPES + DEFECTS[d][0], DEFECTS[d][1]) for n, d in planted.items()}
    assert found == expected
