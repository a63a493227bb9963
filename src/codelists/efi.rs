//! The electronic Frailty Index (Clegg et al., Age Ageing 2016;45:353–60):
//! 36 deficits, 35 from primary-care codes and the 36th, polypharmacy, from
//! prescriptions. The score is the number of deficits present divided by 36.
//! List: `codelists/efi/efi_clegg2016_snomed.csv`, the SNOMED CT rows of the
//! gm-sde eFI list (Read v2/CTV3 mapped to SNOMED CT with the NHS maps of
//! April 2020).
//!
//! A deficit counts once however many of its codes a person has. A concept
//! can belong to more than one deficit (e.g. diabetic retinopathy is both
//! *diabetes* and *visual impairment*: 2089 rows over 2040 concepts), so
//! matching returns a set of deficits, not one.
//!
//! Polypharmacy: ≥ 5 distinct medications ([`POLYPHARMACY_THRESHOLD`]); strata counts
//! distinct BNF chemical substances of medicines (BNF chapters 1–15, not
//! dressings or appliances) prescribed in the 12 months ending on
//! the index date (docs/codelists.md).
//!
//! Categories (Clegg et al.): fit ≤ 0.12, mild ≤ 0.24, moderate ≤ 0.36,
//! severe > 0.36 — in deficits: fit 0–4, mild 5–8, moderate 9–12, severe 13+.
//! No k/36 falls on a boundary, so the float comparison is unambiguous.

use super::code::CodeSystem;
#[cfg(test)]
use super::load::Codelist;

#[cfg(test)]
const LIST_CSV: &str = include_str!("../../codelists/efi/efi_clegg2016_snomed.csv");

/// Number of eFI deficits, the denominator of the score.
pub const EFI_DEFICITS: u32 = 36;

/// The youngest age (in whole years on the index date) the eFI is reported
/// for: it was developed and validated in people aged 65 and over (Clegg et
/// al. 2016), and its categories mean nothing below that age, so strata's
/// `efi` and `efi_category` are null for younger people.
pub const EFI_MIN_AGE: i32 = 65;

/// Distinct medications at or above which the polypharmacy deficit is present.
pub const POLYPHARMACY_THRESHOLD: u32 = 5;

/// The 36 eFI deficits, alphabetical by the gm-sde key, polypharmacy last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum EfiDeficit {
    ActivityLimitation = 0,
    Anaemia,
    Arthritis,
    AtrialFibrillation,
    CareRequirement,
    CoronaryHeartDisease,
    ChronicKidneyDisease,
    CognitiveProblems,
    Diabetes,
    Dizziness,
    Dyspnoea,
    Falls,
    FootProblems,
    FragilityFracture,
    HearingLoss,
    HeartFailure,
    HeartValveDisease,
    Housebound,
    Hypertension,
    Hypotension,
    MobilityProblems,
    Osteoporosis,
    Parkinsonism,
    PepticUlcer,
    PeripheralVascularDisease,
    RespiratoryDisease,
    SkinUlcer,
    SleepDisturbance,
    SocialVulnerability,
    StrokeTia,
    ThyroidDisorders,
    UrinaryIncontinence,
    UrinarySystemDisease,
    VisionProblems,
    WeightLoss,
    Polypharmacy,
}

const KEYS: [&str; 36] = [
    "activity-limitation",
    "anaemia",
    "arthritis",
    "atrial-fibrillation",
    "care-requirement",
    "chd",
    "ckd",
    "cognitive-problems",
    "diabetes",
    "dizziness",
    "dyspnoea",
    "falls",
    "foot-problems",
    "fragility-fracture",
    "hearing-loss",
    "heart-failure",
    "heart-valve-disease",
    "housebound",
    "hypertension",
    "hypotension",
    "mobility-problems",
    "osteoporosis",
    "parkinsons",
    "peptic-ulcer",
    "pvd",
    "respiratory-disease",
    "skin-ulcer",
    "sleep-disturbance",
    "social-vulnerability",
    "stroke-tia",
    "thyroid-disorders",
    "urinary-incontinence",
    "urinary-system-disease",
    "vision-problems",
    "weight-loss",
    "polypharmacy",
];

const LABELS: [&str; 36] = [
    "activity limitation",
    "anaemia and haematinic deficiency",
    "arthritis",
    "atrial fibrillation",
    "requirement for care",
    "ischaemic heart disease",
    "chronic kidney disease",
    "memory and cognitive problems",
    "diabetes",
    "dizziness",
    "dyspnoea",
    "falls",
    "foot problems",
    "fragility fracture",
    "hearing impairment",
    "heart failure",
    "heart valve disease",
    "housebound",
    "hypertension",
    "hypotension or syncope",
    "mobility and transfer problems",
    "osteoporosis",
    "Parkinsonism and tremor",
    "peptic ulcer",
    "peripheral vascular disease",
    "respiratory disease",
    "skin ulcer",
    "sleep disturbance",
    "social vulnerability",
    "stroke or TIA",
    "thyroid disease",
    "urinary incontinence",
    "urinary system disease",
    "visual impairment",
    "weight loss and anorexia",
    "polypharmacy",
];

