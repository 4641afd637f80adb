"""Build the clinical code sets `codesets/conditions` and `codesets/medications`.

Each set lists the codes a clinical engine means by a concept ("diabetes", "statin"):

* conditions: SNOMED CT concept ids (matched exactly; SNOMED hierarchy is not shipped, so the
  descendants that matter are listed, including every code the Synthea generator uses for the
  concept) and ICD-10 / ICD-10-CM category prefixes (matched on the code's start, so `E11`
  matches `E11.9`). Each set names the public value set it follows (VSAC OIDs from the eCQM
  value sets) — the codes below are a hand-curated subset of those definitions, not a download.
* medications: RxNorm ingredient concepts (RXCUI, TTY=IN) with their names, plus the RxNorm
  clinical-drug codes (SCD/SBD) that Synthea emits. RxNorm clinical drugs are not linked to their
  ingredients here (no RxNorm relationship table is shipped), so the patient view also matches a
  medication whose text names one of the set's ingredients (word match, case-insensitive).

Code licences: SNOMED CT identifiers © SNOMED International, used under the SNOMED CT affiliate
licence (free in member countries, in the US through the NLM UMLS licence); ICD-10-CM is public
domain (CDC/NCHS); ICD-10 © WHO; RxNorm's own (RXNORM source) concepts are free of restrictions
(NLM). The curation (this file) is Apache-2.0.

Run: `python tools/build_codesets.py`
"""

from __future__ import annotations

from typing import Any

from knowledge_io import write_knowledge

SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"

VERSION = "2026-11-22"
LICENCE = (
    "Curation Apache-2.0; SNOMED CT ids (c) SNOMED International under the affiliate licence; "
    "ICD-10-CM public domain (CDC/NCHS); RxNorm (RXNORM source) free of restrictions (NLM)"
)


def _condition(
    title: str,
    source: str,
    snomed: dict[str, str],
    icd10: list[str],
    note: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "title": title,
        "source": source,
        "snomed": [{"code": c, "display": d} for c, d in snomed.items()],
        "icd10_prefixes": icd10,
    }
    if note:
        out["note"] = note
    return out


