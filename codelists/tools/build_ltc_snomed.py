#!/usr/bin/env python3
"""Builds codelists/ltc/ltc_snomed.csv from published primary-care code lists.

Run from the repository root with the reference folder as argument:

    python3 codelists/tools/build_ltc_snomed.py ../shared/codelists > codelists/ltc/ltc_snomed.csv

Sources (see codelists/README.md for versions and licences):
  * efi/efi_deficits_readv2_ctv3_snomed.csv       eFI deficits (Clegg 2016, gm-sde SNOMED maps)
  * primary-care/AurumCharlson.txt, AurumElixhauser.txt   (Metcalfe 2019, Launders 2022)

Each long-term condition takes the SNOMED CT concepts of named source
categories whose term matches an inclusion pattern and no exclusion pattern.
The patterns keep diagnoses (and diagnosis-implying register/review codes)
and drop administrative, negated, resolved, family-history, suspected and
screening codes. A few core concepts are added by hand (HAND below), each
with its reason. The output is reviewed and committed; this script only
makes the selection reproducible.
"""
import csv
import re
import sys

ref = sys.argv[1]

GENERIC_EXCLUDE = re.compile(
    r"resolved|family history|\bfh\b|fh:|suspected|screen|excepted|exception|declined|refused|"
    r"did not attend|\bdna\b|default|\bno\b|not have|at risk|risk of|adverse reaction|allergy|"
    r"leaflet|information|education|advice|invitation|invite|letter|administration|admin\.|"
    r"referral|referred|\bref\b|seen in|seen by|discharge|test\b|assessment|questionnaire|"
    r"absent from|trigger|rescue pack|self.?manag|management plan|care plan|clinical pathway|"
    r"preferred place|quality indicators|enhanced services|programme|program\b|drug treatment|"
    r"therapy|treatment|medication|\bon lithium\b|monitoring|review|follow-up|clinic\b|"
    r"induced|due to drug|caused by drug|puerperal|postnatal|post-natal|gestational|pregnan|"
    r"neonatal|newborn|fetus|foetus|perinatal|"
    r"congenital|traumatic|injury|following injury|excluded|unsuitable|study|society|member|"
    r"audit|informed consent|informed dissent|consent given|specialist nurse|\bo/e\b|on examination",
    re.I,
)

