//! The Charlson Comorbidity Index over ICD-10, with the coding of Quan et al.
//! (Med Care 2005;43:1130–9) and two weightings: the original Charlson et al.
//! 1987 weights and the Quan et al. 2011 updated weights (Am J Epidemiol
//! 2011;173:676–82). The code list is `codelists/icd10/charlson_quan2005.csv`,
//! read by the general loader ([`Codelist`]) like every built-in list and
//! converted from pycomorb's (MIT) `CHARLSON_QUAN.csv`; the two weightings
//! are [`WEIGHTS`]. Unit tests check both against pycomorb's files.
//!
//! Hierarchy rules: when both are present, only the more severe of
//! mild / moderate-or-severe liver disease, diabetes without / with chronic
//! complications, and any malignancy / metastatic solid tumour counts.

use std::sync::OnceLock;

use super::code::{CodeSystem, Icd10Key};
use super::load::Codelist;

const LIST_CSV: &str = include_str!("../../codelists/icd10/charlson_quan2005.csv");

/// The 17 Charlson conditions, numbered as in the published table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum CharlsonCategory {
    MyocardialInfarction = 1,
    CongestiveHeartFailure,
    PeripheralVascularDisease,
    CerebrovascularDisease,
    Dementia,
    ChronicPulmonaryDisease,
    RheumaticDisease,
    PepticUlcerDisease,
    MildLiverDisease,
    DiabetesWithoutComplication,
    DiabetesWithComplication,
    HemiplegiaOrParaplegia,
    RenalDisease,
    AnyMalignancy,
    ModerateOrSevereLiverDisease,
    MetastaticSolidTumour,
    AidsHiv,
}

impl CharlsonCategory {
    pub const ALL: [CharlsonCategory; 17] = [
        Self::MyocardialInfarction,
        Self::CongestiveHeartFailure,
        Self::PeripheralVascularDisease,
        Self::CerebrovascularDisease,
        Self::Dementia,
        Self::ChronicPulmonaryDisease,
        Self::RheumaticDisease,
        Self::PepticUlcerDisease,
        Self::MildLiverDisease,
        Self::DiabetesWithoutComplication,
        Self::DiabetesWithComplication,
        Self::HemiplegiaOrParaplegia,
        Self::RenalDisease,
        Self::AnyMalignancy,
        Self::ModerateOrSevereLiverDisease,
        Self::MetastaticSolidTumour,
        Self::AidsHiv,
    ];

    /// The bit of this category in a condition set.
    pub fn bit(self) -> u32 {
        1 << (self as u8)
    }

    /// The category's key in the code list (as the R comorbidity package names it).
    pub fn key(self) -> &'static str {
        match self {
            Self::MyocardialInfarction => "ami",
            Self::CongestiveHeartFailure => "chf",
            Self::PeripheralVascularDisease => "pvd",
            Self::CerebrovascularDisease => "cevd",
            Self::Dementia => "dementia",
            Self::ChronicPulmonaryDisease => "copd",
            Self::RheumaticDisease => "rheumd",
            Self::PepticUlcerDisease => "pud",
            Self::MildLiverDisease => "mld",
            Self::DiabetesWithoutComplication => "diab",
            Self::DiabetesWithComplication => "diabwc",
            Self::HemiplegiaOrParaplegia => "hp",
            Self::RenalDisease => "rend",
            Self::AnyMalignancy => "canc",
            Self::ModerateOrSevereLiverDisease => "msld",
            Self::MetastaticSolidTumour => "metacanc",
            Self::AidsHiv => "aids",
        }
    }

    pub(super) fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.key() == key)
    }
}

/// Which published weights to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CharlsonWeights {
    /// Charlson et al. 1987.
    Charlson1987,
    /// Quan et al. 2011 updated weights.
    Quan2011,
}

