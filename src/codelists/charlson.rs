//! The Charlson Comorbidity Index over ICD-10, with the coding of Quan et al.
//! (Med Care 2005;43:1130–9) and two weightings: the original Charlson et al.
//! 1987 weights and the Quan et al. 2011 updated weights (Am J Epidemiol
//! 2011;173:676–82). The code list and weights are `codelists/icd10/CHARLSON_QUAN.csv`
//! and `CHARLSON_WEIGHTS.csv` from pycomorb (MIT), compiled in.
//!
//! Hierarchy rules: when both are present, only the more severe of
//! mild / moderate-or-severe liver disease, diabetes without / with chronic
//! complications, and any malignancy / metastatic solid tumour counts.

use std::sync::OnceLock;

use super::icd10::normalise_icd10;

const QUAN_CSV: &str = include_str!("../../codelists/icd10/CHARLSON_QUAN.csv");
const WEIGHTS_CSV: &str = include_str!("../../codelists/icd10/CHARLSON_WEIGHTS.csv");

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

    fn from_index(i: usize) -> Option<Self> {
        Self::ALL.get(i.checked_sub(1)?).copied()
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

struct Table {
    /// (normalised ICD-10 prefix, category)
    prefixes: Vec<(String, CharlsonCategory)>,
    /// weights[category index] for 1987 and 2011
    charlson: [u32; 18],
    quan: [u32; 18],
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| parse_table(QUAN_CSV, WEIGHTS_CSV))
}

/// Parses the compiled-in CSVs. They are part of the binary and covered by
/// tests, so a malformed line is a build defect and is skipped, never a panic
/// at run time.
fn parse_table(codes_csv: &str, weights_csv: &str) -> Table {
    let mut prefixes = Vec::new();
    for line in codes_csv.lines().skip(1) {
        let fields = split_csv_line(line);
        let (Some(index), Some(codes)) = (fields.first(), fields.get(3)) else {
            continue;
        };
        let Some(category) = index
            .parse::<usize>()
            .ok()
            .and_then(CharlsonCategory::from_index)
        else {
            continue;
        };
        for code in codes.split('|').filter(|c| !c.is_empty()) {
            prefixes.push((normalise_icd10(code), category));
        }
    }
    let mut charlson = [0; 18];
    let mut quan = [0; 18];
    for line in weights_csv.lines().skip(1) {
        let fields = split_csv_line(line);
        let Some(i) = fields
            .first()
            .and_then(|s| s.parse::<usize>().ok())
            .filter(|i| (1..18).contains(i))
        else {
            continue;
        };
        charlson[i] = fields.get(2).and_then(|s| s.parse().ok()).unwrap_or(0);
        quan[i] = fields.get(5).and_then(|s| s.parse().ok()).unwrap_or(0);
    }
    Table {
        prefixes,
        charlson,
        quan,
    }
}

/// Splits one CSV line, honouring double quotes (the category names contain commas).
fn split_csv_line(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// The set of Charlson categories (as bits) that one ICD-10 code falls in.
pub fn charlson_categories(code: &str) -> u32 {
    let code = normalise_icd10(code);
    table()
        .prefixes
        .iter()
        .filter(|(prefix, _)| code.starts_with(prefix.as_str()))
        .fold(0, |set, (_, category)| set | category.bit())
}

/// The Charlson index of one person's set of categories, after the hierarchy rules.
pub fn charlson_score(set: u32, weights: CharlsonWeights) -> u32 {
    let set = apply_hierarchy(set);
    let table = table();
    let w = match weights {
        CharlsonWeights::Charlson1987 => &table.charlson,
        CharlsonWeights::Quan2011 => &table.quan,
    };
    CharlsonCategory::ALL
        .iter()
        .filter(|c| set & c.bit() != 0)
        .map(|c| w[*c as usize])
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
        for c in CharlsonCategory::ALL {
            assert!(table().prefixes.iter().any(|(_, k)| *k == c), "{c:?}");
        }
    }
}