# condition -> (list of (source, category), include pattern, extra exclude pattern or None)
RULES = {
    "hypertension": (
        [("efi", "hypertension"), ("elix", "Hypertension (uncomplicated)"),
         ("elix", "Hypertension with end-organ damage")],
        r"hypertensi|high blood pressure",
        r"ocular|pulmonary|intracranial|portal|retinopathy|eye|crisis|labile|intermittent|"
        r"clinical environment|white coat|control|increased blood pressure|stage 1|drugs|cardiomegaly|"
        r"secondary to drug",
    ),
    "diabetes": (
        [("efi", "diabetes"), ("charlson", "Diabetes (uncomplicated)"),
         ("charlson", "Diabetes with end-organ damage")],
        r"diabet",
        r"insipidus|pre-?diabet|non-?diabet|impaired glucose|steroid|maturity onset diabetes of the young|"
        r"diabetic diet|diabetic child|eye|retinal|foot|clinic|dietician|d\.v\.|admission|admissn|"
        r"record issued|injection sites|cooperative|side effect|medicine|stabilisation|diabetology|transition",
    ),
    "asthma": (
        [("charlson", "Chronic pulmonary disease"), ("elix", "Chronic pulmonary disease"),
         ("efi", "respiratory-disease")],
        r"asthma",
        r"cardiac asthma|attack|accident and emergency|disturbing|limiting|control|symptoms|"
        r"occupational|red-cedar|sequoiosis|antiasthma|night|daytime|exercise",
    ),
    "copd": (
        [("charlson", "Chronic pulmonary disease"), ("elix", "Chronic pulmonary disease"),
         ("efi", "respiratory-disease")],
        r"chronic obstructive|\bcopd\b|emphysema|chronic bronchitis|chronic obstructive airway|"
        r"chronic airway obstruction|chronic obstructive lung",
        r"interstitial|surgical|subcutaneous|compensatory|mediastinal|congenital lobar|"
        r"orbit|eyelid|\bdue to chemical|fumes|vapours|radiation|pulmonary emphysema in|"
        r"acute bronchitis|severity|mrc|gold|exacerbation|acute vesicular",
    ),
    "heart_failure": (
        [("charlson", "Congestive heart failure"), ("elix", "Congestive heart failure"),
         ("efi", "heart-failure")],
        r"heart failure|cardiac failure|ventricular failure|\bccf\b|left ventricular systolic dysfunction|"
        r"impaired left ventricular function|cardiac insufficiency",
        r"cardiorespiratory|complication of care|after cardiac surgery|post cardiac operation|"
        r"echocardiogram|new york heart|history of heart failure in last year|in last year|"
        r"neonatal|foetal|fetal",
    ),
    "atrial_fibrillation": (
        [("efi", "atrial-fibrillation"), ("elix", "Cardiac arrythmia")],
        r"atrial fibrillation|atrial flutter",
        r"electrocardiographic|\becg\b|pacemaker|on examination|o/e",
    ),
    "coronary_heart_disease": (
        [("efi", "chd"), ("charlson", "Myocardial infarction")],
        r"angina|isch(a)?emic heart|coronary (arterioscl|artery disease|atheroma|thrombosis|heart disease|artery spasm|artery thromb)|"
        r"atherosclerosis of coronary|myocardial infarct|myocardial isch|infarction of .*wall|"
        r"triple vessel disease|preinfarction|impending infarction|subendocardial isch|"
        r"non-st segment elevation|st segment elevation|\bmi\b|coronary artery disease|old myocardial",
        r"electrocardiogram|electrocardiographic|chest pain|syndrome x|septal defect|rupture|"
        r"insulin-glucose|emergency hospital admission|admit|complication",
    ),
    "stroke_tia": (
        [("efi", "stroke-tia"), ("charlson", "Cerebrovascular disease")],
        r"stroke|cerebrovascular accident|\bcva\b|cerebral infarct|cerebral infarction|"
        r"lacunar infarct|circulation infarction|intracerebral ha?emorrhage|cerebral ha?emorrhage|"
        r"transient isch(a)?emic attack|\btia\b|subarachnoid ha?emorrhage|brainstem infarction|"
        r"cerebellar infarction|cerebellar ha?emorrhage|brain stem infarction",
        r"rehabilitation|stroke service|stroke unit|stroke clinic|function improvement|monitoring|"
        r"pain|carotid|precerebral|hydrocephalus|sequelae of other|in last year|risk|"
        r"spinal cord|subdural|traumatic",
    ),
    "ckd_3_5": (
        [("efi", "ckd"), ("charlson", "Renal disease"), ("elix", "Renal disease")],
        r"chronic kidney disease stage [345]|\bckd stage [345]|end.stage renal|end stage renal|"
        r"stage [345] chronic kidney|chronic renal failure|chronic kidney disease 5",
        r"stage [12]\b|annual review",
    ),
    "dementia": (
        [("efi", "cognitive-problems"), ("charlson", "Dementia")],
        r"dementia|alzheimer|lewy body|pick's disease",
        r"drug therapy|anti-dementia|assessment|test|service|mental capacity|without dementia|"
        r"not superimposed|infantalis|alcohol",
    ),
    "cancer": (
        [("charlson", "Any malignancy"), ("charlson", "Metastatic solid tumour")],
        r".",
        r"benign|in situ|carcinoma in situ|uncertain|unknown behaviour|neoplasm of uncertain|"
        r"\bcin\b|dysplasia|polyp|naevus|nevus|cytology|smear|biopsy|examination|"
        r"basal cell|rodent ulcer|squamous cell carcinoma of skin|skin cancer, non-melanoma|"
        r"cancer care|macmillan|palliative|chemotherapy|radiotherapy|two week wait|2ww|"
        r"\bh/o\b|history of|"
        # A smear result that queries carcinoma is not a diagnosis; pseudosarcomatous
        # fibromatosis (nodular fasciitis) is benign.
        r"crv smr|dyskaryosis|\?|fibromatosis",
    ),
    "depression": (
        [("elix", "Depression")],
        r"depress|depressive",
        r"antidepress|manic|bipolar|psychosis|psychotic|dysthymi|hypomani|postviral|"
        r"\bscore\b|scale|phq|hads|in remission|neurotic|reactive|masked|dementia|schizo|personality|"
        r"conduct|symptoms of|^depressed$|depressed mood|anxiety with|anxiety depression",
    ),
    "serious_mental_illness": (
        [("elix", "Psychoses")],
        r"schizo|bipolar|manic|mania|psychos|psychotic|delusional disorder|paranoid",
        r"alcohol|drug|solvent|substance|cannabinoid|opioid|cocaine|hallucinogen|stimulant|"
        r"sedative|organic|korsakov|senile|presenile|dementia|arteriosclerotic|puerperal|"
        r"early intervention|ideas of reference|personality|schizoid|schizotypal|childhood|"
        r"infantile|depressive episode|depressive disorder|\bin remission\b|resolved|mental & behav|"
        r"senility|infective|epilepsy|disintegrative|presbyophrenic|depressive type|antipsychotic|"
        r"manic mood|paranoid ideation|mental/behav|child|hysterical|insight",
    ),
}

