//! The oracle's own reading of the published code lists and its own matching,
//! written from docs/codelists.md ("Matching rules") without calling
//! `strata::codelists`: ICD-10 codes are normalised (upper case; dots, spaces,
//! dagger and asterisk removed; trailing `X`/`-` fillers after the category
//! dropped) and matched by prefix; SNOMED CT concepts exactly.
//!
//! Charlson and Elixhauser also read the CPRD Aurum SNOMED CT lists
//! (`codelists/snomed/`, category names typed in below in the published
//! order). The ICD-10 Charlson, Elixhauser and HFRS lists are read from the verbatim
//! pycomorb files (`CHARLSON_QUAN.csv`, `ELIXHAUSER_QUAN.csv`, `HFRS.csv`
//! and their weight files), not from the converted lists strata compiles in,
//! so a conversion slip would show up as a disagreement.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use crate::support::root;

/// Splits one CSV line into fields (double quotes, `""` inside quotes).
fn fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                out.last_mut().expect("a field").push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(String::new()),
            (c, _) => out.last_mut().expect("a field").push(c),
        }
    }
    out
}

/// The rows of a code-list file as header name → value maps.
fn read(path: &str) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(root().join("codelists").join(path)).expect("code list");
    let mut lines = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
    let header = fields(lines.next().expect("header"));
    lines
        .map(|l| header.iter().cloned().zip(fields(l)).collect())
        .collect()
}

/// ICD-10 as docs/codelists.md normalises it: `e11.2`→`E112`, `R69X`→`R69`, `A17.0†`→`A170`.
pub fn normalise_icd10(code: &str) -> String {
    let mut s: String = code
        .to_uppercase()
        .chars()
        .filter(|c| !matches!(c, '.' | ' ' | '†' | '+' | '*'))
        .collect();
    while s.len() > 3 && (s.ends_with('X') || s.ends_with('-')) {
        s.pop();
    }
    s
}

/// Category index → ICD-10 prefixes, weight.
pub struct Icd10Categories {
    pub prefixes: Vec<Vec<String>>,
}

impl Icd10Categories {
    /// Indices of the categories whose prefix starts the normalised `code`.
    pub fn of(&self, code: &str) -> BTreeSet<usize> {
        let code = normalise_icd10(code);
        (0..self.prefixes.len())
            .filter(|&i| {
                self.prefixes[i]
                    .iter()
                    .any(|p| code.starts_with(p.as_str()))
            })
            .collect()
    }
}

pub struct Lists {
    /// Charlson categories 1–17 by their pycomorb index (0 is age, unused).
    pub charlson: Icd10Categories,
    /// (Charlson 1987, Quan 2011) weight per Charlson index.
    pub charlson_weights: Vec<(i64, i64)>,
    /// Elixhauser's 31 Quan 2005 categories by pycomorb index.
    pub elixhauser: Icd10Categories,
    pub van_walraven: Vec<i64>,
    /// HFRS: each group's three-character code and weight in tenths.
    pub hfrs: Vec<(String, i64)>,
    /// LTC key → ICD-10 prefixes, and SNOMED concept → LTC keys.
    pub ltc_icd10: BTreeMap<String, Vec<String>>,
    pub ltc_snomed: BTreeMap<String, BTreeSet<String>>,
    /// SNOMED concept → eFI deficits.
    pub efi: BTreeMap<String, BTreeSet<String>>,
    /// SNOMED CT concept → Charlson / Elixhauser indices (the CPRD Aurum
    /// primary-care lists, by category name).
    pub charlson_snomed: BTreeMap<String, BTreeSet<usize>>,
    pub elixhauser_snomed: BTreeMap<String, BTreeSet<usize>>,
}

/// The Aurum lists' category names in the order of pycomorb's Charlson table
/// (index 1 = myocardial infarction … 17 = AIDS/HIV; 0 is age).
const CHARLSON_NAMES: [&str; 18] = [
    "", "ami", "chf", "pvd", "cevd", "dementia", "copd", "rheumd", "pud", "mld", "diab", "diabwc",
    "hp", "rend", "canc", "msld", "metacanc", "aids",
];

/// The same for Elixhauser (index 0 = congestive heart failure … 30 = depression).
const ELIXHAUSER_NAMES: [&str; 31] = [
    "chf", "carit", "valv", "pcd", "pvd", "hypunc", "hypc", "para", "ond", "cpd", "diabunc",
    "diabc", "hypothy", "rf", "ld", "pud", "aids", "lymph", "metacanc", "solidtum", "rheumd",
    "coag", "obes", "wloss", "fed", "blane", "dane", "alcohol", "drug", "psycho", "depre",
];

/// SNOMED CT concept → category indices of a list whose `category` column
/// holds the names in `names`.
fn snomed_categories(path: &str, names: &[&str]) -> BTreeMap<String, BTreeSet<usize>> {
    let mut out: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    for r in read(path) {
        let index = names
            .iter()
            .position(|n| !n.is_empty() && *n == r["category"])
            .unwrap_or_else(|| panic!("{path}: unknown category {}", r["category"]));
        out.entry(r["code"].trim().to_string())
            .or_default()
            .insert(index);
    }
    out
}

fn split_codes(s: &str) -> Vec<String> {
    s.split('|')
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect()
}

