//! The Hospital Frailty Risk Score (Gilbert et al., Lancet 2018;391:1775–82):
//! 109 ICD-10 three-character groups, each with a weight; a person's score
//! is the sum of the weights of the groups present in their hospital
//! diagnoses over the two years before the index date, **each group counted
//! once** however often or in whatever position it is coded. List:
//! `codelists/icd10/hfrs_gilbert2018.csv` (from pycomorb's HFRS.csv, kept beside it).
//!
//! Bands (Gilbert et al.): low risk below 5, intermediate risk 5–15, high
//! risk above 15. The boundaries are inclusive in the middle band: exactly 5.0 and
//! exactly 15.0 are intermediate. Weights have one decimal, so scores are
//! summed in integer tenths to make the boundaries exact (0.1 + 0.2 in
//! floating point is not 0.3).
//!
//! The lookback is the features stage's business; this module scores a set.

use std::sync::OnceLock;

use super::code::{CodeSystem, Icd10Key};
use super::load::Codelist;

const LIST_CSV: &str = include_str!("../../codelists/icd10/hfrs_gilbert2018.csv");

/// Number of HFRS groups.
pub const HFRS_GROUPS: usize = 109;

/// HFRS risk band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HfrsBand {
    /// Score < 5.
    Low,
    /// 5 ≤ score ≤ 15.
    Intermediate,
    /// Score > 15.
    High,
}

impl HfrsBand {
    pub fn label(self) -> &'static str {
        match self {
            HfrsBand::Low => "low",
            HfrsBand::Intermediate => "intermediate",
            HfrsBand::High => "high",
        }
    }
}

struct Group {
    code: String,
    description: String,
    tenths: u32,
}

fn groups() -> &'static [Group] {
    static GROUPS: OnceLock<Vec<Group>> = OnceLock::new();
    GROUPS.get_or_init(|| parse_groups(LIST_CSV))
}

/// Parses the compiled-in list; a defect is caught by the count test, and
/// at run time gives an empty table, never a panic.
fn parse_groups(csv: &str) -> Vec<Group> {
    let Ok(list) = Codelist::parse(csv, "built-in:hfrs_gilbert2018.csv", CodeSystem::Icd10) else {
        return Vec::new();
    };
    list.entries()
        .iter()
        .map(|e| Group {
            code: e.code.clone(),
            description: e.description.clone(),
            tenths: (e.weight.unwrap_or(0.0) * 10.0).round() as u32,
        })
        .collect()
}

/// The HFRS group (0 … 108, in the order of the published table) that one
/// ICD-10 code falls in, or `None`. The groups are distinct three-character
/// categories, so a code is in at most one.
pub fn hfrs_group(code: &str) -> Option<u16> {
    let key = Icd10Key::new(code)?;
    let key = key.as_str();
    groups()
        .iter()
        .position(|g| key.starts_with(g.code.as_str()))
        .map(|i| i as u16)
}

/// The group whose three-character ICD-10 category is exactly `key`
/// (`F00`), for the category keys of a replacement list.
pub(super) fn group_of_key(key: &str) -> Option<u16> {
    groups()
        .iter()
        .position(|g| g.code == key)
        .map(|i| i as u16)
}

/// The weight of a group (e.g. 7.1 for F00), 0 for an unknown group.
pub fn hfrs_weight(group: u16) -> f64 {
    groups()
        .get(group as usize)
        .map_or(0.0, |g| f64::from(g.tenths) / 10.0)
}

/// The three-character ICD-10 category and description of a group.
pub fn hfrs_group_name(group: u16) -> Option<(&'static str, &'static str)> {
    groups()
        .get(group as usize)
        .map(|g| (g.code.as_str(), g.description.as_str()))
}

/// The HFRS of one person's groups: each distinct group's weight once.
/// Duplicates and unknown group numbers are ignored.
pub fn hfrs_score(groups: impl IntoIterator<Item = u16>) -> f64 {
    f64::from(hfrs_score_tenths(groups)) / 10.0
}

/// [`hfrs_score`] in integer tenths of a point (exact).
pub fn hfrs_score_tenths(groups: impl IntoIterator<Item = u16>) -> u32 {
    let table = self::groups();
    let mut seen = 0u128;
    let mut total = 0;
    for g in groups {
        let Some(group) = table.get(g as usize) else {
            continue;
        };
        if seen & (1u128 << g) == 0 {
            seen |= 1u128 << g;
            total += group.tenths;
        }
    }
    total
}

