//! Elixhauser comorbidities over ICD-10: the coding of Quan et al. (Med Care
//! 2005;43:1130–9), 31 categories (hypertension split into uncomplicated and
//! complicated), with the van Walraven et al. weights (Med Care
//! 2009;47:626–33). List: `codelists/icd10/elixhauser_quan2005.csv`
//! (converted from pycomorb's ELIXHAUSER_QUAN/ELIXHAUSER_WEIGHTS, kept beside it).
//!
//! Hierarchy (Elixhauser et al. 1998 and the AHRQ comorbidity software, as
//! the R `comorbidity` package applies it with `assign0`): when the more
//! severe form is present the milder is not counted —
//! diabetes complicated over uncomplicated, metastatic cancer over solid
//! tumour without metastasis, hypertension complicated over uncomplicated.
//! Under van Walraven only the cancer rule changes the score (both diabetes
//! and both hypertension weights are 0), but it also keeps
//! [`elixhauser_count`] to the 30 conditions of the original method.
//!
//! Quan's table puts a few codes in two categories, and we keep that:
//! F31.5 (bipolar, severe depression with psychosis) is both psychoses and
//! depression, I42.6 both heart failure and alcohol abuse, K70.0/K70.3/K70.9
//! both liver disease and alcohol abuse.

use std::sync::OnceLock;

use super::code::CodeSystem;
use super::load::Codelist;

const LIST_CSV: &str = include_str!("../../codelists/icd10/elixhauser_quan2005.csv");

/// The 31 Elixhauser categories, in the order of Quan et al.'s table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum ElixhauserCategory {
    CongestiveHeartFailure = 0,
    CardiacArrhythmias,
    ValvularDisease,
    PulmonaryCirculationDisorders,
    PeripheralVascularDisorders,
    HypertensionUncomplicated,
    HypertensionComplicated,
    Paralysis,
    OtherNeurologicalDisorders,
    ChronicPulmonaryDisease,
    DiabetesUncomplicated,
    DiabetesComplicated,
    Hypothyroidism,
    RenalFailure,
    LiverDisease,
    PepticUlcerDiseaseExcludingBleeding,
    AidsHiv,
    Lymphoma,
    MetastaticCancer,
    SolidTumourWithoutMetastasis,
    RheumatoidArthritisCollagenVascular,
    Coagulopathy,
    Obesity,
    WeightLoss,
    FluidAndElectrolyteDisorders,
    BloodLossAnaemia,
    DeficiencyAnaemia,
    AlcoholAbuse,
    DrugAbuse,
    Psychoses,
    Depression,
}

impl ElixhauserCategory {
    pub const ALL: [ElixhauserCategory; 31] = {
        use ElixhauserCategory::*;
        [
            CongestiveHeartFailure,
            CardiacArrhythmias,
            ValvularDisease,
            PulmonaryCirculationDisorders,
            PeripheralVascularDisorders,
            HypertensionUncomplicated,
            HypertensionComplicated,
            Paralysis,
            OtherNeurologicalDisorders,
            ChronicPulmonaryDisease,
            DiabetesUncomplicated,
            DiabetesComplicated,
            Hypothyroidism,
            RenalFailure,
            LiverDisease,
            PepticUlcerDiseaseExcludingBleeding,
            AidsHiv,
            Lymphoma,
            MetastaticCancer,
            SolidTumourWithoutMetastasis,
            RheumatoidArthritisCollagenVascular,
            Coagulopathy,
            Obesity,
            WeightLoss,
            FluidAndElectrolyteDisorders,
            BloodLossAnaemia,
            DeficiencyAnaemia,
            AlcoholAbuse,
            DrugAbuse,
            Psychoses,
            Depression,
        ]
    };

