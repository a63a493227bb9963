#!/usr/bin/env python3
"""Derives strata's SNOMED CT Charlson and Elixhauser lists from the CPRD
Aurum lists (Metcalfe et al. 2019, adapted by Launders et al. 2022; MIT +
CC-BY-4.0). Run from the repository root:

    python3 codelists/tools/convert_aurum_snomed.py ../shared/codelists

Keeps the SNOMED CT concept of each row (`snomedctconceptid`), one row per
(concept, condition); maps each Aurum `condition` onto strata's category key
(the tables below, documented in codelists/README.md) and keeps the Aurum
condition name in the `aurum_condition` column. Aurum's `score` column is not
kept: strata's weights (src/codelists/charlson.rs, elixhauser_quan2005.csv)
apply to every code system alike.

Writes codelists/snomed/charlson_aurum_snomed.csv and
codelists/snomed/elixhauser_aurum_snomed.csv.
"""
import csv
import sys

CHARLSON = {
    "Myocardial infarction": "ami",
    "Congestive heart failure": "chf",
    "Peripheral vascular disease": "pvd",
    "Cerebrovascular disease": "cevd",
    "Dementia": "dementia",
    "Chronic pulmonary disease": "copd",
    "Rheumatic disease": "rheumd",
    "Peptic ulcer disease": "pud",
    "Mild liver disease": "mld",
    "Diabetes (uncomplicated)": "diab",
    "Diabetes with end-organ damage": "diabwc",
    "Hemiplegia or paraplegia": "hp",
    "Renal disease": "rend",
    "Any malignancy": "canc",
    "Moderate or severe liver disease": "msld",
    "Metastatic solid tumour": "metacanc",
    "HIV/AIDS": "aids",
}

ELIXHAUSER = {
    "Congestive heart failure": "chf",
    "Cardiac arrythmia": "carit",
    "Valvular disease": "valv",
    "Pulmonary circulation disorders": "pcd",
    "Peripheral vascular disease": "pvd",
    "Hypertension (uncomplicated)": "hypunc",
    "Hypertension with end-organ damage": "hypc",
    "Paralysis": "para",
    "Other neurological disorders": "ond",
    "Chronic pulmonary disease": "cpd",
    "Diabetes (uncomplicated)": "diabunc",
    "Diabetes with end-organ damage": "diabc",
    "Hypothyroidism": "hypothy",
    "Renal disease": "rf",
    "Liver disease": "ld",
    "Peptic ulcer disease": "pud",
    "HIV/AIDS": "aids",
    "Lymphoma": "lymph",
    "Metastatic cancer": "metacanc",
    "Solid tumour or leukaemia": "solidtum",
    "Rheumatoid arthritis and collagen diseases": "rheumd",
    "Coagulopathy": "coag",
    "Obesity": "obes",
    "Weight loss": "wloss",
    "Fluid and electrolyte disorders": "fed",
    "Blood loss anaemia": "blane",
    "Deficiency anaemia": "dane",
    "Alcohol abuse": "alcohol",
    "Drug abuse": "drug",
    "Psychoses": "psycho",
    "Depression": "depre",
}

# Read v2 -> SNOMED CT maps send several Read codes to one concept, so a few
# concepts land in both the milder and the more severe category of a hierarchy
# pair (the hierarchy would then always count the severe one). Each is
# resolved by what the SNOMED CT concept itself states, and for cancers as
# Quan et al. 2005 code the ICD-10 equivalent: (concept, category dropped).
DROP_CHARLSON = {
    ("73211009", "diabwc"),   # Diabetes mellitus: states no complication
    ("74627003", "diab"),     # Diabetic complication
    ("127013003", "diab"),    # Disorder of kidney due to diabetes mellitus
    ("109392002", "metacanc"),  # Kaposi's sarcoma of multiple organs (C46: any malignancy)
    ("302817000", "canc"),    # Malignant neoplasm of unspecified site (C80: metastatic in Quan)
    ("363346000", "metacanc"),  # Malignant neoplastic disease: states no metastasis
}
DROP_ELIXHAUSER = {
    ("73211009", "diabc"),
    ("74627003", "diabunc"),
    ("127013003", "diabunc"),
    ("363346000", "metacanc"),
}

ref = sys.argv[1]
for source, mapping, drop, out in [
    ("AurumCharlson.txt", CHARLSON, DROP_CHARLSON, "codelists/snomed/charlson_aurum_snomed.csv"),
    ("AurumElixhauser.txt", ELIXHAUSER, DROP_ELIXHAUSER, "codelists/snomed/elixhauser_aurum_snomed.csv"),
]:
    seen = set()
    rows = []
    with open(f"{ref}/primary-care/{source}", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            concept = r["snomedctconceptid"].strip()
            condition = r["condition"].strip()
            if not concept.isdigit():
                continue
            key = mapping[condition]  # an unmapped condition is an error
            if (concept, key) in seen or (concept, key) in drop:
                continue
            seen.add((concept, key))
            rows.append([concept, r["term"].strip(), key, condition])
    rows.sort(key=lambda r: (r[2], int(r[0])))
    with open(out, "w", newline="", encoding="utf-8") as f:
        f.write(f"# SNOMED CT concepts of the CPRD Aurum {source} list (Metcalfe et al. 2019; Launders et al. 2022),\n")
        f.write("# MIT + CC-BY-4.0, see NOTICE. Converted by codelists/tools/convert_aurum_snomed.py.\n")
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["code", "description", "category", "aurum_condition"])
        w.writerows(rows)
    print(out, len(rows))