CONDITIONS: dict[str, dict[str, Any]] = {
    "diabetes": _condition(
        "Diabetes mellitus (type 1, type 2, other specified)",
        "VSAC eCQM value set 'Diabetes' 2.16.840.1.113883.3.464.1003.103.12.1001; "
        "ICD-10-CM E08-E13",
        {
            "73211009": "Diabetes mellitus (disorder)",
            "44054006": "Diabetes mellitus type 2 (disorder)",
            "46635009": "Diabetes mellitus type 1 (disorder)",
            "190372001": "Maturity onset diabetes of the young",
            "368581000119106": "Neuropathy due to type 2 diabetes mellitus (disorder)",
            "127013003": "Disorder of kidney due to diabetes mellitus (disorder)",
            "422034002": "Retinopathy due to type 2 diabetes mellitus (disorder)",
            "1551000119108": "Nonproliferative retinopathy due to type 2 diabetes mellitus",
            "1501000119109": "Proliferative retinopathy due to type 2 diabetes mellitus",
            "97331000119101": "Macular edema and retinopathy due to type 2 diabetes mellitus",
            "60951000119105": "Blindness due to type 2 diabetes mellitus (disorder)",
            "90781000119102": "Microalbuminuria due to type 2 diabetes mellitus (disorder)",
            "157141000119108": "Proteinuria due to type 2 diabetes mellitus (disorder)",
        },
        ["E08", "E09", "E10", "E11", "E13"],
        note="Prediabetes (15777000, R73.03) and hyperglycaemia are deliberately excluded.",
    ),
    "hypertension": _condition(
        "Hypertension",
        "VSAC eCQM value set 'Essential Hypertension' 2.16.840.1.113883.3.464.1003.104.12.1011; "
        "ICD-10-CM I10-I16",
        {
            "38341003": "Hypertensive disorder, systemic arterial (disorder)",
            "59621000": "Essential hypertension (disorder)",
            "1201005": "Benign essential hypertension (disorder)",
            "10725009": "Benign hypertension (disorder)",
            "78975002": "Malignant essential hypertension (disorder)",
            "70272006": "Malignant hypertension (disorder)",
            "31992008": "Secondary hypertension (disorder)",
        },
        ["I10", "I11", "I12", "I13", "I15", "I16"],
    ),
    "atrial_fibrillation": _condition(
        "Atrial fibrillation",
        "VSAC value set 'Atrial Fibrillation/Flutter' 2.16.840.1.113883.3.117.1.7.1.202 "
        "(fibrillation part); ICD-10-CM I48",
        {
            "49436004": "Atrial fibrillation (disorder)",
            "282825002": "Paroxysmal atrial fibrillation (disorder)",
            "440059007": "Persistent atrial fibrillation (disorder)",
            "440028005": "Permanent atrial fibrillation (disorder)",
            "706923002": "Longstanding persistent atrial fibrillation (disorder)",
        },
        ["I48"],
    ),
    "heart_failure": _condition(
        "Heart failure",
        "VSAC eCQM value set 'Heart Failure' 2.16.840.1.113883.3.526.3.376; ICD-10-CM I50, "
        "I11.0, I13.0, I13.2",
        {
            "84114007": "Heart failure (disorder)",
            "42343007": "Congestive heart failure (disorder)",
            "88805009": "Chronic congestive heart failure (disorder)",
            "48447003": "Chronic heart failure (disorder)",
            "85232009": "Left heart failure (disorder)",
            "56675007": "Acute heart failure (disorder)",
            "703272007": "Heart failure with reduced ejection fraction (disorder)",
            "446221000": "Heart failure with normal ejection fraction (disorder)",
        },
        ["I50", "I11.0", "I13.0", "I13.2"],
    ),
    "ckd": _condition(
        "Chronic kidney disease",
        "SNOMED CT 709044004 'Chronic kidney disease' and the stage concepts Synthea uses; "
        "ICD-10-CM N18, I12, I13.1",
        {
            "709044004": "Chronic kidney disease (disorder)",
            "431855005": "Chronic kidney disease stage 1 (disorder)",
            "431856006": "Chronic kidney disease stage 2 (disorder)",
            "433144002": "Chronic kidney disease stage 3 (disorder)",
            "700378005": "Chronic kidney disease stage 3A (disorder)",
            "700379002": "Chronic kidney disease stage 3B (disorder)",
            "431857002": "Chronic kidney disease stage 4 (disorder)",
            "433146000": "Chronic kidney disease stage 5 (disorder)",
            "46177005": "End-stage renal disease (disorder)",
            "90688005": "Chronic renal failure syndrome (disorder)",
            "127013003": "Disorder of kidney due to diabetes mellitus (disorder)",
        },
        ["N18", "I12", "I13.1"],
    ),
    "stroke_tia": _condition(
        "Stroke or transient ischaemic attack",
        "VSAC value sets 'Ischemic Stroke' 2.16.840.1.113883.3.117.1.7.1.247 and "
        "'Hemorrhagic Stroke' 2.16.840.1.113883.3.117.1.7.1.212 (subset); ICD-10-CM I60-I64, "
        "G45 (except G45.4), Z86.73",
        {
            "230690007": "Cerebrovascular accident (disorder)",
            "422504002": "Ischemic stroke (disorder)",
            "432504007": "Cerebral infarction (disorder)",
            "274100004": "Cerebral hemorrhage (disorder)",
            "266257000": "Transient ischemic attack (disorder)",
        },
        ["I60", "I61", "I62", "I63", "I64", "G45.0", "G45.1", "G45.8", "G45.9", "Z86.73"],
    ),
    "mi_chd": _condition(
        "Myocardial infarction or coronary heart disease",
        "SNOMED CT 22298006 'Myocardial infarction', 53741008 'Coronary arteriosclerosis', "
        "414545008 'Ischemic heart disease' with the descendants Synthea uses; ICD-10-CM I20-I25",
        {
            "22298006": "Myocardial infarction (disorder)",
            "57054005": "Acute myocardial infarction (disorder)",
            "401303003": "Acute ST segment elevation myocardial infarction (disorder)",
            "401314000": "Acute non-ST segment elevation myocardial infarction (disorder)",
            "399211009": "History of myocardial infarction (situation)",
            "53741008": "Coronary arteriosclerosis (disorder)",
            "414545008": "Ischemic heart disease (disorder)",
            "194828000": "Angina (disorder)",
        },
        ["I20", "I21", "I22", "I23", "I24", "I25"],
    ),
    "vascular_disease": _condition(
        "Vascular disease (prior MI, peripheral artery disease, aortic plaque)",
        "CHA2DS2-VASc 'V' item (Lip 2010): MI codes as in 'mi_chd' plus peripheral arterial "
        "disease; ICD-10-CM I21, I22, I25.2, I70, I73.9",
        {
            "22298006": "Myocardial infarction (disorder)",
            "57054005": "Acute myocardial infarction (disorder)",
            "401303003": "Acute ST segment elevation myocardial infarction (disorder)",
            "401314000": "Acute non-ST segment elevation myocardial infarction (disorder)",
            "399211009": "History of myocardial infarction (situation)",
            "399957001": "Peripheral arterial occlusive disease (disorder)",
            "400047006": "Peripheral vascular disease (disorder)",
            "840580004": "Peripheral arterial disease (disorder)",
            "38716007": "Atherosclerosis of aorta (disorder)",
        },
        ["I21", "I22", "I25.2", "I70", "I73.9"],
    ),
    "bleeding_history": _condition(
        "Major bleeding history or predisposition",
        "HAS-BLED 'B' item (Pisters 2010); SNOMED CT 131148009 'Bleeding' and major-bleeding "
        "descendants; ICD-10-CM I60-I62, K92.0-K92.2, R58, D62",
        {
            "131148009": "Bleeding (finding)",
            "74474003": "Gastrointestinal hemorrhage (disorder)",
            "1386000": "Intracranial hemorrhage (disorder)",
            "274100004": "Cerebral hemorrhage (disorder)",
            "21454007": "Subarachnoid intracranial hemorrhage (disorder)",
        },
        ["I60", "I61", "I62", "K92.0", "K92.1", "K92.2", "R58", "D62"],
    ),
    "liver_disease": _condition(
        "Chronic liver disease",
        "HAS-BLED 'A' item (abnormal liver function: cirrhosis, chronic hepatitis); SNOMED CT "
        "328383001 'Chronic liver disease' and descendants; ICD-10-CM K70-K77, B18",
        {
            "328383001": "Chronic liver disease (disorder)",
            "19943007": "Cirrhosis of liver (disorder)",
            "235856003": "Disorder of liver (disorder)",
            "128302006": "Chronic hepatitis C (disorder)",
            "61977001": "Chronic type B viral hepatitis (disorder)",
            "197321007": "Steatosis of liver (disorder)",
            "41309000": "Alcoholic liver damage (disorder)",
        },
        ["K70", "K71", "K72", "K73", "K74", "K75", "K76", "K77", "B18"],
    ),
}