    /// The short key used in the code-list file (as the R `comorbidity` package names them).
    pub fn key(self) -> &'static str {
        const KEYS: [&str; 31] = [
            "chf", "carit", "valv", "pcd", "pvd", "hypunc", "hypc", "para", "ond", "cpd",
            "diabunc", "diabc", "hypothy", "rf", "ld", "pud", "aids", "lymph", "metacanc",
            "solidtum", "rheumd", "coag", "obes", "wloss", "fed", "blane", "dane", "alcohol",
            "drug", "psycho", "depre",
        ];
        KEYS[self as usize]
    }

    /// Plain-English name, lower case, for reasons and reports.
    pub fn label(self) -> &'static str {
        const LABELS: [&str; 31] = [
            "congestive heart failure",
            "cardiac arrhythmias",
            "valvular disease",
            "pulmonary circulation disorders",
            "peripheral vascular disorders",
            "hypertension, uncomplicated",
            "hypertension, complicated",
            "paralysis",
            "other neurological disorders",
            "chronic pulmonary disease",
            "diabetes, uncomplicated",
            "diabetes, complicated",
            "hypothyroidism",
            "renal failure",
            "liver disease",
            "peptic ulcer disease excluding bleeding",
            "AIDS/HIV",
            "lymphoma",
            "metastatic cancer",
            "solid tumour without metastasis",
            "rheumatoid arthritis/collagen vascular diseases",
            "coagulopathy",
            "obesity",
            "weight loss",
            "fluid and electrolyte disorders",
            "blood loss anaemia",
            "deficiency anaemia",
            "alcohol abuse",
            "drug abuse",
            "psychoses",
            "depression",
        ];
        LABELS[self as usize]
    }

    /// The bit of this category in a condition set.
    pub fn bit(self) -> u64 {
        1 << (self as u8)
    }

    pub(super) fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.key() == key)
    }

    /// The categories in a set, in table order.
    pub fn in_set(set: u64) -> impl Iterator<Item = ElixhauserCategory> {
        Self::ALL.into_iter().filter(move |c| set & c.bit() != 0)
    }
}

struct Table {
    /// (normalised ICD-10 prefix, category)
    prefixes: Vec<(String, ElixhauserCategory)>,
    /// van Walraven weight per category
    van_walraven: [i32; 31],
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| parse_table(LIST_CSV))
}

/// Builds the table from the compiled-in list. The list is part of the
/// binary and covered by tests (entry and category counts), so a defect is
/// a build error caught there; at run time it yields an empty table, never a panic.
fn parse_table(csv: &str) -> Table {
    let mut t = Table {
        prefixes: Vec::new(),
        van_walraven: [0; 31],
    };
    let Ok(list) = Codelist::parse(csv, "built-in:elixhauser_quan2005.csv", CodeSystem::Icd10)
    else {
        return t;
    };
    for e in list.entries() {
        let Some(cat) = e
            .category
            .and_then(|c| list.categories().get(c))
            .and_then(|k| ElixhauserCategory::from_key(k))
        else {
            continue;
        };
        t.prefixes.push((e.code.clone(), cat));
        t.van_walraven[cat as usize] = e.weight.unwrap_or(0.0).round() as i32;
    }
    t
}

/// The set of Elixhauser categories (as bits, see [`ElixhauserCategory::bit`])
/// that one ICD-10 code falls in; 0 for none.
pub fn elixhauser_categories(code: &str) -> u64 {
    let Some(key) = super::code::Icd10Key::new(code) else {
        return 0;
    };
    let key = key.as_str();
    table()
        .prefixes
        .iter()
        .filter(|(p, _)| key.starts_with(p.as_str()))
        .fold(0, |set, (_, c)| set | c.bit())
}

/// Drops the milder form where the more severe is present (see module docs).
pub fn elixhauser_hierarchy(mut set: u64) -> u64 {
    use ElixhauserCategory::*;
    for (mild, severe) in [
        (DiabetesUncomplicated, DiabetesComplicated),
        (SolidTumourWithoutMetastasis, MetastaticCancer),
        (HypertensionUncomplicated, HypertensionComplicated),
    ] {
        if set & severe.bit() != 0 {
            set &= !mild.bit();
        }
    }
    set
}

/// The van Walraven weight of one category (−7 … 12).
pub fn van_walraven_weight(category: ElixhauserCategory) -> i32 {
    table().van_walraven[category as usize]
}

