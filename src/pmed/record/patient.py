"""`PatientRecord`: the typed, read-only view of one patient that every engine consumes.

Built from the patient's resources (`from_resources`, e.g. a Synthea bundle's entries) or from the
store (`load`). Every value returned carries the resource it came from (`Measurement.source`,
`ConditionEntry.source`, …) so engines can cite their inputs. Point-in-time questions take
`before=`: a `datetime`, or a `date` meaning the end of that day, inclusive.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from pmed.errors import InputError, NotFoundError
from pmed.record import units
from pmed.record._fhirvalues import (
    as_moment,
    codings,
    effective,
    parse_date,
    parse_datetime,
    reference_id,
    status_code,
)
from pmed.record._genomic_view import genomic_results
from pmed.record._measurements import converted as _converted
from pmed.record._measurements import measurement as _measurement
from pmed.record._measurements import sort_key as _sort_key
from pmed.record.codesets import CodeSet, condition_set, medication_set
from pmed.record.view_types import (
    BloodPressure,
    Coding,
    ConditionEntry,
    Demographic,
    GenomicResult,
    Measurement,
    MedicationEntry,
    SmokingStatus,
)

if TYPE_CHECKING:
    from pmed.record.store import Store

__all__ = [
    "BloodPressure",
    "Coding",
    "ConditionEntry",
    "Demographic",
    "GenomicResult",
    "Measurement",
    "MedicationEntry",
    "PatientRecord",
    "SmokingStatus",
]

LOINC = "http://loinc.org"
SYSTOLIC, DIASTOLIC = "8480-6", "8462-4"
BP_PANELS = ("85354-9", "55284-4")
SMOKING = "72166-2"
BMI, WEIGHT, HEIGHT = "39156-5", "29463-7", "8302-2"

US_CORE_RACE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race"
US_CORE_ETHNICITY = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity"

# SNOMED CT answers to LOINC 72166-2 (US Core smoking status value set / NHIS categories).
SMOKING_ANSWERS = {
    "266919005": "never",  # Never smoked tobacco
    "8517006": "former",  # Ex-smoker
    "449868002": "current",  # Smokes tobacco daily / current every day smoker
    "428041000124106": "current",  # Occasional tobacco smoker / current some day smoker
    "77176002": "current",  # Smoker, current status unknown
    "428071000124103": "current",  # Heavy tobacco smoker
    "428061000124105": "current",  # Light tobacco smoker
    "65568007": "current",  # Cigarette smoker
    "266927001": "unknown",  # Tobacco smoking consumption unknown
}

_INVALID_OBS = frozenset({"entered-in-error", "cancelled"})
_ACTIVE_CONDITION = frozenset({"active", "recurrence", "relapse"})
_ACTIVE_MEDICATION = frozenset({"active"})
_ACTIVE_STATEMENT = frozenset({"active", "intended"})
_REJECTED_VERIFICATION = frozenset({"entered-in-error", "refuted"})

_SUBJECT_FIELDS = ("subject", "patient", "beneficiary")
_EPOCH = datetime.min.replace(tzinfo=UTC)

CodeSetArg = str | CodeSet | Iterable[str] | None


def _flatten(resources: Iterable[Mapping[str, Any]]) -> Iterator[tuple[Mapping[str, Any], str]]:
    """Resources with their fullUrl (or ''), Bundles opened."""
    for item in resources:
        if not isinstance(item, Mapping):
            raise InputError("a resource must be a JSON object")
        if item.get("resourceType") == "Bundle":
            for entry in item.get("entry") or ():
                resource = entry.get("resource") if isinstance(entry, Mapping) else None
                if isinstance(resource, Mapping):
                    url = str(entry.get("fullUrl") or "")
                    if not resource.get("id") and url.startswith("urn:uuid:"):
                        resource = {**resource, "id": url[len("urn:uuid:") :]}  # cite-able
                    yield resource, url
        else:
            yield item, ""


class PatientRecord:
    """One patient's record, read-only. Build with `from_resources` or `load`."""

    def __init__(self, patient: Mapping[str, Any], resources: list[Mapping[str, Any]]) -> None:
        self._patient = patient
        self._by_type: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for resource in resources:
            self._by_type[str(resource.get("resourceType"))].append(resource)
        self._measurements: dict[str, list[Measurement]] = defaultdict(list)
        for obs in self._by_type.get("Observation", ()):
            for m in self._observation_measurements(obs):
                self._measurements[m.code].append(m)
        for series in self._measurements.values():
            series.sort(key=_sort_key)
        self._medications_by_id = {
            str(r.get("id")): r for r in self._by_type.get("Medication", ()) if r.get("id")
        }

    # ----------------------------------------------------------------------------- building
    @classmethod
    def from_resources(
        cls, resources: Iterable[Mapping[str, Any]], patient_id: str | None = None
    ) -> PatientRecord:
        """The record of `patient_id` (or of the only Patient present) from FHIR resources.

        Accepts resources and Bundles (entries are opened). Resources whose subject/patient
        reference names another patient are left out; references may be `Patient/<id>`,
        absolute URLs or a bundle's `urn:uuid:` fullUrls.
        """
        items = list(_flatten(resources))
        patients = [(r, url) for r, url in items if r.get("resourceType") == "Patient"]
        if patient_id is not None:
            chosen = [(r, u) for r, u in patients if str(r.get("id")) == patient_id]
            if not chosen:
                raise NotFoundError(f"Patient/{patient_id} is not among the resources given")
        elif len(patients) == 1:
            chosen = patients
        elif not patients:
            raise InputError("no Patient resource among the resources given")
        else:
            raise InputError(f"{len(patients)} Patient resources given; say which with patient_id=")
        patient, full_url = chosen[0]
        pid = str(patient.get("id") or reference_id(full_url) or "")
        aliases = {pid, reference_id(full_url) or pid}
        kept: list[Mapping[str, Any]] = []
        for resource, _url in items:
            if resource is patient:
                continue
            target = _subject_id(resource)
            if target is None or target in aliases:
                kept.append(resource)
        return cls(patient, kept)

    @classmethod
    def load(cls, store: Store, patient_id: str) -> PatientRecord:
        """The record of `patient_id` from the store (its compartment, plus referenced
        Medications). `NotFoundError` if the patient does not exist."""
        resources = list(store.patient_resources(patient_id))
        if not any(r.get("resourceType") == "Patient" for r in resources):
            store.read("Patient", patient_id)  # raises NotFoundError / GoneError
            raise NotFoundError(f"Patient/{patient_id} has no readable record")
        have = {str(r.get("id")) for r in resources if r.get("resourceType") == "Medication"}
        for resource in list(resources):
            ref = resource.get("medicationReference")
            target = reference_id(ref)
            if target and not target.startswith("#") and target not in have:
                try:
                    resources.append(store.read("Medication", target))
                    have.add(target)
                except NotFoundError:
                    pass
        return cls.from_resources(resources, patient_id=patient_id)

    # --------------------------------------------------------------------------- demographics
    @property
    def id(self) -> str:
        return str(self._patient.get("id") or "")

    @property
    def reference(self) -> str:
        return f"Patient/{self.id}"

    @property
    def resource(self) -> Mapping[str, Any]:
        return self._patient

    @property
    def birth_date(self) -> date | None:
        return parse_date(self._patient.get("birthDate"))

    @property
    def deceased(self) -> datetime | None:
        return parse_datetime(self._patient.get("deceasedDateTime"))

    def age(self, at: date | datetime | None = None) -> int | None:
        """Age in whole years at `at` (default: today, or the date of death if deceased).

        A birthday counts from its day: born 1980-06-15 is 39 on 2020-06-14, 40 on 2020-06-15;
        born on 29 February, the birthday in a common year is 1 March. None without a birth date.
        """
        born = self.birth_date
        if born is None:
            return None
        if at is None:
            died = self.deceased
            at = died.date() if died else datetime.now(UTC).date()
        elif isinstance(at, datetime):
            at = at.date()
        years = at.year - born.year
        if (at.month, at.day) < (born.month, born.day):
            years -= 1
        return years

    @property
    def sex(self) -> str | None:
        """Administrative gender: male, female, other or unknown (None when absent)."""
        gender = self._patient.get("gender")
        return str(gender) if gender else None

    @property
    def race(self) -> Demographic | None:
        return self._us_core_extension(US_CORE_RACE)

    @property
    def ethnicity(self) -> Demographic | None:
        return self._us_core_extension(US_CORE_ETHNICITY)

    def _us_core_extension(self, url: str) -> Demographic | None:
        for ext in self._patient.get("extension") or ():
            if ext.get("url") != url:
                continue
            cats, detailed, text = [], [], None
            for part in ext.get("extension") or ():
                coding = part.get("valueCoding") or {}
                value = Coding(coding.get("system"), coding.get("code"), coding.get("display"))
                if part.get("url") == "ombCategory":
                    cats.append(value)
                elif part.get("url") == "detailed":
                    detailed.append(value)
                elif part.get("url") == "text":
                    text = part.get("valueString")
            return Demographic(tuple(cats), tuple(detailed), text)
        return None

    # --------------------------------------------------------------------------- observations
    def resources(self, resource_type: str) -> list[Mapping[str, Any]]:
        """The patient's raw resources of one type (read-only; do not modify)."""
        return list(self._by_type.get(resource_type, ()))

    def observations(
        self, code: str, unit: str | None = None, before: date | datetime | None = None
    ) -> list[Measurement]:
        """Numeric history for LOINC `code` (and the same analyte's other LOINC codes), oldest
        first; converted to `unit` when given (`InputError` if a value cannot be converted)."""
        cutoff = as_moment(before)
        out: list[Measurement] = []
        for related in units.related_codes(code):
            for m in self._measurements.get(related, ()):
                if cutoff is not None and (m.date is None or m.date > cutoff):
                    continue
                out.append(_converted(m, code, unit))
        out.sort(key=_sort_key)
        return out

    def latest(
        self, code: str, unit: str | None = None, before: date | datetime | None = None
    ) -> Measurement | None:
        """The most recent value of LOINC `code` (on or before `before`), in `unit` if given.

        Related codes of the same analyte answer too (e.g. 14647-2 total cholesterol in mmol/L
        for 2093-3); `unit=None` returns the value as recorded.
        """
        history = self.observations(code, None, before)
        if not history:
            return None
        return _converted(history[-1], code, unit)

    def blood_pressure(self, before: date | datetime | None = None) -> BloodPressure | None:
        """The latest systolic with the diastolic measured with it: components 8480-6/8462-4 of a
        BP panel (85354-9, 55284-4) or standalone readings at the same time (else same day)."""
        systolic = self.latest(SYSTOLIC, "mm[Hg]", before)
        if systolic is None:
            return None
        diastolics = self.observations(DIASTOLIC, "mm[Hg]", before)
        same = [d for d in diastolics if d.reference == systolic.reference]
        same = same or [d for d in diastolics if d.date == systolic.date]
        if not same and systolic.date is not None:
            day = systolic.date.date()
            same = [d for d in diastolics if d.date is not None and d.date.date() == day]
        return BloodPressure(systolic, same[-1] if same else None)

    def smoking(self, before: date | datetime | None = None) -> SmokingStatus | None:
        """The latest tobacco smoking status (LOINC 72166-2) on or before `before`."""
        cutoff = as_moment(before)
        best: SmokingStatus | None = None
        for obs in self._by_type.get("Observation", ()):
            if obs.get("status") in _INVALID_OBS or not _has_code(obs.get("code"), SMOKING):
                continue
            when = effective(obs)
            if cutoff is not None and (when is None or when > cutoff):
                continue
            answer = codings(obs.get("valueCodeableConcept"))
            coding = answer[0] if answer else Coding(None, None, None)
            status = next(
                (SMOKING_ANSWERS[c.code] for c in answer if c.code in SMOKING_ANSWERS), "unknown"
            )
            found = SmokingStatus(status, coding, when, _ref(obs))
            if best is None or _sort_key(found) >= _sort_key(best):
                best = found
        return best

    @property
    def smoking_status(self) -> SmokingStatus | None:
        """The latest smoking status (see `smoking(before=)` for a point in time)."""
        return self.smoking()

    def body_mass_index(self, before: date | datetime | None = None) -> Measurement | None:
        """Latest BMI (39156-5) in kg/m2, else computed from the latest weight and height
        (the Measurement then cites the weight Observation)."""
        recorded = self.latest(BMI, "kg/m2", before)
        weight = self.latest(WEIGHT, "kg", before)
        height = self.latest(HEIGHT, "cm", before)
        if weight is None or height is None or height.value <= 0:
            return recorded
        if recorded is not None and _sort_key(recorded)[0] >= _sort_key(weight)[0]:
            return recorded
        value = weight.value / (height.value / 100.0) ** 2
        return Measurement(
            code=BMI,
            value=round(value, 2),
            unit="kg/m2",
            date=weight.date,
            reference=weight.reference,
            display=f"BMI computed from {weight.reference} and {height.reference}",
        )

    @property
    def bmi(self) -> Measurement | None:
        return self.body_mass_index()

    # ----------------------------------------------------------------- conditions, medications
    def conditions(
        self,
        codeset: CodeSetArg = None,
        active_only: bool = True,
        before: date | datetime | None = None,
    ) -> list[ConditionEntry]:
        """Conditions (oldest onset first) matching `codeset`: a shipped set name (`diabetes`),
        a `CodeSet`, or bare codes. `active_only` keeps active/recurrence/relapse (at `before`:
        onset on or before it and not abated by then). Refuted/entered-in-error never count."""
        wanted = _resolve(codeset, condition_set)
        cutoff = as_moment(before)
        out: list[ConditionEntry] = []
        for res in self._by_type.get("Condition", ()):
            verification = status_code(res.get("verificationStatus"))
            if verification in _REJECTED_VERIFICATION:
                continue
            concept = res.get("code") or {}
            if wanted is not None and not wanted.matches_concept(concept):
                continue
            entry = _condition_entry(res, wanted)
            if cutoff is not None and (entry.onset or entry.recorded or cutoff) > cutoff:
                continue
            if active_only and not _condition_active(entry, cutoff):
                continue
            out.append(entry)
        out.sort(key=lambda e: (e.onset or e.recorded or _EPOCH, e.reference))
        return out

    def has_condition(
        self, codeset: CodeSetArg, active_only: bool = True, before: date | datetime | None = None
    ) -> bool:
        return bool(self.conditions(codeset, active_only=active_only, before=before))

    def medications(
        self,
        codeset: CodeSetArg = None,
        active_only: bool = True,
        before: date | datetime | None = None,
    ) -> list[MedicationEntry]:
        """MedicationRequests and MedicationStatements (oldest first) whose drug — coded in
        medicationCodeableConcept or a referenced/contained Medication — matches `codeset`
        (a shipped set name such as `statins`, a `CodeSet`, or bare RxNorm codes)."""
        wanted = _resolve(codeset, medication_set)
        cutoff = as_moment(before)
        out: list[MedicationEntry] = []
        for rtype in ("MedicationRequest", "MedicationStatement"):
            for res in self._by_type.get(rtype, ()):
                status = res.get("status")
                active = _ACTIVE_MEDICATION if rtype == "MedicationRequest" else _ACTIVE_STATEMENT
                if active_only and status not in active:
                    continue
                if status == "entered-in-error":
                    continue
                concept = self._medication_concept(res)
                if wanted is not None and not wanted.matches_concept(concept):
                    continue
                when = _medication_date(res)
                if cutoff is not None and (when is None or when > cutoff):
                    continue
                found = codings(concept)
                out.append(
                    MedicationEntry(
                        code=_pick(found, wanted),
                        codings=found,
                        text=concept.get("text"),
                        status=status,
                        date=when,
                        reference=_ref(res),
                        resource_type=rtype,
                    )
                )
        out.sort(key=lambda e: (e.date or _EPOCH, e.reference))
        return out

    def has_medication(
        self, codeset: CodeSetArg, active_only: bool = True, before: date | datetime | None = None
    ) -> bool:
        return bool(self.medications(codeset, active_only=active_only, before=before))

    def _medication_concept(self, res: Mapping[str, Any]) -> Mapping[str, Any]:
        concept = res.get("medicationCodeableConcept")
        if isinstance(concept, Mapping):
            return concept
        target = reference_id(res.get("medicationReference"))
        if target is None:
            return {}
        medication: Mapping[str, Any] | None = None
        if target.startswith("#"):
            medication = next(
                (c for c in res.get("contained") or () if f"#{c.get('id')}" == target), None
            )
        else:
            medication = self._medications_by_id.get(target)
        return (medication or {}).get("code") or {}

    # -------------------------------------------------------------------------------- genomics
    def genomic_results(self) -> list[GenomicResult]:
        """Pharmacogene results (gene, diplotype, phenotype, activity score) from Observations
        of the HL7 Genomics Reporting IG (genotype 84413-4, phenotype 53040-2, …), one per gene,
        latest first-seen wins per field."""
        return genomic_results(self._by_type.get("Observation", ()))

    # -------------------------------------------------------------------------------- helpers
    def _observation_measurements(self, obs: Mapping[str, Any]) -> Iterator[Measurement]:
        if obs.get("status") in _INVALID_OBS:
            return
        when = effective(obs)
        ref = _ref(obs)
        m = _measurement(obs, obs.get("code"), when, ref)
        if m is not None:
            yield m
        for component in obs.get("component") or ():
            m = _measurement(component, component.get("code"), when, ref)
            if m is not None:
                yield m

    def __repr__(self) -> str:
        return f"PatientRecord({self.reference}, {sum(map(len, self._by_type.values()))} resources)"