/// The band of a score: low < 5, intermediate 5–15 (both inclusive), high > 15.
/// The score is rounded to tenths first, so sums of published weights band exactly.
pub fn hfrs_band(score: f64) -> HfrsBand {
    let tenths = (score * 10.0).round();
    if tenths < 50.0 {
        HfrsBand::Low
    } else if tenths <= 150.0 {
        HfrsBand::Intermediate
    } else {
        HfrsBand::High
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score_of(codes: &[&str]) -> f64 {
        hfrs_score(codes.iter().filter_map(|c| hfrs_group(c)))
    }

    #[test]
    fn the_compiled_in_list_has_109_distinct_groups() {
        assert_eq!(groups().len(), HFRS_GROUPS);
        let mut codes: Vec<&str> = groups().iter().map(|g| g.code.as_str()).collect();
        assert!(codes.iter().all(|c| c.len() == 3), "three-character groups");
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), HFRS_GROUPS, "no group listed twice");
    }

    #[test]
    fn the_converted_list_agrees_with_the_published_table() {
        let published = include_str!("../../codelists/icd10/HFRS.csv");
        for (i, line) in published.lines().skip(1).enumerate() {
            let f = super::super::load::split_csv(line).unwrap();
            let (code, weight): (&str, f64) = (&f[2], f[3].parse().unwrap());
            assert_eq!(hfrs_group_name(i as u16).map(|g| g.0), Some(code));
            assert_eq!(hfrs_weight(i as u16), weight, "{code}");
        }
    }

    #[test]
    fn codes_fall_in_their_three_character_group() {
        let f00 = hfrs_group("F00.1").unwrap();
        assert_eq!(
            hfrs_group_name(f00),
            Some(("F00", "Dementia in Alzheimer's disease"))
        );
        assert_eq!(hfrs_weight(f00), 7.1);
        assert_eq!(
            hfrs_group("R296").and_then(hfrs_group_name).map(|g| g.0),
            Some("R29")
        );
        assert_eq!(
            hfrs_group("W19X").and_then(hfrs_group_name).map(|g| g.0),
            Some("W19")
        );
        assert_eq!(hfrs_group("I21.9"), None, "MI is not an HFRS group");
        assert_eq!(hfrs_group("F0"), None, "shorter than a group");
        assert_eq!(hfrs_group(""), None);
    }

    #[test]
    fn hand_worked_score_counts_each_group_once() {
        // F00.1 Alzheimer dementia (F00, 7.1) + F00.0 (same group, not again)
        // + R29.6 tendency to fall (R29, 3.6) + W19 unspecified fall (3.2)
        // + N39.0 UTI (N39, 3.2) + N39.4 (same group) + E86 volume depletion (2.3)
        // + I21.9 MI (not HFRS, 0) = 7.1 + 3.6 + 3.2 + 3.2 + 2.3 = 19.4: high.
        let s = score_of(&[
            "F001", "F000", "R296", "W19X", "N390", "N394", "E86X", "I219",
        ]);
        assert_eq!(s, 19.4);
        assert_eq!(hfrs_band(s), HfrsBand::High);
    }

    #[test]
    fn band_boundaries_are_low_below_5_intermediate_5_to_15_high_above_15() {
        assert_eq!(hfrs_band(0.0), HfrsBand::Low);
        assert_eq!(hfrs_band(4.9), HfrsBand::Low);
        assert_eq!(hfrs_band(5.0), HfrsBand::Intermediate);
        assert_eq!(hfrs_band(15.0), HfrsBand::Intermediate);
        assert_eq!(hfrs_band(15.1), HfrsBand::High);
    }

    #[test]
    fn hand_worked_scores_at_the_band_edges() {
        // 4.9: W19 fall 3.2 + R69 unknown morbidity 1.3 + K52 gastroenteritis 0.3
        // + R50 fever 0.1 = 4.9: low.
        let s = score_of(&["W19X", "R69X", "K529", "R509"]);
        assert_eq!(s, 4.9);
        assert_eq!(hfrs_band(s), HfrsBand::Low);
        // 5.0: S00 superficial head injury 3.2 + Z87 personal history 1.5
        // + K52 0.3 = 5.0 exactly: intermediate (summed in tenths: 32 + 15 + 3 = 50).
        let codes = ["S009", "Z870", "K529"];
        assert_eq!(
            hfrs_score_tenths(codes.iter().filter_map(|c| hfrs_group(c))),
            50
        );
        assert_eq!(hfrs_band(score_of(&codes)), HfrsBand::Intermediate);
        // 15.0: F00 7.1 + I69 3.7 + R29 3.6 + K52 0.3 + R11 nausea 0.3 = 15.0: intermediate.
        let fifteen = ["F001", "I698", "R296", "K529", "R11X"];
        assert_eq!(score_of(&fifteen), 15.0);
        assert_eq!(hfrs_band(score_of(&fifteen)), HfrsBand::Intermediate);
        // + R50 0.1 = 15.1: high.
        let more = ["F001", "I698", "R296", "K529", "R11X", "R509"];
        assert_eq!(score_of(&more), 15.1);
        assert_eq!(hfrs_band(score_of(&more)), HfrsBand::High);
    }
}