/// The van Walraven score of one person's set of categories, after the
/// hierarchy: the sum of the weights of the categories present (range −19 … 85).
pub fn elixhauser_score(set: u64) -> i32 {
    ElixhauserCategory::in_set(elixhauser_hierarchy(set))
        .map(van_walraven_weight)
        .sum()
}

/// The number of Elixhauser comorbidities present, after the hierarchy
/// (so each of hypertension, diabetes and cancer counts at most once).
pub fn elixhauser_count(set: u64) -> u32 {
    (elixhauser_hierarchy(set) & ((1u64 << 31) - 1)).count_ones()
}

#[cfg(test)]
mod tests {
    use super::ElixhauserCategory::*;
    use super::*;

    fn set_of(codes: &[&str]) -> u64 {
        codes.iter().fold(0, |s, c| s | elixhauser_categories(c))
    }

    #[test]
    fn the_compiled_in_list_loads_completely() {
        // Quan 2005 ICD-10 column of pycomorb's table: 399 prefixes over 31 categories.
        assert_eq!(table().prefixes.len(), 399);
        for c in ElixhauserCategory::ALL {
            assert!(table().prefixes.iter().any(|(_, k)| *k == c), "{c:?}");
        }
    }

    #[test]
    fn the_converted_list_agrees_with_the_published_table() {
        // The long-format file is derived from pycomorb's wide file; check
        // every category's codes and weight against the original, so neither drifts.
        let wide = include_str!("../../codelists/icd10/ELIXHAUSER_QUAN.csv");
        let weights = include_str!("../../codelists/icd10/ELIXHAUSER_WEIGHTS.csv");
        for (i, line) in wide.lines().skip(1).enumerate() {
            let codes = line.rsplit(',').next().unwrap();
            let cat = ElixhauserCategory::ALL[i];
            let mut published: Vec<&str> = codes.split('|').collect();
            let mut ours: Vec<&str> = table()
                .prefixes
                .iter()
                .filter(|(_, k)| *k == cat)
                .map(|(p, _)| p.as_str())
                .collect();
            published.sort_unstable();
            ours.sort_unstable();
            assert_eq!(ours, published, "{cat:?}");
        }
        for (i, line) in weights.lines().skip(1).take(31).enumerate() {
            let f = super::super::load::split_csv(line).unwrap();
            let w: i32 = f[2].parse().unwrap();
            assert_eq!(van_walraven_weight(ElixhauserCategory::ALL[i]), w, "{line}");
        }
    }

    #[test]
    fn van_walraven_weights_are_the_published_ones() {
        // van Walraven et al. 2009, Table 2 (the weights of the point system).
        let expected = [
            (CongestiveHeartFailure, 7),
            (CardiacArrhythmias, 5),
            (ValvularDisease, -1),
            (PulmonaryCirculationDisorders, 4),
            (PeripheralVascularDisorders, 2),
            (HypertensionUncomplicated, 0),
            (HypertensionComplicated, 0),
            (Paralysis, 7),
            (OtherNeurologicalDisorders, 6),
            (ChronicPulmonaryDisease, 3),
            (DiabetesUncomplicated, 0),
            (DiabetesComplicated, 0),
            (Hypothyroidism, 0),
            (RenalFailure, 5),
            (LiverDisease, 11),
            (PepticUlcerDiseaseExcludingBleeding, 0),
            (AidsHiv, 0),
            (Lymphoma, 9),
            (MetastaticCancer, 12),
            (SolidTumourWithoutMetastasis, 4),
            (RheumatoidArthritisCollagenVascular, 0),
            (Coagulopathy, 3),
            (Obesity, -4),
            (WeightLoss, 6),
            (FluidAndElectrolyteDisorders, 5),
            (BloodLossAnaemia, -2),
            (DeficiencyAnaemia, -2),
            (AlcoholAbuse, 0),
            (DrugAbuse, -7),
            (Psychoses, 0),
            (Depression, -3),
        ];
        for (c, w) in expected {
            assert_eq!(van_walraven_weight(c), w, "{c:?}");
        }
        // Range: all negative weights −1−4−2−2−7−3 = −19; all positive
        // 7+5+4+2+7+6+3+5+11+9+12+4+3+6+5 = 89, less solid tumour (4) which
        // the hierarchy removes when metastatic cancer is present = 85.
        let all = ElixhauserCategory::ALL.iter().fold(0, |s, c| s | c.bit());
        assert_eq!(elixhauser_score(all), 85 - 19);
    }

