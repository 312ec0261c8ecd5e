"""Finding a concept by what a person types: its code or a label, in Dutch or English, in any case.

Shared by kg import (the spreadsheet's code cells); any feature that turns typed words into a concept
may use it. A :class:`Lookup` is built from (concept, code, labels) rows, e.g. SKOS concepts with
``skos:notation`` and ``skos:prefLabel``/``skos:altLabel`` (SKOS sections 5 and 6).

Matching, in order: the code or a whole label, compared case-insensitively after Unicode case folding
(``Fiscaliteit``, ``tax rules``, ``Stichting``); then, only when exactly one concept fits, the first
whole words of a label (``tax`` for ``tax rules``). Two concepts that fit are never guessed between.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field


def fold(text: str) -> str:
    """``text`` for comparison: NFC, case-folded, inner white space as one space."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


@dataclass
class Lookup:
    """Codes and labels of a set of concepts, to find a concept by any of them."""

    exact: dict[str, str] = field(default_factory=dict)  # folded code or label -> concept
    labels: dict[str, set[str]] = field(default_factory=dict)  # folded label -> concepts
    codes: dict[str, str] = field(default_factory=dict)  # concept -> code

    @classmethod
    def of(cls, rows: Iterable[tuple[str, str, Iterable[str]]]) -> Lookup:
        """From (concept, code, labels) rows; a code wins over another concept's label."""
        lookup = cls()
        rows = [(concept, code, list(labels)) for concept, code, labels in rows]
        for concept, code, labels in rows:
            lookup.codes[concept] = code
            for label in labels:
                lookup.labels.setdefault(fold(label), set()).add(concept)
                lookup.exact.setdefault(fold(label), concept)
        for concept, code, _ in rows:
            lookup.exact[fold(code)] = concept
        return lookup

    def find(self, text: str) -> str | list[str]:
        """The concept ``text`` names; else the codes of the concepts it could mean (none, or several)."""
        key = fold(text)
        if not key:
            return []
        if key in self.exact:
            return self.exact[key]
        fits = {
            concept
            for label, concepts in self.labels.items()
            if label.startswith(key + " ")
            for concept in concepts
        }
        if len(fits) == 1:
            return fits.pop()
        return sorted(self.codes[c] for c in fits)

    def known(self) -> list[str]:
        """Every code, sorted."""
        return sorted(set(self.codes.values()))
