//! Long-term conditions (LTCs) from ICD-10 and SNOMED CT codes, as flags
//! and a count. Lists: `codelists/ltc/ltc_icd10.csv` (ICD-10 prefixes from
//! the Quan 2005 Charlson/Elixhauser coding and ICD-10 blocks) and
//! `codelists/ltc/ltc_snomed.csv` (concepts selected from the eFI and Aurum
//! Charlson/Elixhauser lists by `codelists/tools/build_ltc_snomed.py`, plus
//! hand-picked core concepts); sources per row in the `source` column and in
//! codelists/README.md.
//!
//! A code may flag more than one condition (none of the built-in rows does
//! today, but user lists can). A flag means "ever coded up to the index
//! date" unless the features stage windows it.

use super::code::CodeSystem;
#[cfg(test)]
use super::load::Codelist;

#[cfg(test)]
const ICD10_CSV: &str = include_str!("../../codelists/ltc/ltc_icd10.csv");
#[cfg(test)]
const SNOMED_CSV: &str = include_str!("../../codelists/ltc/ltc_snomed.csv");

/// The long-term conditions strata flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Ltc {
    Hypertension = 0,
    Diabetes,
    Asthma,
    Copd,
    HeartFailure,
    AtrialFibrillation,
    CoronaryHeartDisease,
    StrokeTia,
    Ckd3To5,
    Dementia,
    Cancer,
    Depression,
    SeriousMentalIllness,
    LearningDisability,
}

const KEYS: [&str; 14] = [
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

const LABELS: [&str; 14] = [
    "hypertension",
    "diabetes",
    "asthma",
    "COPD",
    "heart failure",
    "atrial fibrillation",
    "coronary heart disease",
    "stroke or TIA",
    "chronic kidney disease (stages 3-5)",
    "dementia",
    "cancer",
    "depression",
    "serious mental illness",
    "learning disability",
];

impl Ltc {
    pub const ALL: [Ltc; 14] = [
        Ltc::Hypertension,
        Ltc::Diabetes,
        Ltc::Asthma,
        Ltc::Copd,
        Ltc::HeartFailure,
        Ltc::AtrialFibrillation,
        Ltc::CoronaryHeartDisease,
        Ltc::StrokeTia,
        Ltc::Ckd3To5,
        Ltc::Dementia,
        Ltc::Cancer,
        Ltc::Depression,
        Ltc::SeriousMentalIllness,
        Ltc::LearningDisability,
    ];

    /// The snake_case key: the category in the code-list files and the
    /// suffix of feature columns (e.g. `ltc_heart_failure`).
    pub fn key(self) -> &'static str {
        KEYS[self as usize]
    }

    /// Plain-English name for reasons, e.g. "heart failure".
    pub fn label(self) -> &'static str {
        LABELS[self as usize]
    }

    pub fn bit(self) -> u32 {
        1 << (self as u8)
    }

    pub fn from_key(key: &str) -> Option<Ltc> {
        KEYS.iter().position(|k| *k == key).map(|i| Ltc::ALL[i])
    }

    /// The conditions in a set, in order.
    pub fn in_set(set: u32) -> impl Iterator<Item = Ltc> {
        Ltc::ALL.into_iter().filter(move |l| set & l.bit() != 0)
    }
}

/// The long-term conditions (as bits, see [`Ltc::bit`]) that one code falls
/// in: ICD-10 by prefix after normalisation, SNOMED CT by exact concept id;
/// BNF codes flag no condition (0).
///
/// The built-in lists, matched by the one mechanism every score list uses
/// ([`super::ScoreLists`]); a run reads its own (possibly replaced) lists.
pub fn ltc_categories(system: CodeSystem, code: &str) -> u32 {
    super::ScoreLists::builtin().map_or(0, |lists| lists.ltc(system, code))
}