    #[test]
    fn codes_fall_in_their_published_categories() {
        assert_eq!(elixhauser_categories("I50.9"), CongestiveHeartFailure.bit());
        assert_eq!(elixhauser_categories("I48X"), CardiacArrhythmias.bit());
        assert_eq!(
            elixhauser_categories("I10X"),
            HypertensionUncomplicated.bit()
        );
        assert_eq!(elixhauser_categories("I119"), HypertensionComplicated.bit());
        assert_eq!(elixhauser_categories("E119"), DiabetesUncomplicated.bit());
        assert_eq!(elixhauser_categories("E112"), DiabetesComplicated.bit());
        assert_eq!(elixhauser_categories("N183"), RenalFailure.bit());
        assert_eq!(elixhauser_categories("C787"), MetastaticCancer.bit());
        assert_eq!(
            elixhauser_categories("C509"),
            SolidTumourWithoutMetastasis.bit()
        );
        assert_eq!(elixhauser_categories("C859"), Lymphoma.bit());
        assert_eq!(elixhauser_categories("F329"), Depression.bit());
        assert_eq!(elixhauser_categories("J449"), ChronicPulmonaryDisease.bit());
        // Codes Quan lists under two categories.
        assert_eq!(
            elixhauser_categories("I426"),
            CongestiveHeartFailure.bit() | AlcoholAbuse.bit()
        );
        assert_eq!(
            elixhauser_categories("K703"),
            LiverDisease.bit() | AlcoholAbuse.bit()
        );
        assert_eq!(
            elixhauser_categories("F315"),
            Psychoses.bit() | Depression.bit()
        );
        // F20.4 post-schizophrenic depression: F20 (psychoses) and F20.4 (depression).
        assert_eq!(
            elixhauser_categories("F204"),
            Psychoses.bit() | Depression.bit()
        );
        // Not Elixhauser: pneumonia, acute MI (Elixhauser has no MI category), GORD.
        assert_eq!(elixhauser_categories("J189"), 0);
        assert_eq!(elixhauser_categories("I219"), 0);
        assert_eq!(elixhauser_categories("K219"), 0);
        assert_eq!(elixhauser_categories(""), 0);
    }

    #[test]
    fn hand_worked_van_walraven_score() {
        // A person with I50.0 (CHF 7), I48 (arrhythmia 5), E11.2 (diabetes
        // complicated 0) and E11.9 (diabetes uncomplicated 0, dropped by the
        // hierarchy), C78.7 (metastatic cancer 12) and C18.9 (solid tumour 4,
        // dropped by the hierarchy), E66 (obesity −4), F32.9 (depression −3):
        // 7 + 5 + 0 + 12 − 4 − 3 = 17.
        let set = set_of(&[
            "I500", "I48", "E11.2", "E119", "C787", "C189", "E66.9", "F329",
        ]);
        assert_eq!(elixhauser_score(set), 17);
        // Count: CHF, arrhythmia, diabetes (once), metastatic (solid tumour
        // dropped), obesity, depression = 6.
        assert_eq!(elixhauser_count(set), 6);
    }

    #[test]
    fn hierarchy_counts_only_the_more_severe_form() {
        // Solid tumour 4 + metastatic 12: only metastatic counts = 12, not 16.
        assert_eq!(elixhauser_score(set_of(&["C509", "C793"])), 12);
        assert_eq!(elixhauser_score(set_of(&["C509"])), 4);
        // I10 + I11.9: one hypertension; both weigh 0.
        let htn = set_of(&["I10", "I119"]);
        assert_eq!(elixhauser_hierarchy(htn), HypertensionComplicated.bit());
        assert_eq!(elixhauser_count(htn), 1);
        assert_eq!(elixhauser_score(htn), 0);
        // Negative totals are possible: drug abuse alone is −7.
        assert_eq!(elixhauser_score(set_of(&["F112"])), -7);
        assert_eq!(elixhauser_score(0), 0);
    }
}