impl EfiDeficit {
    pub const ALL: [EfiDeficit; 36] = {
        use EfiDeficit::*;
        [
            ActivityLimitation,
            Anaemia,
            Arthritis,
            AtrialFibrillation,
            CareRequirement,
            CoronaryHeartDisease,
            ChronicKidneyDisease,
            CognitiveProblems,
            Diabetes,
            Dizziness,
            Dyspnoea,
            Falls,
            FootProblems,
            FragilityFracture,
            HearingLoss,
            HeartFailure,
            HeartValveDisease,
            Housebound,
            Hypertension,
            Hypotension,
            MobilityProblems,
            Osteoporosis,
            Parkinsonism,
            PepticUlcer,
            PeripheralVascularDisease,
            RespiratoryDisease,
            SkinUlcer,
            SleepDisturbance,
            SocialVulnerability,
            StrokeTia,
            ThyroidDisorders,
            UrinaryIncontinence,
            UrinarySystemDisease,
            VisionProblems,
            WeightLoss,
            Polypharmacy,
        ]
    };

    /// The gm-sde key used as the category in the code-list file.
    pub fn key(self) -> &'static str {
        KEYS[self as usize]
    }

    /// Plain-English name as in Clegg et al.'s table, for reasons and reports.
    pub fn label(self) -> &'static str {
        LABELS[self as usize]
    }

    pub fn bit(self) -> u64 {
        1 << (self as u8)
    }

    pub(super) fn from_key(key: &str) -> Option<Self> {
        KEYS.iter().position(|k| *k == key).map(|i| Self::ALL[i])
    }

    /// The deficits in a set, in order.
    pub fn in_set(set: u64) -> impl Iterator<Item = EfiDeficit> {
        Self::ALL.into_iter().filter(move |d| set & d.bit() != 0)
    }
}

/// eFI category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EfiCategory {
    /// Score ≤ 0.12 (0–4 deficits).
    Fit,
    /// 0.12 < score ≤ 0.24 (5–8 deficits).
    Mild,
    /// 0.24 < score ≤ 0.36 (9–12 deficits).
    Moderate,
    /// Score > 0.36 (13 or more deficits).
    Severe,
}

impl EfiCategory {
    pub fn label(self) -> &'static str {
        match self {
            EfiCategory::Fit => "fit",
            EfiCategory::Mild => "mild frailty",
            EfiCategory::Moderate => "moderate frailty",
            EfiCategory::Severe => "severe frailty",
        }
    }
}

/// The eFI deficits (as bits, see [`EfiDeficit::bit`]) that one SNOMED CT
/// concept id falls in; 0 for none. Never includes polypharmacy.
///
/// The built-in list, matched by the one mechanism every score list uses
/// ([`super::ScoreLists`]); a run reads its own (possibly replaced) lists.
pub fn efi_deficits(snomed: &str) -> u64 {
    super::ScoreLists::builtin().map_or(0, |lists| lists.efi(CodeSystem::Snomed, snomed))
}

/// Whether `distinct_medications` meets the polypharmacy deficit (≥ 5).
pub fn efi_polypharmacy(distinct_medications: u32) -> bool {
    distinct_medications >= POLYPHARMACY_THRESHOLD
}

/// The number of deficits present (0 … 36): the code-based deficits in
/// `deficits` plus polypharmacy.
pub fn efi_deficit_count(deficits: u64, polypharmacy: bool) -> u32 {
    let coded = deficits & !EfiDeficit::Polypharmacy.bit() & ((1u64 << 36) - 1);
    coded.count_ones() + u32::from(polypharmacy)
}

/// The eFI: deficits present / 36, in 0 … 1.
pub fn efi_score(deficits: u64, polypharmacy: bool) -> f64 {
    f64::from(efi_deficit_count(deficits, polypharmacy)) / f64::from(EFI_DEFICITS)
}

/// The category of a score: fit ≤ 0.12, mild ≤ 0.24, moderate ≤ 0.36, severe above.
pub fn efi_category(score: f64) -> EfiCategory {
    if score <= 0.12 {
        EfiCategory::Fit
    } else if score <= 0.24 {
        EfiCategory::Mild
    } else if score <= 0.36 {
        EfiCategory::Moderate
    } else {
        EfiCategory::Severe
    }
}

#[cfg(test)]
mod tests {
    use super::EfiDeficit::*;
    use super::*;

    /// A set of the first `n` code-based deficits.
    fn n_deficits(n: u32) -> u64 {
        EfiDeficit::ALL[..n as usize]
            .iter()
            .fold(0, |s, d| s | d.bit())
    }