# ------------------------------------------------------------------------------ module helpers
def _ref(resource: Mapping[str, Any]) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id') or '?'}"


def _subject_id(resource: Mapping[str, Any]) -> str | None:
    for name in _SUBJECT_FIELDS:
        if name in resource:
            return reference_id(resource[name])
    return None


def _has_code(concept: Any, code: str) -> bool:
    return any(c.code == code for c in codings(concept))


def _resolve(codeset: CodeSetArg, shipped: Any) -> CodeSet | None:
    if codeset is None or isinstance(codeset, CodeSet):
        return codeset
    if isinstance(codeset, str):
        return shipped(codeset)
    return CodeSet.of(codeset)


def _pick(found: tuple[Coding, ...], wanted: CodeSet | None) -> Coding:
    if wanted is not None:
        for c in found:
            if wanted.matches_coding(c.system, c.code):
                return c
    return found[0] if found else Coding(None, None, None)


def _condition_entry(res: Mapping[str, Any], wanted: CodeSet | None) -> ConditionEntry:
    concept = res.get("code") or {}
    found = codings(concept)
    onset = parse_datetime(res.get("onsetDateTime"))
    if onset is None and isinstance(res.get("onsetPeriod"), Mapping):
        onset = parse_datetime(res["onsetPeriod"].get("start"))
    abatement = parse_datetime(res.get("abatementDateTime"))
    if abatement is None and isinstance(res.get("abatementPeriod"), Mapping):
        abatement = parse_datetime(res["abatementPeriod"].get("end"))
    return ConditionEntry(
        code=_pick(found, wanted),
        codings=found,
        text=concept.get("text"),
        clinical_status=status_code(res.get("clinicalStatus")),
        verification_status=status_code(res.get("verificationStatus")),
        onset=onset,
        abatement=abatement,
        recorded=parse_datetime(res.get("recordedDate")),
        reference=_ref(res),
    )


def _condition_active(entry: ConditionEntry, cutoff: datetime | None) -> bool:
    if cutoff is not None:
        if entry.abatement is not None:
            return entry.abatement > cutoff
        return entry.clinical_status is None or entry.clinical_status in _ACTIVE_CONDITION
    if entry.clinical_status is None:
        return entry.abatement is None
    return entry.clinical_status in _ACTIVE_CONDITION


def _medication_date(res: Mapping[str, Any]) -> datetime | None:
    if res.get("resourceType") == "MedicationRequest":
        return parse_datetime(res.get("authoredOn"))
    return effective(res) or parse_datetime(res.get("dateAsserted"))
