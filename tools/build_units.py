"""Build `units/conversions`: analytes, their LOINC codes and affine unit conversions.

Each analyte has a canonical UCUM unit; every other unit `u` converts to it as
`canonical = value * scale + offset`. LOINC codes of one analyte measured in different property
types (mass vs substance concentration) are listed together so a request for one finds the others.

Sources of the factors:
* cholesterol (total, HDL, LDL): 1 mmol/L = 38.67 mg/dL (molar mass of cholesterol 386.65 g/mol);
* triglycerides: 1 mmol/L = 88.57 mg/dL (triolein, 885.7 g/mol);
* creatinine: 1 mg/dL = 88.4 umol/L (113.12 g/mol);
* glucose: 1 mmol/L = 18.016 mg/dL (180.16 g/mol);
* HbA1c: IFCC-NGSP master equation, NGSP(%) = 0.09148 * IFCC(mmol/mol) + 2.152
  (Hoelzel et al., Clin Chem 2004;50:166-74), i.e. IFCC = (NGSP - 2.152) / 0.09148
  (the IFCC/NGSP network's published form, often rounded to 10.929 * (NGSP - 2.15));
* urine albumin/creatinine ratio: 1 mg/mmol = 8.84 mg/g (creatinine 113.12 g/mol);
* weight: 1 lb = 0.45359237 kg; height: 1 in = 2.54 cm; temperature: degF = degC * 9/5 + 32.

Run: `python tools/build_units.py`
"""

from __future__ import annotations

from typing import Any

from knowledge_io import write_knowledge


def _u(scale: float, offset: float = 0.0) -> dict[str, float]:
    return {"scale": scale, "offset": offset}


ANALYTES: dict[str, dict[str, Any]] = {
    "total_cholesterol": {
        "canonical": "mg/dL",
        "codes": {"2093-3": "mg/dL", "14647-2": "mmol/L"},
        "units": {"mg/dL": _u(1.0), "mmol/L": _u(38.67)},
    },
    "hdl_cholesterol": {
        "canonical": "mg/dL",
        "codes": {"2085-9": "mg/dL", "14646-4": "mmol/L"},
        "units": {"mg/dL": _u(1.0), "mmol/L": _u(38.67)},
    },
    "ldl_cholesterol": {
        "canonical": "mg/dL",
        "codes": {
            "18262-6": "mg/dL",
            "13457-7": "mg/dL",
            "2089-1": "mg/dL",
            "22748-8": "mmol/L",
            "39469-2": "mmol/L",
        },
        "units": {"mg/dL": _u(1.0), "mmol/L": _u(38.67)},
    },
    "triglycerides": {
        "canonical": "mg/dL",
        "codes": {"2571-8": "mg/dL", "14927-8": "mmol/L"},
        "units": {"mg/dL": _u(1.0), "mmol/L": _u(88.57)},
    },
    "creatinine": {
        "canonical": "mg/dL",
        "codes": {"2160-0": "mg/dL", "38483-4": "mg/dL", "14682-9": "umol/L", "59826-8": "umol/L"},
        "units": {"mg/dL": _u(1.0), "umol/L": _u(1 / 88.4), "mmol/L": _u(1000 / 88.4)},
    },
    "glucose": {
        "canonical": "mg/dL",
        "codes": {"2339-0": "mg/dL", "2345-7": "mg/dL", "15074-8": "mmol/L", "14749-6": "mmol/L"},
        "units": {"mg/dL": _u(1.0), "mmol/L": _u(18.016)},
    },
    "hba1c": {
        "canonical": "%",
        "codes": {"4548-4": "%", "17856-6": "%", "59261-8": "mmol/mol"},
        "units": {"%": _u(1.0), "mmol/mol": _u(0.09148, 2.152)},
    },
    "uacr": {
        "canonical": "mg/g",
        "codes": {"9318-7": "mg/g", "14959-1": "mg/g"},
        "units": {"mg/g": _u(1.0), "mg/mmol": _u(8.84)},
    },
    # eGFR by different equations is kept apart: a request for one never answers with another.
    "egfr_mdrd": {
        "canonical": "mL/min/{1.73_m2}",
        "codes": {"33914-3": "mL/min/{1.73_m2}"},
        "units": {"mL/min/{1.73_m2}": _u(1.0), "mL/min": _u(1.0)},
    },
    "egfr_ckd_epi_2009": {
        "canonical": "mL/min/{1.73_m2}",
        "codes": {"62238-1": "mL/min/{1.73_m2}"},
        "units": {"mL/min/{1.73_m2}": _u(1.0), "mL/min": _u(1.0)},
    },
    "egfr_ckd_epi_2021": {
        "canonical": "mL/min/{1.73_m2}",
        "codes": {"98979-8": "mL/min/{1.73_m2}"},
        "units": {"mL/min/{1.73_m2}": _u(1.0), "mL/min": _u(1.0)},
    },
    "body_weight": {
        "canonical": "kg",
        "codes": {"29463-7": "kg", "3141-9": "kg"},
        "units": {"kg": _u(1.0), "g": _u(0.001), "[lb_av]": _u(0.45359237)},
    },
    "body_height": {
        "canonical": "cm",
        "codes": {"8302-2": "cm", "8306-3": "cm"},
        "units": {"cm": _u(1.0), "m": _u(100.0), "[in_i]": _u(2.54)},
    },
    "bmi": {"canonical": "kg/m2", "codes": {"39156-5": "kg/m2"}, "units": {"kg/m2": _u(1.0)}},
    "systolic_bp": {
        "canonical": "mm[Hg]",
        "codes": {"8480-6": "mm[Hg]"},
        "units": {"mm[Hg]": _u(1.0), "kPa": _u(7.50062)},
    },
    "diastolic_bp": {
        "canonical": "mm[Hg]",
        "codes": {"8462-4": "mm[Hg]"},
        "units": {"mm[Hg]": _u(1.0), "kPa": _u(7.50062)},
    },
    "body_temperature": {
        "canonical": "Cel",
        "codes": {"8310-5": "Cel", "8331-1": "Cel"},
        "units": {"Cel": _u(1.0), "[degF]": _u(5 / 9, -32 * 5 / 9)},
    },
}