/// Each category's weight: (Charlson et al. 1987, Quan et al. 2011).
pub const WEIGHTS: [(CharlsonCategory, u32, u32); 17] = {
    use CharlsonCategory::*;
    [
        (MyocardialInfarction, 1, 0),
        (CongestiveHeartFailure, 1, 2),
        (PeripheralVascularDisease, 1, 0),
        (CerebrovascularDisease, 1, 0),
        (Dementia, 1, 2),
        (ChronicPulmonaryDisease, 1, 1),
        (RheumaticDisease, 1, 1),
        (PepticUlcerDisease, 1, 0),
        (MildLiverDisease, 1, 2),
        (DiabetesWithoutComplication, 1, 0),
        (DiabetesWithComplication, 2, 1),
        (HemiplegiaOrParaplegia, 2, 2),
        (RenalDisease, 2, 1),
        (AnyMalignancy, 2, 2),
        (ModerateOrSevereLiverDisease, 3, 4),
        (MetastaticSolidTumour, 6, 6),
        (AidsHiv, 6, 4),
    ]
};

/// (normalised ICD-10 prefix, category)
fn prefixes() -> &'static [(String, CharlsonCategory)] {
    static PREFIXES: OnceLock<Vec<(String, CharlsonCategory)>> = OnceLock::new();
    PREFIXES.get_or_init(|| parse_prefixes(LIST_CSV))
}

/// Reads the compiled-in list. It is part of the binary and covered by
/// tests (entry count, agreement with the published table), so a defect is
/// a build defect caught there; at run time it gives an empty table, never
/// a panic.
fn parse_prefixes(csv: &str) -> Vec<(String, CharlsonCategory)> {
    let Ok(list) = Codelist::parse(csv, "built-in:charlson_quan2005.csv", CodeSystem::Icd10) else {
        return Vec::new();
    };
    list.entries()
        .iter()
        .filter_map(|e| {
            let key = list.categories().get(e.category?)?;
            Some((e.code.clone(), CharlsonCategory::from_key(key)?))
        })
        .collect()
}

/// The set of Charlson categories (as bits) that one ICD-10 code falls in.
pub fn charlson_categories(code: &str) -> u32 {
    let Some(key) = Icd10Key::new(code) else {
        return 0;
    };
    let key = key.as_str();
    prefixes()
        .iter()
        .filter(|(prefix, _)| key.starts_with(prefix.as_str()))
        .fold(0, |set, (_, category)| set | category.bit())
}

/// The Charlson index of one person's set of categories, after the hierarchy rules.
pub fn charlson_score(set: u32, weights: CharlsonWeights) -> u32 {
    let set = apply_hierarchy(set);
    WEIGHTS
        .iter()
        .filter(|(c, _, _)| set & c.bit() != 0)
        .map(|&(_, charlson, quan)| match weights {
            CharlsonWeights::Charlson1987 => charlson,
            CharlsonWeights::Quan2011 => quan,
        })
        .sum()
}

/// Drops the milder of each pair when the more severe is present.
pub fn apply_hierarchy(mut set: u32) -> u32 {
    use CharlsonCategory::*;
    for (mild, severe) in [
        (MildLiverDisease, ModerateOrSevereLiverDisease),
        (DiabetesWithoutComplication, DiabetesWithComplication),
        (AnyMalignancy, MetastaticSolidTumour),
    ] {
        if set & severe.bit() != 0 {
            set &= !mild.bit();
        }
    }
    set
}

#[cfg(test)]
mod tests {
    use super::CharlsonCategory::*;
    use super::*;

    fn set_of(codes: &[&str]) -> u32 {
        codes.iter().fold(0, |s, c| s | charlson_categories(c))
    }

    #[test]
    fn codes_fall_in_their_published_categories() {
        assert_eq!(charlson_categories("I21.9"), MyocardialInfarction.bit());
        assert_eq!(charlson_categories("I252"), MyocardialInfarction.bit());
        assert_eq!(charlson_categories("I500"), CongestiveHeartFailure.bit());
        assert_eq!(charlson_categories("E112"), DiabetesWithComplication.bit());
        assert_eq!(
            charlson_categories("E119"),
            DiabetesWithoutComplication.bit()
        );
        assert_eq!(charlson_categories("C787"), MetastaticSolidTumour.bit());
        // C0–C26 are "any malignancy" by two-character prefix.
        assert_eq!(charlson_categories("C01X"), AnyMalignancy.bit());
        assert_eq!(charlson_categories("B20"), AidsHiv.bit());
        assert_eq!(
            charlson_categories("J189"),
            0,
            "pneumonia is not a Charlson condition"
        );
        assert_eq!(
            charlson_categories("I251"),
            0,
            "I25.1 is not in the MI list (only I25.2)"
        );
    }

