"""The inputs shared by several calculators, each declared once with unit, range and record source.

Calculators take these as they are, or narrow the range with `dataclasses.replace` where their
source paper validated a narrower one (the narrowed range is then the calculator's declaration).
`source` strings name the record element or code the value is read from (see
`pmed.risk.from_record`, the one module that maps a `PatientRecord` to these names).
"""

from __future__ import annotations

from pmed.risk.inputs import flag, number, option

__all__ = [
    "AGE",
    "BMI",
    "BP_TREATED",
    "DIABETES",
    "EGFR",
    "HBA1C",
    "HDL",
    "RACE",
    "RR",
    "SBP",
    "SDI_DECILE",
    "SEX",
    "SMOKER",
    "STATIN",
    "TC",
    "UACR",
]

AGE = number("age", "age", "years", 18, 120, "Patient.birthDate")
SEX = option("sex", "sex assigned at birth", ("female", "male"), "Patient.gender")
RACE = option(
    "race",
    "race (OMB category)",
    ("white", "black", "asian", "other"),
    "US Core race extension (urn:oid:2.16.840.1.113883.6.238)",
)
TC = number("tc", "total cholesterol", "mg/dL", 130, 320, "LOINC 2093-3")
HDL = number("hdl", "HDL cholesterol", "mg/dL", 20, 100, "LOINC 2085-9")
SBP = number("sbp", "systolic blood pressure", "mmHg", 90, 200, "LOINC 8480-6 (in 85354-9)")
BP_TREATED = flag(
    "bp_treated", "on blood-pressure-lowering medication", "codeset antihypertensives (RxNorm)"
)
SMOKER = flag("smoker", "current smoker", "LOINC 72166-2 (tobacco smoking status)")
DIABETES = flag("diabetes", "diabetes mellitus", "codeset diabetes (SNOMED CT 73211009 <<)")
STATIN = flag("statin", "on a statin", "codeset statins (RxNorm)")
BMI = number("bmi", "body-mass index", "kg/m2", 10, 80, "LOINC 39156-5")
EGFR = number(
    "egfr",
    "estimated GFR",
    "mL/min/1.73m2",
    1,
    200,
    "LOINC 98979-8 (CKD-EPI 2021) or computed from LOINC 2160-0",
)
UACR = number(
    "uacr",
    "urine albumin-to-creatinine ratio",
    "mg/g",
    0.1,
    25000,
    "LOINC 9318-7 or 14959-1",
    optional=True,
)
HBA1C = number("hba1c", "haemoglobin A1c", "%", 3, 20, "LOINC 4548-4", optional=True)
SDI_DECILE = number(
    "sdi_decile",
    "Social Deprivation Index decile of the home address",
    None,
    1,
    10,
    "address → SDI decile (given directly)",
    optional=True,
)
RR = number("rr", "respiratory rate", "/min", 0, 80, "LOINC 9279-1")
