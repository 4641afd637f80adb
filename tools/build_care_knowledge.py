"""Build the care-plan knowledge files under `src/pmed/knowledge/data/care/`.

Run from the repository root: `python tools/build_care_knowledge.py`.

* `care/renal_dosing`: a small, cited list of drugs whose dose or use depends on kidney function,
  typed in once from the source named in each entry (FDA labels, AGS Beers Criteria 2023,
  KDIGO 2012, ACR 2020). Thresholds are eGFR in mL/min/1.73 m2; where the source states
  creatinine clearance (Cockcroft-Gault) the entry says so and pmed uses eGFR as an
  approximation, saying so on the recommendation.
* `care/statins`: statin intensity by daily dose (2018 AHA/ACC cholesterol guideline, Table 3)
  and the order in which pmed offers statins of an intensity.
* `care/alternatives`: alternatives CPIC names when a drug should be avoided for a genotype.
* `care/duplicates`: the drug classes where two concurrent drugs are therapeutic duplication.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from knowledge_io import write_knowledge

GENERATED_BY = "tools/build_care_knowledge.py"
VERSION = "2026-11-22"
CRCL = "creatinine clearance (Cockcroft-Gault) in the source; eGFR used as an approximation"

RENAL = [
    {
        "drug": "metformin",
        "rxnorm": ["6809"],
        "basis": "eGFR",
        "rules": [
            {"below": 30, "action": "avoid",
             "text": "metformin is contraindicated below eGFR 30",
             "patient": "This diabetes medicine is not safe when the kidneys work this little."},
            {"below": 45, "action": "reassess",
             "text": "do not start metformin at eGFR 30-45; if already taking it, weigh "
                     "benefit and risk",
             "patient": "Your kidneys filter less than usual, so your clinician should check "
                        "whether this diabetes medicine is still right for you."},
        ],
        "source": "FDA Drug Safety Communication: revised warnings for metformin in reduced "
                  "kidney function (April 2016)",
        "url": "https://www.fda.gov/drugs/drug-safety-and-availability/"
               "fda-drug-safety-communication-fda-revises-warnings-regarding-use-diabetes-"
               "medicine-metformin-certain",
    },
    {
        "drug": "nitrofurantoin",
        "rxnorm": ["7454"],
        "basis": CRCL,
        "rules": [
            {"below": 30, "action": "avoid",
             "text": "avoid nitrofurantoin below CrCl 30: ineffective and toxic",
             "patient": "This infection medicine does not work well and can cause harm when "
                        "the kidneys work this little."},
        ],
        "source": "2023 American Geriatrics Society Beers Criteria Update, Table 6",
        "url": "https://doi.org/10.1111/jgs.18372",
    },
    {
        "drug": "nsaids",
        "names": ["ibuprofen", "naproxen", "diclofenac", "celecoxib", "meloxicam",
                  "indomethacin", "ketorolac"],
        "rxnorm": ["5640", "7258", "3355", "140587", "41493", "5781", "35827"],
        "basis": "eGFR",
        "rules": [
            {"below": 30, "action": "avoid",
             "text": "avoid NSAIDs below eGFR 30",
             "patient": "Pain pills like ibuprofen can hurt your kidneys further. Ask about "
                        "other pain relief."},
            {"below": 60, "action": "use-with-caution",
             "text": "avoid prolonged NSAID use at eGFR below 60",
             "patient": "Pain pills like ibuprofen can strain your kidneys. Use them only for "
                        "a short time, if at all."},
        ],
        "source": "KDIGO 2012 Clinical Practice Guideline for the Evaluation and Management of "
                  "CKD, Recommendation 4.4.4 (Kidney Int Suppl 2013;3:1-150)",
        "url": "https://kdigo.org/guidelines/ckd-evaluation-and-management/",
    },
    {
        "drug": "dabigatran",
        "rxnorm": ["1037042"],
        "basis": CRCL,
        "rules": [
            {"below": 15, "action": "avoid",
             "text": "dabigatran is not recommended below CrCl 15",
             "patient": "This blood thinner is not safe when the kidneys work this little."},
            {"below": 30, "action": "reduce-dose", "dose": "75 mg twice daily",
             "text": "dabigatran 75 mg twice daily at CrCl 15-30 (atrial fibrillation)",
             "patient": "You need a smaller dose of this blood thinner because of your kidneys."},
        ],
        "source": "PRADAXA (dabigatran etexilate) US prescribing information, section 2.3",
        "url": "https://www.accessdata.fda.gov/drugsatfda_docs/label/2023/022512s047lbl.pdf",
    },
    {
        "drug": "rivaroxaban",
        "rxnorm": ["1114195"],
        "basis": CRCL,
        "rules": [
            {"below": 15, "action": "avoid",
             "text": "avoid rivaroxaban below CrCl 15",
             "patient": "This blood thinner is not safe when the kidneys work this little."},
            {"below": 50, "action": "reduce-dose", "dose": "15 mg once daily with the evening meal",
             "text": "rivaroxaban 15 mg once daily at CrCl 15-50 (atrial fibrillation)",
             "patient": "You need a smaller dose of this blood thinner because of your kidneys."},
        ],
        "source": "XARELTO (rivaroxaban) US prescribing information, section 2.2",
        "url": "https://www.accessdata.fda.gov/drugsatfda_docs/label/2023/022406s041lbl.pdf",
    },
    {
        "drug": "enoxaparin",
        "rxnorm": ["67108"],
        "basis": CRCL,
        "rules": [
            {"below": 30, "action": "reduce-dose", "dose": "1 mg/kg once daily (treatment) or "
             "30 mg once daily (prophylaxis)",
             "text": "enoxaparin once daily at CrCl below 30",
             "patient": "You need this blood thinner injection less often because of your "
                        "kidneys."},
        ],
        "source": "LOVENOX (enoxaparin sodium) US prescribing information, section 2.5",
        "url": "https://www.accessdata.fda.gov/drugsatfda_docs/label/2022/020164s173lbl.pdf",
    },
    {
        "drug": "gabapentin",
        "rxnorm": ["25480"],
        "basis": CRCL,
        "rules": [
            {"below": 15, "action": "reduce-dose", "dose": "100-300 mg/day",
             "text": "gabapentin 100-300 mg/day at CrCl below 15",
             "patient": "You need a much smaller dose of this nerve-pain medicine because of "
                        "your kidneys."},
            {"below": 30, "action": "reduce-dose", "dose": "200-700 mg/day",
             "text": "gabapentin 200-700 mg/day at CrCl 15-29",
             "patient": "You need a smaller dose of this nerve-pain medicine because of your "
                        "kidneys."},
            {"below": 60, "action": "reduce-dose", "dose": "400-1400 mg/day",
             "text": "gabapentin 400-1400 mg/day in two doses at CrCl 30-59",
             "patient": "You may need a smaller dose of this nerve-pain medicine because of "
                        "your kidneys."},
        ],
        "source": "NEURONTIN (gabapentin) US prescribing information, section 2.4, Table 1",
        "url": "https://www.accessdata.fda.gov/drugsatfda_docs/label/2020/020235s071lbl.pdf",
    },
    {
        "drug": "allopurinol",
        "rxnorm": ["519"],
        "basis": "CKD stage (eGFR)",
        "rules": [
            {"below": 30, "action": "reduce-dose", "dose": "start at 50 mg/day or less",
             "text": "start allopurinol at 50 mg/day or less in CKD stage 4 or worse, then "
                     "titrate",
             "patient": "Start this gout medicine at a low dose because of your kidneys."},
        ],
        "source": "FitzGerald JD et al. 2020 American College of Rheumatology Guideline for "
                  "the Management of Gout. Arthritis Care Res 2020;72:744-760",
        "url": "https://doi.org/10.1002/acr.24180",
    },
]  # fmt: skip

STATINS = {
    "intensity": {
        "high": {"atorvastatin": [40, 80], "rosuvastatin": [20, 40]},
        "moderate": {
            "atorvastatin": [10, 20], "rosuvastatin": [5, 10], "simvastatin": [20, 40],
            "pravastatin": [40, 80], "lovastatin": [40, 80], "fluvastatin": [80, 80],
            "pitavastatin": [1, 4],
        },
        "low": {
            "simvastatin": [10, 10], "pravastatin": [10, 20], "lovastatin": [20, 20],
            "fluvastatin": [20, 40],
        },
    },
    "preference": ["atorvastatin", "rosuvastatin", "simvastatin", "pravastatin",
                   "pitavastatin", "lovastatin", "fluvastatin"],
    "rxnorm": {"atorvastatin": "83367", "rosuvastatin": "301542", "simvastatin": "36567",
               "pravastatin": "42463", "lovastatin": "6472", "fluvastatin": "41127",
               "pitavastatin": "861634"},
    "citation": "Grundy SM et al. 2018 AHA/ACC Guideline on the Management of Blood "
                "Cholesterol. Circulation 2019;139:e1082-e1143, Table 3",
    "url": "https://doi.org/10.1161/CIR.0000000000000625",
}  # fmt: skip

ALTERNATIVES = {
    "clopidogrel": {
        "drugs": [{"name": "prasugrel", "rxnorm": "613391"},
                  {"name": "ticagrelor", "rxnorm": "1116632"}],
        "note": "if no contraindication, prasugrel or ticagrelor at standard dose "
                "(prasugrel is contraindicated after stroke/TIA)",
        "source": "Lee CR et al. CPIC Guideline for CYP2C19 Genotype and Clopidogrel Therapy: "
                  "2022 Update. Clin Pharmacol Ther 2022;112:959-967, Table 2",
        "url": "https://cpicpgx.org/guidelines/guideline-for-clopidogrel-and-cyp2c19/",
    },
    "codeine": {
        "drugs": [{"name": "morphine", "rxnorm": "7052"},
                  {"name": "hydromorphone", "rxnorm": "3423"}],
        "note": "a non-codeine, non-tramadol opioid if an opioid is warranted",
        "source": "Crews KR et al. CPIC Guideline for CYP2D6, OPRM1, and COMT Genotypes and "
                  "Select Opioid Therapy. Clin Pharmacol Ther 2021;110:888-896, Table 2",
        "url": "https://cpicpgx.org/guidelines/guideline-for-codeine-and-cyp2d6/",
    },
    "tramadol": {
        "drugs": [{"name": "morphine", "rxnorm": "7052"},
                  {"name": "hydromorphone", "rxnorm": "3423"}],
        "note": "a non-codeine, non-tramadol opioid if an opioid is warranted",
        "source": "Crews KR et al. CPIC Guideline for CYP2D6, OPRM1, and COMT Genotypes and "
                  "Select Opioid Therapy. Clin Pharmacol Ther 2021;110:888-896, Table 2",
        "url": "https://cpicpgx.org/guidelines/guideline-for-codeine-and-cyp2d6/",
    },
}  # fmt: skip

DUPLICATES = {
    "classes": {
        "statins": "two statins at once add myopathy risk without added benefit (2018 AHA/ACC "
                   "cholesterol guideline: one statin at the chosen intensity)",
        "anticoagulants": "two anticoagulants at once multiply bleeding risk (2023 "
                          "ACC/AHA/ACCP/HRS atrial fibrillation guideline, section 6.3)",
    },
}  # fmt: skip


def main() -> None:
    common = {"version": VERSION, "generated_by": GENERATED_BY}
    write_knowledge(
        "care/renal_dosing",
        {"drugs": RENAL},
        source="FDA labels, AGS Beers Criteria 2023, KDIGO 2012, ACR 2020 (named per entry)",
        licence="Facts restated in pmed's words; sources are public guidance (US government "
        "works or published guidelines cited per entry)",
        **common,
    )
    write_knowledge(
        "care/statins",
        STATINS,
        source="2018 AHA/ACC Guideline on the Management of Blood Cholesterol, Table 3",
        licence="Facts restated in pmed's words (Apache-2.0 curation)",
        **common,
    )
    write_knowledge(
        "care/alternatives",
        {"drugs": ALTERNATIVES},
        source="CPIC guidelines (clopidogrel 2022, opioids 2021), alternatives named in them",
        licence="CPIC guidelines are CC0; restated in pmed's words",
        **common,
    )
    write_knowledge(
        "care/duplicates",
        DUPLICATES,
        source="pmed curation from the guidelines named per class",
        licence="Apache-2.0 curation",
        **common,
    )


if __name__ == "__main__":
    main()
