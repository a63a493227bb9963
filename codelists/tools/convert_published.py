#!/usr/bin/env python3
"""Converts the published lists in the reference folder to strata's code-list
format (code,description,category[,weight]). Run from the repository root:

    python3 codelists/tools/convert_published.py ../shared/codelists

Writes codelists/efi/efi_clegg2016_snomed.csv (SNOMED CT rows of the gm-sde
eFI list), codelists/icd10/elixhauser_quan2005.csv (one row per ICD-10 prefix,
with the van Walraven weight of its category),
codelists/icd10/hfrs_gilbert2018.csv and codelists/icd10/charlson_quan2005.csv
(one row per ICD-10 prefix with its category key). The pycomorb originals
are kept verbatim beside them and unit tests check that both agree.
"""
import csv
import sys

ref = sys.argv[1]
rows = [r for r in csv.DictReader(open(f"{ref}/efi/efi_deficits_readv2_ctv3_snomed.csv", newline=""))
        if r["system"] == "snomed"]
with open("codelists/efi/efi_clegg2016_snomed.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["code", "description", "category"])
    for r in rows:
        w.writerow([r["code"], r["term"], r["deficit"]])

# Category keys in the order of the published table (as the R comorbidity package names them).
KEYS = ["chf", "carit", "valv", "pcd", "pvd", "hypunc", "hypc", "para", "ond", "cpd", "diabunc",
        "diabc", "hypothy", "rf", "ld", "pud", "aids", "lymph", "metacanc", "solidtum", "rheumd",
        "coag", "obes", "wloss", "fed", "blane", "dane", "alcohol", "drug", "psycho", "depre"]
cats = list(csv.DictReader(open(f"{ref}/icd10/ELIXHAUSER_QUAN.csv", newline="")))
weights = {r["index"]: r["van_walraven_weights"]
           for r in csv.DictReader(open(f"{ref}/icd10/ELIXHAUSER_WEIGHTS.csv", newline=""))}
with open("codelists/icd10/elixhauser_quan2005.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["code", "description", "category", "weight"])
    for r, key in zip(cats, KEYS):
        for code in r["icd10_codes"].split("|"):
            w.writerow([code, r["category"], key, weights[r["index"]]])

with open("codelists/icd10/hfrs_gilbert2018.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["code", "description", "weight"])
    for r in csv.DictReader(open(f"{ref}/icd10/HFRS.csv", newline="")):
        w.writerow([r["icd10_codes"], r["category"], r["weight"]])

# Charlson (Quan et al. 2005 ICD-10 coding); category keys as the R comorbidity
# package names them, in the order of the published table (its row 0, age, is
# not a condition). The two weightings stay in src/codelists/charlson.rs,
# where a unit test checks them against CHARLSON_WEIGHTS.csv.
CHARLSON_KEYS = ["ami", "chf", "pvd", "cevd", "dementia", "copd", "rheumd", "pud", "mld", "diab",
                 "diabwc", "hp", "rend", "canc", "msld", "metacanc", "aids"]
charlson = [r for r in csv.DictReader(open(f"{ref}/icd10/CHARLSON_QUAN.csv", newline=""))
            if r["index"] != "0"]
with open("codelists/icd10/charlson_quan2005.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["code", "description", "category"])
    for r, key in zip(charlson, CHARLSON_KEYS):
        for code in r["icd10_codes"].split("|"):
            w.writerow([code, r["category"], key])