fn tenths(s: &str) -> i64 {
    let (whole, frac) = s.split_once('.').unwrap_or((s, "0"));
    let whole: i64 = whole.parse().expect("weight");
    assert_eq!(frac.len(), 1, "HFRS weights have one decimal: {s}");
    whole * 10 + frac.parse::<i64>().expect("weight")
}

pub fn lists() -> &'static Lists {
    static LISTS: OnceLock<Lists> = OnceLock::new();
    LISTS.get_or_init(|| {
        let charlson = read("icd10/CHARLSON_QUAN.csv");
        let charlson_prefixes: Vec<Vec<String>> = charlson
            .iter()
            .map(|r| {
                if r["index"] == "0" {
                    Vec::new() // age: no codes
                } else {
                    split_codes(&r["icd10_codes"])
                }
            })
            .collect();
        assert_eq!(charlson_prefixes.len(), 18);
        let charlson_weights = read("icd10/CHARLSON_WEIGHTS.csv")
            .iter()
            .map(|r| {
                let w = |k: &str| r[k].parse::<i64>().expect("Charlson weight");
                (w("charlson_weights"), w("quan_weights"))
            })
            .collect();
        let elixhauser: Vec<Vec<String>> = read("icd10/ELIXHAUSER_QUAN.csv")
            .iter()
            .map(|r| split_codes(&r["icd10_codes"]))
            .collect();
        assert_eq!(elixhauser.len(), 31);
        let van_walraven = read("icd10/ELIXHAUSER_WEIGHTS.csv")
            .iter()
            .take(31)
            .map(|r| r["van_walraven_weights"].parse::<i64>().expect("vW weight"))
            .collect();
        let hfrs: Vec<(String, i64)> = read("icd10/HFRS.csv")
            .iter()
            .map(|r| (r["icd10_codes"].clone(), tenths(&r["weight"])))
            .collect();
        assert_eq!(hfrs.len(), 109);
        let mut ltc_icd10: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in read("ltc/ltc_icd10.csv") {
            ltc_icd10
                .entry(r["category"].clone())
                .or_default()
                .push(normalise_icd10(&r["code"]));
        }
        let mut ltc_snomed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for r in read("ltc/ltc_snomed.csv") {
            ltc_snomed
                .entry(r["code"].trim().to_string())
                .or_default()
                .insert(r["category"].clone());
        }
        let mut efi: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for r in read("efi/efi_clegg2016_snomed.csv") {
            efi.entry(r["code"].trim().to_string())
                .or_default()
                .insert(r["category"].clone());
        }
        Lists {
            charlson: Icd10Categories {
                prefixes: charlson_prefixes,
            },
            charlson_weights,
            elixhauser: Icd10Categories {
                prefixes: elixhauser,
            },
            van_walraven,
            hfrs,
            ltc_icd10,
            ltc_snomed,
            efi,
            charlson_snomed: snomed_categories("snomed/charlson_aurum_snomed.csv", &CHARLSON_NAMES),
            elixhauser_snomed: snomed_categories(
                "snomed/elixhauser_aurum_snomed.csv",
                &ELIXHAUSER_NAMES,
            ),
        }
    })
}

/// The 14 long-term conditions, in catalogue order (feature `ltc_<key>`).
pub const LTC_KEYS: [&str; 14] = [
    "hypertension",
    "diabetes",
    "asthma",
    "copd",
    "heart_failure",
    "atrial_fibrillation",
    "coronary_heart_disease",
    "stroke_tia",
    "ckd_3_5",
    "dementia",
    "cancer",
    "depression",
    "serious_mental_illness",
    "learning_disability",
];

impl Lists {
    /// LTC keys an ICD-10 code flags (prefix match).
    pub fn ltc_of_icd10(&self, code: &str) -> BTreeSet<String> {
        let code = normalise_icd10(code);
        self.ltc_icd10
            .iter()
            .filter(|(_, prefixes)| prefixes.iter().any(|p| code.starts_with(p.as_str())))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// LTC keys a SNOMED CT concept flags (exact match after trimming).
    /// Charlson and Elixhauser indices of a SNOMED CT concept.
    pub fn charlson_of_snomed(&self, code: &str) -> BTreeSet<usize> {
        self.charlson_snomed
            .get(code.trim())
            .cloned()
            .unwrap_or_default()
    }

    pub fn elixhauser_of_snomed(&self, code: &str) -> BTreeSet<usize> {
        self.elixhauser_snomed
            .get(code.trim())
            .cloned()
            .unwrap_or_default()
    }

    pub fn ltc_of_snomed(&self, code: &str) -> BTreeSet<String> {
        self.ltc_snomed
            .get(code.trim())
            .cloned()
            .unwrap_or_default()
    }

    pub fn efi_of_snomed(&self, code: &str) -> BTreeSet<String> {
        self.efi.get(code.trim()).cloned().unwrap_or_default()
    }

    /// The HFRS group (index) of an ICD-10 code: its first three characters.
    pub fn hfrs_of(&self, code: &str) -> Option<usize> {
        let code = normalise_icd10(code);
        self.hfrs
            .iter()
            .position(|(g, _)| code.starts_with(g.as_str()))
    }
}