def _meds(
    title: str,
    source: str,
    ingredients: dict[str, str],
    drugs: dict[str, str] | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "title": title,
        "source": source,
        "ingredients": [{"code": c, "name": n} for c, n in ingredients.items()],
        "drugs": [{"code": c, "display": d} for c, d in (drugs or {}).items()],
    }
    if note:
        out["note"] = note
    return out


MEDICATIONS: dict[str, dict[str, Any]] = {
    "statins": _meds(
        "HMG-CoA reductase inhibitors (statins)",
        "RxNorm ingredients of ATC C10AA; 2018 AHA/ACC cholesterol guideline statin list",
        {
            "83367": "atorvastatin",
            "36567": "simvastatin",
            "301542": "rosuvastatin",
            "42463": "pravastatin",
            "6472": "lovastatin",
            "41127": "fluvastatin",
            "861634": "pitavastatin",
        },
        {
            "312961": "Simvastatin 20 MG Oral Tablet",
            "314231": "Simvastatin 10 MG Oral Tablet",
            "259255": "Atorvastatin 80 MG Oral Tablet",
            "617310": "atorvastatin 20 MG Oral Tablet",
        },
    ),
    "antihypertensives": _meds(
        "Blood-pressure-lowering drugs",
        "RxNorm ingredients of ATC C02, C03, C07, C08, C09 commonly used for hypertension "
        "(2017 ACC/AHA hypertension guideline, Table 18)",
        {
            "5487": "hydrochlorothiazide",
            "2409": "chlorthalidone",
            "5764": "indapamide",
            "4603": "furosemide",
            "9997": "spironolactone",
            "29046": "lisinopril",
            "3827": "enalapril",
            "35296": "ramipril",
            "18867": "benazepril",
            "1998": "captopril",
            "35208": "quinapril",
            "52175": "losartan",
            "69749": "valsartan",
            "214354": "candesartan",
            "83818": "irbesartan",
            "321064": "olmesartan",
            "73494": "telmisartan",
            "17767": "amlodipine",
            "7417": "nifedipine",
            "3443": "diltiazem",
            "11170": "verapamil",
            "6918": "metoprolol",
            "1202": "atenolol",
            "20352": "carvedilol",
            "19484": "bisoprolol",
            "8787": "propranolol",
            "31555": "nebivolol",
            "5470": "hydralazine",
            "2599": "clonidine",
            "49276": "doxazosin",
        },
        {
            "197361": "Amlodipine 5 MG Oral Tablet",
            "316049": "Hydrochlorothiazide 25 MG",
            "310798": "Hydrochlorothiazide 25 MG Oral Tablet",
            "314076": "lisinopril 10 MG Oral Tablet",
            "897718": "Verapamil Hydrochloride 40 MG",
        },
    ),
    "anticoagulants": _meds(
        "Oral and parenteral anticoagulants",
        "RxNorm ingredients of ATC B01AA, B01AB, B01AE, B01AF",
        {
            "11289": "warfarin",
            "1364430": "apixaban",
            "1114195": "rivaroxaban",
            "1037042": "dabigatran",
            "1599538": "edoxaban",
            "5224": "heparin",
            "67108": "enoxaparin",
        },
        {"855332": "Warfarin Sodium 5 MG Oral Tablet"},
    ),
    "antiplatelets": _meds(
        "Antiplatelet drugs",
        "RxNorm ingredients of ATC B01AC",
        {
            "1191": "aspirin",
            "32968": "clopidogrel",
            "613391": "prasugrel",
            "1116632": "ticagrelor",
            "3521": "dipyridamole",
        },
        {"309362": "Clopidogrel 75 MG Oral Tablet", "243670": "aspirin 81 MG Oral Tablet"},
    ),
    "antidiabetics": _meds(
        "Insulins and other glucose-lowering drugs",
        "RxNorm ingredients of ATC A10A (insulins) and A10B (blood glucose lowering drugs)",
        {
            "274783": "insulin glargine",
            "86009": "insulin lispro",
            "51428": "insulin aspart",
            "253182": "insulin, regular, human",
            "6809": "metformin",
            "4821": "glipizide",
            "4815": "glyburide",
            "25789": "glimepiride",
            "33738": "pioglitazone",
            "593411": "sitagliptin",
            "1100699": "linagliptin",
            "1545653": "empagliflozin",
            "1488564": "dapagliflozin",
            "1373458": "canagliflozin",
            "475968": "liraglutide",
            "1991302": "semaglutide",
            "1551291": "dulaglutide",
        },
        {"860975": "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet"},
        note="Also matched by text: any medication whose name contains 'insulin'.",
    ),
    "nsaids": _meds(
        "Non-steroidal anti-inflammatory drugs (excluding low-dose aspirin)",
        "RxNorm ingredients of ATC M01A",
        {
            "5640": "ibuprofen",
            "7258": "naproxen",
            "3355": "diclofenac",
            "140587": "celecoxib",
            "41493": "meloxicam",
            "5781": "indomethacin",
            "35827": "ketorolac",
        },
        {
            "198405": "Ibuprofen 100 MG Oral Tablet",
            "310965": "Ibuprofen 200 MG Oral Tablet",
            "849574": "Naproxen sodium 220 MG Oral Tablet",
        },
    ),
    "amiodarone": _meds(
        "Amiodarone",
        "RxNorm ingredient 703 (IWPC warfarin dosing covariate, NEJM 2009)",
        {"703": "amiodarone"},
        {"834357": "3 ML Amiodarone hydrocholoride 50 MG/ML Prefilled Syringe"},
    ),
    "enzyme_inducers": _meds(
        "CYP enzyme inducers (IWPC definition)",
        "IWPC warfarin dosing algorithm (NEJM 2009, appendix): carbamazepine, phenytoin, "
        "rifampin/rifampicin",
        {"2002": "carbamazepine", "8183": "phenytoin", "9384": "rifampin"},
        note="Rifampicin is matched by name as well.",
    ),
}

# Extra names matched in medication text (synonyms the ingredient names above do not cover).
SYNONYMS = {"antidiabetics": ["insulin"], "enzyme_inducers": ["rifampicin"]}


def main() -> None:
    for set_name, words in SYNONYMS.items():
        MEDICATIONS[set_name]["text_synonyms"] = words
    common = {
        "version": VERSION,
        "licence": LICENCE,
        "generated_by": "tools/build_codesets.py",
    }
    write_knowledge(
        "codesets/conditions",
        {
            "systems": {"snomed": SNOMED, "icd10": [ICD10CM, "http://hl7.org/fhir/sid/icd-10"]},
            "sets": CONDITIONS,
        },
        source="Hand-curated from VSAC eCQM value sets (OIDs per set), SNOMED CT, ICD-10-CM",
        notice="Subsets of the named value sets plus every code Synthea uses for the concept.",
        **common,
    )
    write_knowledge(
        "codesets/medications",
        {"systems": {"rxnorm": RXNORM}, "sets": MEDICATIONS},
        source="Hand-curated RxNorm ingredient (IN) and Synthea clinical-drug (SCD) codes",
        notice="Ingredients by ATC class as named per set; matched by code or ingredient name.",
        **common,
    )


if __name__ == "__main__":
    main()