    #[test]
    #[allow(clippy::identity_op)] // the working is shown, zero weights included
    fn mi_diabetes_with_complications_and_metastases_under_both_weightings() {
        // I21 (MI), E11.2 (diabetes with chronic complication), C78 (metastatic solid tumour).
        let set = set_of(&["I21", "E11.2", "C78"]);
        // Charlson 1987: MI 1 + diabetes with complication 2 + metastatic 6 = 9.
        assert_eq!(
            charlson_score(set, CharlsonWeights::Charlson1987),
            1 + 2 + 6
        );
        // Quan 2011: MI 0 + diabetes with complication 1 + metastatic 6 = 7.
        assert_eq!(charlson_score(set, CharlsonWeights::Quan2011), 0 + 1 + 6);
    }

    #[test]
    fn hierarchy_counts_only_the_more_severe_of_each_pair() {
        // E11.9 + E11.2: only "with complication" counts: 2 (1987), 1 (2011).
        let diabetes = set_of(&["E119", "E112"]);
        assert_eq!(charlson_score(diabetes, CharlsonWeights::Charlson1987), 2);
        assert_eq!(charlson_score(diabetes, CharlsonWeights::Quan2011), 1);
        // K70.0 (mild) + I85.0 (moderate/severe): 3 (1987), 4 (2011).
        let liver = set_of(&["K700", "I850"]);
        assert_eq!(charlson_score(liver, CharlsonWeights::Charlson1987), 3);
        assert_eq!(charlson_score(liver, CharlsonWeights::Quan2011), 4);
        // C50 (any malignancy) + C79 (metastatic): 6 under both.
        let cancer = set_of(&["C509", "C793"]);
        assert_eq!(charlson_score(cancer, CharlsonWeights::Charlson1987), 6);
        assert_eq!(charlson_score(cancer, CharlsonWeights::Quan2011), 6);
    }

    #[test]
    fn aids_weighs_four_under_quan_2011() {
        assert_eq!(charlson_score(AidsHiv.bit(), CharlsonWeights::Quan2011), 4);
        assert_eq!(
            charlson_score(AidsHiv.bit(), CharlsonWeights::Charlson1987),
            6
        );
    }

    #[test]
    fn all_seventeen_categories_have_codes() {
        // 271 prefixes in pycomorb's CHARLSON_QUAN.csv (rows 1–17).
        assert_eq!(prefixes().len(), 271);
        for c in CharlsonCategory::ALL {
            assert!(prefixes().iter().any(|(_, k)| *k == c), "{c:?}");
        }
    }

    #[test]
    fn the_converted_list_and_the_weights_agree_with_the_published_tables() {
        // The long-format list is derived from pycomorb's wide file, and the
        // weights are written out above: check both against the originals.
        let wide = include_str!("../../codelists/icd10/CHARLSON_QUAN.csv");
        let weights = include_str!("../../codelists/icd10/CHARLSON_WEIGHTS.csv");
        for (i, line) in wide.lines().skip(2).enumerate() {
            let codes = line.rsplit(',').next().unwrap();
            let cat = CharlsonCategory::ALL[i];
            let mut published: Vec<&str> = codes.split('|').collect();
            let mut ours: Vec<&str> = prefixes()
                .iter()
                .filter(|(_, k)| *k == cat)
                .map(|(p, _)| p.as_str())
                .collect();
            published.sort_unstable();
            ours.sort_unstable();
            assert_eq!(ours, published, "{cat:?}");
        }
        let published: Vec<(u32, u32)> = weights
            .lines()
            .skip(2)
            .map(|line| {
                let f = super::super::load::split_csv(line).unwrap();
                (f[2].parse().unwrap(), f[5].parse().unwrap())
            })
            .collect();
        let ours: Vec<(u32, u32)> = WEIGHTS.iter().map(|&(_, c, q)| (c, q)).collect();
        assert_eq!(ours, published);
        let order: Vec<CharlsonCategory> = WEIGHTS.iter().map(|w| w.0).collect();
        assert_eq!(order, CharlsonCategory::ALL);
    }
}