# Spellings met in the wild -> UCUM code.
ALIASES = {
    "mg/dl": "mg/dL",
    "mmol/l": "mmol/L",
    "µmol/l": "umol/L",
    "μmol/l": "umol/L",
    "umol/l": "umol/L",
    "micromol/l": "umol/L",
    "mmol/mol": "mmol/mol",
    "mmol/mol hb": "mmol/mol",
    "%": "%",
    "percent": "%",
    "mg/g": "mg/g",
    "mg/g{creat}": "mg/g",
    "mg/mmol": "mg/mmol",
    "mg/mmol{creat}": "mg/mmol",
    "kg": "kg",
    "g": "g",
    "lb": "[lb_av]",
    "lbs": "[lb_av]",
    "[lb_av]": "[lb_av]",
    "cm": "cm",
    "m": "m",
    "in": "[in_i]",
    "[in_i]": "[in_i]",
    "kg/m2": "kg/m2",
    "kg/m^2": "kg/m2",
    "mmhg": "mm[Hg]",
    "mm hg": "mm[Hg]",
    "mm[hg]": "mm[Hg]",
    "kpa": "kPa",
    "ml/min/{1.73_m2}": "mL/min/{1.73_m2}",
    "ml/min/1.73m2": "mL/min/{1.73_m2}",
    "ml/min/1.73 m2": "mL/min/{1.73_m2}",
    "ml/min": "mL/min",
    "cel": "Cel",
    "°c": "Cel",
    "degc": "Cel",
    "[degf]": "[degF]",
    "°f": "[degF]",
}


def main() -> None:
    write_knowledge(
        "units/conversions",
        {"analytes": ANALYTES, "aliases": ALIASES},
        source="Molar masses and the IFCC-NGSP HbA1c master equation (Hoelzel, Clin Chem 2004)",
        version="2026-11-22",
        licence="Apache-2.0 (facts; LOINC codes (c) Regenstrief Institute, LOINC licence)",
        generated_by="tools/build_units.py",
    )


if __name__ == "__main__":
    main()