/// The number of conditions in a set (0 … 14).
pub fn ltc_count(set: u32) -> u32 {
    (set & ((1 << Ltc::ALL.len()) - 1)).count_ones()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_in_lists_load_completely() {
        // Rows per condition in ltc_icd10.csv, counted from the definitions.
        let icd = Codelist::parse(ICD10_CSV, "icd", CodeSystem::Icd10).unwrap();
        let per = |key: &str| {
            let c = icd.category_index(key).unwrap();
            icd.entries()
                .iter()
                .filter(|e| e.category == Some(c))
                .count()
        };
        assert_eq!(per("hypertension"), 5); // I10, I11, I12, I13, I15
        assert_eq!(per("diabetes"), 5); // E10–E14
        assert_eq!(per("asthma"), 2); // J45, J46
        assert_eq!(per("copd"), 4); // J41–J44
        // Quan 2005 CHF, heart failure codes only: I11.0, I13.0, I13.2, I50
        // (not I09.9, the cardiomyopathies I25.5, I42.x, I43 or neonatal P29.0).
        assert_eq!(per("heart_failure"), 4);
        assert_eq!(per("atrial_fibrillation"), 1); // I48
        assert_eq!(per("coronary_heart_disease"), 6); // I20–I25
        // I60, I61, I62.9, I63, I64, and G45 but G45.4: G45.0–G45.3, G45.8, G45.9.
        assert_eq!(per("stroke_tia"), 5 + 6);
        assert_eq!(per("ckd_3_5"), 3); // N183–N185
        // Quan 2005 Charlson dementia but G31.1: F00–F03, F05.1, G30.
        assert_eq!(per("dementia"), 6);
        assert_eq!(per("depression"), 2); // F32, F33
        assert_eq!(per("serious_mental_illness"), 10); // F20–F25, F28–F31
        assert_eq!(per("learning_disability"), 6); // F70–F73, F78, F79
        // Charlson "any malignancy": C0, C1 (C00–C19), C20–C26 (7), C30–C34 (5),
        // C37–C41 (5), C43, C45–C58 (14), C60–C76 (17), C81–C85 (5), C88,
        // C90–C97 (8) = 2 + 7 + 5 + 5 + 1 + 14 + 17 + 5 + 1 + 8 = 65;
        // plus metastatic C77–C80 (4).
        assert_eq!(per("cancer"), 65 + 4);
        assert_eq!(icd.categories().len(), 14);

        let sct = Codelist::parse(SNOMED_CSV, "sct", CodeSystem::Snomed).unwrap();
        assert_eq!(
            sct.categories().len(),
            14,
            "every condition has SNOMED concepts"
        );
        assert!(
            icd.entries()
                .iter()
                .all(|e| ltc_categories(CodeSystem::Icd10, e.code.as_str()) != 0),
            "every ICD-10 entry flags a condition"
        );
        assert!(
            sct.entries()
                .iter()
                .all(|e| ltc_categories(CodeSystem::Snomed, e.code.as_str()) != 0),
            "every SNOMED CT entry flags a condition"
        );
    }

    #[test]
    fn icd10_codes_flag_their_condition() {
        use Ltc::*;
        let icd = |c| ltc_categories(CodeSystem::Icd10, c);
        assert_eq!(icd("I10X"), Hypertension.bit());
        // I11.0 hypertensive heart disease with heart failure: both.
        assert_eq!(icd("I11.0"), Hypertension.bit() | HeartFailure.bit());
        assert_eq!(icd("E11.9"), Diabetes.bit());
        assert_eq!(icd("J45.9"), Asthma.bit());
        assert_eq!(icd("J44.1"), Copd.bit());
        assert_eq!(icd("I50.0"), HeartFailure.bit());
        assert_eq!(icd("I48X"), AtrialFibrillation.bit());
        // I25.5 ischaemic cardiomyopathy: CHD (I25), not heart failure.
        assert_eq!(icd("I255"), CoronaryHeartDisease.bit());
        // Miscoded in the sources for these conditions, so dropped:
        // neonatal cardiac failure, rheumatic heart disease, cardiomyopathy,
        // transient global amnesia, subdural and extradural haemorrhage,
        // senile degeneration of the brain.
        for code in [
            "P29.0", "I09.9", "I42.0", "I43", "G45.4", "I62.0", "I62.1", "G31.1",
        ] {
            assert_eq!(icd(code), 0, "{code}");
        }
        assert_eq!(icd("I62.9"), StrokeTia.bit());
        assert_eq!(icd("I64X"), StrokeTia.bit());
        assert_eq!(icd("G45.9"), StrokeTia.bit());
        assert_eq!(icd("N18.4"), Ckd3To5.bit());
        assert_eq!(icd("N18.2"), 0, "CKD stage 2 is not 3-5");
        assert_eq!(icd("F03X"), Dementia.bit());
        assert_eq!(icd("C34.9"), Cancer.bit());
        assert_eq!(
            icd("C44.9"),
            0,
            "non-melanoma skin cancer is excluded, as in Charlson"
        );
        assert_eq!(icd("C79.5"), Cancer.bit());
        assert_eq!(icd("F32.9"), Depression.bit());
        assert_eq!(icd("F31.1"), SeriousMentalIllness.bit());
        assert_eq!(icd("F71.1"), LearningDisability.bit());
        assert_eq!(icd("J18.9"), 0);
        assert_eq!(ltc_categories(CodeSystem::Bnf, "0205051R0AAACAC"), 0);
    }

    #[test]
    fn snomed_concepts_flag_their_condition() {
        use Ltc::*;
        let sct = |c| ltc_categories(CodeSystem::Snomed, c);
        assert_eq!(sct("59621000"), Hypertension.bit()); // essential hypertension
        assert_eq!(sct("84114007"), HeartFailure.bit()); // heart failure
        assert_eq!(sct("53741008"), CoronaryHeartDisease.bit()); // coronary arteriosclerosis
        assert_eq!(sct("110359009"), LearningDisability.bit()); // intellectual disability
        assert_eq!(sct("195662009"), 0); // acute viral pharyngitis
        assert_eq!(sct("240313004"), 0); // intracerebral haemorrhage in fetus or newborn
        assert_eq!(sct("887521000000104"), 0); // smear: ? invasive squamous carcinoma
        assert_eq!(sct("400138001"), 0); // pseudosarcomatous fibromatosis (benign)
        assert_eq!(sct("194791005"), 0); // hypertension secondary to drug
        assert_eq!(sct("8411400"), 0, "no prefix matching in SNOMED CT");
    }

    #[test]
    fn counts_and_labels() {
        let set = Ltc::Hypertension.bit() | Ltc::HeartFailure.bit() | Ltc::Dementia.bit();
        assert_eq!(ltc_count(set), 3);
        assert_eq!(
            Ltc::in_set(set).map(Ltc::label).collect::<Vec<_>>(),
            ["hypertension", "heart failure", "dementia"]
        );
        assert_eq!(ltc_count(0), 0);
        for l in Ltc::ALL {
            assert_eq!(Ltc::from_key(l.key()), Some(l));
        }
    }

    /// The generator's catalogue (src/synth/catalogue.rs, a private module of
    /// another stage), read as text: for each `Condition`, its `key` and the
    /// (ICD-10, SNOMED CT) pair of each variant, written either as
    /// `v("I10X", "38341003", w)` or as `Variant { icd10: "..", snomed: "..", .. }`.
    fn generator_conditions() -> Vec<(String, Vec<(String, String)>)> {
        let text = include_str!("../synth/catalogue.rs");
        let start = text
            .find("pub const CONDITIONS")
            .expect("CONDITIONS in catalogue.rs");
        let end = text[start..].find("\n];").map_or(text.len(), |e| start + e);
        let quoted_after = |s: &str, marker: &str| -> Vec<String> {
            s.match_indices(marker)
                .filter_map(|(i, _)| {
                    let rest = &s[i + marker.len()..];
                    let open = rest.find('"')?;
                    let close = rest[open + 1..].find('"')?;
                    Some(rest[open + 1..open + 1 + close].to_string())
                })
                .collect()
        };
        text[start..end]
            .split("Condition {")
            .skip(1)
            .map(|chunk| {
                let key = quoted_after(chunk, "key:").remove(0);
                let mut pairs: Vec<(String, String)> = chunk
                    .match_indices("v(\"")
                    .filter_map(|(i, _)| {
                        let mut args = chunk[i + 2..].splitn(3, ',');
                        let icd = args.next()?.trim().trim_matches('"').to_string();
                        let sct = args.next()?.trim().trim_matches('"').to_string();
                        Some((icd, sct))
                    })
                    .collect();
                let icd = quoted_after(chunk, "icd10:");
                let sct = quoted_after(chunk, "snomed:");
                pairs.extend(icd.into_iter().zip(sct));
                (key, pairs)
            })
            .collect()
    }

    #[test]
    fn every_condition_code_the_generator_uses_maps_to_its_ltc() {
        let conditions = generator_conditions();
        // The generator models 12 of the 14 conditions (not SMI or learning disability).
        assert_eq!(conditions.len(), 12, "catalogue parsed: {conditions:?}");
        for (key, pairs) in conditions {
            let want = Ltc::from_key(&key)
                .unwrap_or_else(|| panic!("generator condition `{key}` has no LTC"))
                .bit();
            assert!(!pairs.is_empty(), "{key}: no codes found");
            for (icd, sct) in pairs {
                assert_eq!(
                    ltc_categories(CodeSystem::Icd10, &icd),
                    want,
                    "{key}: ICD-10 {icd}"
                );
                assert_eq!(
                    ltc_categories(CodeSystem::Snomed, &sct),
                    want,
                    "{key}: SNOMED CT {sct}"
                );
            }
        }
    }

    #[test]
    fn generator_codes_outside_the_conditions_flag_nothing() {
        // UNLISTED_ICD10 and ACUTE_SNOMED in src/synth/catalogue.rs.
        for code in ["K219", "E780", "M545", "Z880", "Z921", "H259"] {
            assert_eq!(ltc_categories(CodeSystem::Icd10, code), 0, "{code}");
        }
        for code in [
            "195662009",
            "279039007",
            "25064002",
            "55822004",
            "10509002",
            "68566005",
            "22253000",
        ] {
            assert_eq!(ltc_categories(CodeSystem::Snomed, code), 0, "{code}");
        }
    }
}