    #[test]
    fn the_compiled_in_list_loads_completely() {
        // gm-sde list: 2089 SNOMED CT rows, all distinct (concept, deficit)
        // pairs, covering all 35 code-based deficits.
        let list = Codelist::parse(LIST_CSV, "efi", CodeSystem::Snomed).unwrap();
        assert_eq!(list.len(), 2089);
        assert_eq!(list.categories().len(), 35);
        for k in list.categories() {
            assert!(EfiDeficit::from_key(k).is_some(), "{k}");
        }
        let covered = list
            .entries()
            .iter()
            .fold(0, |s, e| s | efi_deficits(e.code.as_str()));
        assert_eq!(
            covered,
            n_deficits(35),
            "every code-based deficit has concepts"
        );
    }

    #[test]
    fn concepts_map_to_their_deficits() {
        assert_eq!(efi_deficits("161898004"), Falls.bit()); // falls
        assert_eq!(efi_deficits("84114007"), HeartFailure.bit()); // heart failure
        assert_eq!(efi_deficits("49436004"), AtrialFibrillation.bit());
        assert_eq!(efi_deficits("433144002"), ChronicKidneyDisease.bit()); // CKD stage 3
        // Diabetic retinopathy concepts are in both diabetes and vision problems.
        assert_eq!(
            efi_deficits("312912001"),
            Diabetes.bit() | VisionProblems.bit()
        );
        assert_eq!(
            efi_deficits("195662009"),
            0,
            "acute viral pharyngitis is no deficit"
        );
        assert_eq!(efi_deficits("not a code"), 0);
    }

    #[test]
    fn score_is_deficits_over_36() {
        assert_eq!(efi_score(0, false), 0.0);
        // 3 coded deficits + polypharmacy = 4/36.
        assert_eq!(efi_deficit_count(n_deficits(3), true), 4);
        assert_eq!(efi_score(n_deficits(3), true), 4.0 / 36.0);
        // Polypharmacy passed as a bit is not counted twice.
        assert_eq!(efi_deficit_count(Polypharmacy.bit(), true), 1);
        assert_eq!(efi_score(n_deficits(35), true), 1.0);
    }

    #[test]
    fn categories_at_each_boundary() {
        // 4/36 = 0.111 ≤ 0.12: fit.  5/36 = 0.139: mild.
        assert_eq!(
            efi_category(efi_score(n_deficits(4), false)),
            EfiCategory::Fit
        );
        assert_eq!(
            efi_category(efi_score(n_deficits(5), false)),
            EfiCategory::Mild
        );
        // 8/36 = 0.222 ≤ 0.24: mild.  9/36 = 0.25: moderate.
        assert_eq!(
            efi_category(efi_score(n_deficits(8), false)),
            EfiCategory::Mild
        );
        assert_eq!(
            efi_category(efi_score(n_deficits(9), false)),
            EfiCategory::Moderate
        );
        // 12/36 = 0.333 ≤ 0.36: moderate.  13/36 = 0.361: severe.
        assert_eq!(
            efi_category(efi_score(n_deficits(12), false)),
            EfiCategory::Moderate
        );
        assert_eq!(
            efi_category(efi_score(n_deficits(13), false)),
            EfiCategory::Severe
        );
        // The published cut-offs themselves.
        assert_eq!(efi_category(0.12), EfiCategory::Fit);
        assert_eq!(efi_category(0.24), EfiCategory::Mild);
        assert_eq!(efi_category(0.36), EfiCategory::Moderate);
        // Polypharmacy is a deficit like any other: 4 coded + polypharmacy = 5: mild.
        assert_eq!(
            efi_category(efi_score(n_deficits(4), true)),
            EfiCategory::Mild
        );
    }

    #[test]
    fn polypharmacy_starts_at_five_medications() {
        assert!(!efi_polypharmacy(4));
        assert!(efi_polypharmacy(5));
        assert!(efi_polypharmacy(12));
    }

    #[test]
    fn hand_worked_person() {
        // Falls (161898004), hearing loss (15188001), osteoporosis
        // (64859006: also fragility fracture in the list), heart failure
        // (84114007), and falls coded again: deficits = falls, hearing loss,
        // osteoporosis, fragility fracture, heart failure = 5; with 6
        // medications polypharmacy makes 6: 6/36 = 0.167, mild.
        let set = ["161898004", "15188001", "64859006", "84114007", "161898004"]
            .iter()
            .fold(0, |s, c| s | efi_deficits(c));
        assert_eq!(
            EfiDeficit::in_set(set).collect::<Vec<_>>(),
            [
                FragilityFracture,
                Falls,
                HearingLoss,
                HeartFailure,
                Osteoporosis
            ]
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
        );
        let score = efi_score(set, efi_polypharmacy(6));
        assert_eq!(score, 6.0 / 36.0);
        assert_eq!(efi_category(score), EfiCategory::Mild);
    }
}
