"""Clinical code sets (knowledge `codesets/conditions`, `codesets/medications`) and matching.

A condition set matches a coding by exact SNOMED CT id or by ICD-10 category prefix (`E11`
matches `E11.9` and `E119`). A medication set matches an RxNorm code it lists (ingredient or
clinical drug) or, because RxNorm drug-to-ingredient links are not shipped, a medication whose
display/text names one of its ingredients as a whole word. The sets and their sources are built
by `tools/build_codesets.py`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pmed.errors import KnowledgeError
from pmed.knowledge import load

__all__ = [
    "ICD10_SYSTEMS",
    "RXNORM",
    "SNOMED",
    "CodeSet",
    "condition_set",
    "condition_set_names",
    "medication_set",
    "medication_set_names",
]

SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10_SYSTEMS = frozenset({"http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-10"})


@dataclass(frozen=True)
class CodeSet:
    """A named set of codes. `codes` maps system URL → exact codes; `prefixes` ICD-10 stems."""

    name: str
    title: str = ""
    source: str = ""
    codes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    prefixes: tuple[str, ...] = ()
    words: tuple[str, ...] = ()  # lower-case names matched as whole words in text
    any_system: bool = False  # ad-hoc sets of bare codes match a code in any system

    def matches_coding(self, system: str | None, code: str | None) -> bool:
        if not code:
            return False
        if self.any_system:
            return any(code in codes for codes in self.codes.values())
        if system in ICD10_SYSTEMS and self.prefixes:
            compact = code.replace(".", "").upper()
            if any(compact.startswith(p.replace(".", "").upper()) for p in self.prefixes):
                return True
        if system is None:
            return any(code in codes for codes in self.codes.values())
        return code in self.codes.get(system, frozenset())

    def matches_text(self, text: str | None) -> bool:
        if not text or not self.words:
            return False
        return _word_pattern(self.words).search(text) is not None

    def matches_concept(self, concept: Mapping[str, Any] | None) -> bool:
        """True when any coding of a FHIR CodeableConcept (or, for words, its text) matches."""
        if not concept:
            return False
        for coding in concept.get("coding") or ():
            if self.matches_coding(coding.get("system"), coding.get("code")):
                return True
        if self.words:
            texts = [concept.get("text")] + [c.get("display") for c in concept.get("coding") or ()]
            return any(self.matches_text(t) for t in texts)
        return False

    @classmethod
    def of(
        cls, codes: Iterable[str], *, system: str | None = None, name: str = "custom"
    ) -> CodeSet:
        """An ad-hoc set: bare codes (any system unless `system` is given)."""
        values = frozenset(codes)
        if system is None:
            return cls(name=name, codes={"*": values}, any_system=True)
        return cls(name=name, codes={system: values})


@lru_cache(maxsize=64)
def _word_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![a-z0-9])(?:{alternatives})(?![a-z0-9])", re.IGNORECASE)


def condition_set_names() -> list[str]:
    return sorted(_conditions())


def medication_set_names() -> list[str]:
    return sorted(_medications())


def condition_set(name: str) -> CodeSet:
    """The shipped condition set `name` (e.g. `diabetes`); `KnowledgeError` if unknown."""
    sets = _conditions()
    if name not in sets:
        raise KnowledgeError(f"no condition code set {name!r}; known: {', '.join(sorted(sets))}")
    return sets[name]


def medication_set(name: str) -> CodeSet:
    """The shipped medication set `name` (e.g. `statins`); `KnowledgeError` if unknown."""
    sets = _medications()
    if name not in sets:
        raise KnowledgeError(f"no medication code set {name!r}; known: {', '.join(sorted(sets))}")
    return sets[name]


@lru_cache(maxsize=1)
def _conditions() -> dict[str, CodeSet]:
    data = load("codesets/conditions").data
    out: dict[str, CodeSet] = {}
    for name, spec in data["sets"].items():
        out[name] = CodeSet(
            name=name,
            title=spec["title"],
            source=spec["source"],
            codes={SNOMED: frozenset(c["code"] for c in spec["snomed"])},
            prefixes=tuple(spec.get("icd10_prefixes", ())),
        )
    return out


@lru_cache(maxsize=1)
def _medications() -> dict[str, CodeSet]:
    data = load("codesets/medications").data
    out: dict[str, CodeSet] = {}
    for name, spec in data["sets"].items():
        codes = {c["code"] for c in spec["ingredients"]} | {c["code"] for c in spec["drugs"]}
        words = [c["name"].lower() for c in spec["ingredients"] if "," not in c["name"]]
        words += [w.lower() for w in spec.get("text_synonyms", ())]
        out[name] = CodeSet(
            name=name,
            title=spec["title"],
            source=spec["source"],
            codes={RXNORM: frozenset(codes)},
            words=tuple(sorted(set(words))),
        )
    return out
