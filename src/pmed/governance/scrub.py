"""Free-text scrubbing: remove identifiers from notes, comments and narrative.

Two kinds of evidence: patterns (the HIPAA Safe Harbor identifiers that have a shape: email,
URL, IP address, SSN, telephone and fax numbers, labelled record/account/plan/licence/device
numbers, VINs, street addresses, ZIP codes, dates, ages over 89), and names known from the record
(the patient's and their contacts' names, practitioners' names, address lines and cities), which
are removed wherever they occur as words. A title followed by a capitalised word ("Dr. Okafor")
is taken as a name even when it is not known. Dates keep only their year (Safe Harbor) or are
shifted by the patient's offset (limited data set).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, timedelta

__all__ = ["Scrubber"]

_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for m in names
}
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)

_LABELLED = re.compile(
    r"\b(?:MRN|medical\s+record(?:\s+(?:number|no\.?))?|record\s+(?:number|no\.?)|"
    r"account(?:\s+(?:number|no\.?))?|acct\.?|policy(?:\s+(?:number|no\.?))?|"
    r"member\s+(?:id|number)|beneficiary(?:\s+(?:id|number))?|health\s+plan(?:\s+(?:id|number))?|"
    r"licen[cs]e(?:\s+(?:number|no\.?|plate))?|plate|certificate(?:\s+(?:number|no\.?))?|"
    r"DEA|NPI|serial(?:\s+(?:number|no\.?))?|S/N|device\s+(?:id|identifier)|UDI|VIN|"
    r"passport(?:\s+(?:number|no\.?))?|employee\s+id|insurance\s+id|ID)"
    r"(\s*(?:#|:|is|=)?\s*)((?=[A-Z0-9-]*\d)[A-Z0-9](?:[A-Z0-9-]{1,}[A-Z0-9])?)\b",
    re.IGNORECASE,
)
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("EMAIL", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    ("URL", re.compile(r"\b(?:https?://|ftp://|www\.)[^\s<>\"')]+", re.IGNORECASE)),
    ("IP", re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b|\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b", re.I)),
    (
        "SSN",
        re.compile(
            r"\b\d{3}-\d{2}-\d{4}\b|\b\d{3} \d{2} \d{4}\b"
            r"|\b(?:SSN|social\s+security(?:\s+number)?)\s*[:#]?\s*\d{9}\b",
            re.I,
        ),
    ),
    (
        "PHONE",
        re.compile(
            r"(?<![\w-])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?:\s*(?:x|ext\.?)\s*\d{1,5})?\b",
            re.IGNORECASE,
        ),
    ),
    ("PHONE", re.compile(r"(?<![\w.-])\+?1?\d{10}(?![\w-]|\.\d)")),
    ("VIN", re.compile(r"\b[A-HJ-NPR-Z0-9]{17}\b")),
    (
        "URL",
        re.compile(
            r"\b(?:[a-z0-9-]+\.)+(?:com|org|net|edu|gov|io|health|us|uk|info)(?:/[^\s<>\"')]*)?",
            re.IGNORECASE,
        ),
    ),
    (
        "ADDRESS",
        re.compile(
            r"\b\d{1,6}\s+(?:[A-Z][A-Za-z0-9]*\.?\s+){1,4}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|"
            r"Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Circle|Cir|Parkway|Pkwy|Highway|Hwy)\b\.?"
            r"(?:,?\s+(?:Apt|Apartment|Suite|Unit|#)\.?\s*\w+)?"
        ),
    ),
    ("POBOX", re.compile(r"\bP\.?\s?O\.?\s+Box\s+\d+\b", re.IGNORECASE)),
]
_ISO_DATE = re.compile(
    r"\b(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b"
)
_US_DATE = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})\b")
_DMY_TEXT = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH})\s*,?\s*(\d{{4}})?\b", re.I
)
_MDY_TEXT = re.compile(rf"\b({_MONTH})\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:\s*,?\s*(\d{{4}}))?\b", re.I)
_MY_TEXT = re.compile(rf"\b({_MONTH})\s+(\d{{4}})\b", re.I)
_ZIP = re.compile(r"\b\d{5}(?:-\d{4})?\b")
_AGE = re.compile(
    r"\b(?:(9\d|1[0-4]\d)(\s*|-)(?:years?|yrs?|y/?o)(?:[\s-]+old)?|(?:aged?|age:)\s*(9\d|1[0-4]\d))\b",
    re.IGNORECASE,
)
_TITLED = re.compile(
    r"\b(?:Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Nurse)\.?\s+[A-Z][a-zA-Z'-]+(?:\s+[A-Z][a-zA-Z'-]+)?"
)


def _month(text: str) -> int:
    return _MONTHS.get(text.lower().rstrip("."), 1)


class Scrubber:
    """Scrubs one patient's free text; `shift_days=None` keeps years only (Safe Harbor)."""

    def __init__(self, names: Iterable[str] = (), *, shift_days: int | None = None) -> None:
        words = sorted(
            {n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True
        )
        self._names = (
            re.compile(r"(?<![\w])(?:" + "|".join(re.escape(w) for w in words) + r")(?![\w])", re.I)
            if words
            else None
        )
        self.shift_days = shift_days

    def _date(self, year: int, month: int, day: int | None) -> str:
        if self.shift_days is None:
            return str(year)
        try:
            shifted = date(year, month, day or 1) + timedelta(days=self.shift_days)
        except ValueError:
            return "[DATE]"
        return shifted.isoformat() if day else shifted.strftime("%Y-%m")

    def _dates(self, text: str) -> str:
        def iso(m: re.Match[str]) -> str:
            return self._date(int(m[1]), int(m[2]), int(m[3]))

        def us(m: re.Match[str]) -> str:
            year = int(m[3]) if len(m[3]) == 4 else None
            if year is None or not (1 <= int(m[1]) <= 12 and 1 <= int(m[2]) <= 31):
                return "[DATE]"
            return self._date(year, int(m[1]), int(m[2]))

        def dmy(m: re.Match[str]) -> str:
            return self._date(int(m[3]), _month(m[2]), int(m[1])) if m[3] else "[DATE]"

        def mdy(m: re.Match[str]) -> str:
            if m[3] is None:
                return "[DATE]"
            return self._date(int(m[3]), _month(m[1]), int(m[2]))

        def my(m: re.Match[str]) -> str:
            return self._date(int(m[2]), _month(m[1]), None)

        steps: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
            (_ISO_DATE, iso),
            (_US_DATE, us),
            (_DMY_TEXT, dmy),
            (_MY_TEXT, my),
            (_MDY_TEXT, mdy),
        ]
        for pattern, repl in steps:
            text = pattern.sub(repl, text)
        return text

    def __call__(self, text: str) -> str:
        for label, pattern in _PATTERNS[:2]:  # emails and URLs first: they contain names
            text = pattern.sub(f"[{label}]", text)
        text = _LABELLED.sub(lambda m: m[0][: m.start(2) - m.start(0)] + "[ID]", text)
        for label, pattern in _PATTERNS[2:]:
            text = pattern.sub(f"[{label}]", text)
        if self._names is not None:
            text = self._names.sub("[NAME]", text)
        text = _TITLED.sub("[NAME]", text)
        text = _AGE.sub("90+ years old", text) if self.shift_days is None else text
        text = self._dates(text)
        return _ZIP.sub("[ZIP]", text)