# Core concepts added by hand where the sources above lack them, each with a reason.
HAND = [
    # NHS Digital primary care domain reference set LD_COD (QOF learning disability register),
    # as published on OpenCodelists (nhsd-primary-care-domain-refsets/ld_cod): core concepts only.
    ("110359009", "Intellectual disability", "learning_disability"),
    ("86765009", "Mild intellectual disability", "learning_disability"),
    ("61152003", "Moderate intellectual disability", "learning_disability"),
    ("40700009", "Severe intellectual disability", "learning_disability"),
    ("31216003", "Profound intellectual disability", "learning_disability"),
    ("1239331000000100", "Significant intellectual disability", "learning_disability"),
    ("416075005", "On learning disability register", "learning_disability"),
    ("508171000000105", "Severe learning disability", "learning_disability"),
    ("931001000000105", "Significant learning disability", "learning_disability"),
    ("984661000000105", "Mild learning disability", "learning_disability"),
    ("984671000000103", "Moderate learning disability", "learning_disability"),
    ("984681000000101", "Profound learning disability", "learning_disability"),
    ("41040004", "Complete trisomy 21 syndrome", "learning_disability"),
    # SNOMED CT "Major depressive disorder": the core diagnosis concept, absent from the Aurum list.
    ("370143000", "Major depressive disorder", "depression"),
]

def read_efi():
    with open(f"{ref}/efi/efi_deficits_readv2_ctv3_snomed.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row["system"] == "snomed":
                term = re.sub(r" \([a-z /]+\)$", "", row["term"])
                yield ("efi", row["deficit"], row["code"], term)

def read_aurum(name, tag):
    with open(f"{ref}/primary-care/{name}", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            code = row["snomedctconceptid"].strip()
            if code.isdigit():
                yield (tag, row["condition"], code, row["term"].strip('"'))

rows = list(read_efi()) + list(read_aurum("AurumCharlson.txt", "charlson")) + list(
    read_aurum("AurumElixhauser.txt", "elix"))

out = {}
for ltc, (sources, include, exclude) in RULES.items():
    inc = re.compile(include, re.I)
    exc = re.compile(exclude, re.I) if exclude else None
    for src, cat, code, term in rows:
        if (src, cat) not in sources:
            continue
        if not inc.search(term) or GENERIC_EXCLUDE.search(term) or (exc and exc.search(term)):
            continue
        key = (code, ltc)
        if key not in out:
            label = {"efi": "eFI", "charlson": "Aurum Charlson", "elix": "Aurum Elixhauser"}[src]
            out[key] = (term, f"{label}: {cat}")
for code, term, ltc in HAND:
    out.setdefault((code, ltc), (term, "NHSD LD_COD refset (hand-selected)"))

w = csv.writer(sys.stdout, lineterminator="\n")
w.writerow(["code", "description", "category", "source"])
for (code, ltc), (term, src) in sorted(out.items(), key=lambda kv: (kv[0][1], int(kv[0][0]))):
    w.writerow([code, term[:1].upper() + term[1:], ltc, src])
