//! Scores over code lists: codes are matched once per *distinct* code (the
//! extract has thousands, not millions), the resulting category sets joined
//! back to people, and each person's set scored in Rust.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::*;
use rayon::prelude::*;

use super::epoch_days;
use super::spec::{Aggregate, FeatureDef, FeatureKind, Score, Window};
use crate::codelists::{
    CharlsonCategory, CharlsonWeights, CodeSystem, charlson_categories, charlson_score,
    efi_category, efi_deficits, efi_polypharmacy, efi_score, elixhauser_categories,
    elixhauser_score, hfrs_group, hfrs_score, ltc_categories, ltc_count,
};
use crate::error::Result;
use crate::ingest::{Batch, Collected, Extract, PID, Slot};

/// A category set as bits (wide enough for the 109 HFRS groups).
type Set = u128;

/// Which code list a score reads, and where its codes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Family {
    Charlson,
    Elixhauser,
    Hfrs,
    Ltc,
    Efi,
}

impl Family {
    fn of(score: Score) -> Family {
        match score {
            Score::Charlson1987 | Score::CharlsonQuan2011 | Score::MetastaticCancer => {
                Family::Charlson
            }
            Score::ElixhauserVanWalraven => Family::Elixhauser,
            Score::Hfrs => Family::Hfrs,
            Score::Ltc(_) | Score::LtcCount => Family::Ltc,
            Score::Efi | Score::EfiCategory => Family::Efi,
        }
    }

    /// (table, code system) pairs whose codes count.
    fn sources(self) -> &'static [(&'static str, CodeSystem)] {
        match self {
            Family::Charlson | Family::Elixhauser | Family::Hfrs => {
                &[("diagnoses", CodeSystem::Icd10)]
            }
            Family::Ltc => &[
                ("diagnoses", CodeSystem::Icd10),
                ("diagnoses", CodeSystem::Snomed),
            ],
            Family::Efi => &[
                ("diagnoses", CodeSystem::Snomed),
                ("observations", CodeSystem::Snomed),
            ],
        }
    }

    fn categories(self, system: CodeSystem, code: &str) -> Set {
        match self {
            Family::Charlson => Set::from(charlson_categories(code)),
            Family::Elixhauser => Set::from(elixhauser_categories(code)),
            Family::Hfrs => hfrs_group(code).map_or(0, |g| 1 << g),
            Family::Ltc => Set::from(ltc_categories(system, code)),
            Family::Efi => Set::from(efi_deficits(code)),
        }
    }
}

/// The passes the score features need, registered in a batch: one
/// (person, code) pass per coded table and, for the eFI, distinct medicines.
pub struct ScorePlan {
    index: NaiveDate,
    wanted: Vec<(String, Score, Window)>,
    coded: Vec<(&'static str, Slot)>,
    medicines: Medicines,
}

/// Where the eFI's polypharmacy count (distinct BNF chemical substances in
/// the 12 months ending on the index date) comes from.
enum Medicines {
    /// Not needed (no eFI feature) or no medications table.
    None,
    /// An events feature of the same definition (the built-in
    /// `medicines_12m`): read from the feature frame, no second aggregation.
    Feature(String),
    /// A pass of its own.
    Plan(Slot),
}

impl ScorePlan {
    /// Plans the score features of `defs`, or `None` if there are none.
    pub fn new(
        extract: &Extract,
        index: NaiveDate,
        defs: &[FeatureDef],
        batch: &mut Batch,
    ) -> Option<ScorePlan> {
        let wanted: Vec<(String, Score, Window)> = defs
            .iter()
            .filter_map(|d| match d.kind {
                FeatureKind::Score { score, window } => Some((d.name.clone(), score, window)),
                _ => None,
            })
            .collect();
        if wanted.is_empty() {
            return None;
        }
        let mut families: Vec<Family> = wanted.iter().map(|w| Family::of(w.1)).collect();
        families.sort_unstable();
        families.dedup();
        let coded = coded_rows(extract, index, &families)
            .into_iter()
            .map(|(table, plan)| (table, batch.add(table, plan)))
            .collect();
        let medicines =
            if !families.contains(&Family::Efi) || extract.table("medications").is_none() {
                Medicines::None
            } else if let Some(name) = same_as_polypharmacy(defs, index) {
                Medicines::Feature(name)
            } else {
                distinct_medicines_12m(extract, index).map_or(Medicines::None, |plan| {
                    Medicines::Plan(batch.add("medications", plan))
                })
            };
        Some(ScorePlan {
            index,
            wanted,
            coded,
            medicines,
        })
    }

    /// One column per score feature, aligned with the rows of `features`
    /// (the frame of the other features, which also holds a shared medicines
    /// count).
    pub fn finish(self, collected: &mut Collected, features: &DataFrame) -> Result<Vec<Column>> {
        let index = self.index;
        let pids: Vec<u32> = features.column(PID)?.u32()?.into_no_null_iter().collect();
        let people = pids.iter().max().map_or(0, |p| *p as usize + 1);
        let mut coded = CodedRows::new();
        for (table, slot) in self.coded {
            coded.insert(table, collected.take(slot)?);
        }
        let mut sets: BTreeMap<(Family, Window), Vec<Set>> = BTreeMap::new();
        for (_, score, window) in &self.wanted {
            let key = (Family::of(*score), *window);
            if let std::collections::btree_map::Entry::Vacant(slot) = sets.entry(key) {
                slot.insert(person_sets(&coded, index, key.0, key.1, people)?);
            }
        }
        let polypharmacy = match &self.medicines {
            Medicines::None => vec![0; people],
            Medicines::Feature(name) => {
                medicines_by_person(&features.select([PID, name.as_str()])?, name, people)?
            }
            Medicines::Plan(slot) => medicines_by_person(&collected.take(*slot)?, "n", people)?,
        };
        Ok(score_columns(&self.wanted, &sets, &polypharmacy, &pids))
    }
}

/// Scores each person's category sets into one column per wanted feature,
/// one row per person of `pids`. Sets and counts are dense, indexed by
/// [`PID`]: a lookup per person and feature, with no map and no join.
fn score_columns(
    wanted: &[(String, Score, Window)],
    sets: &BTreeMap<(Family, Window), Vec<Set>>,
    polypharmacy: &[u32],
    pids: &[u32],
) -> Vec<Column> {
    wanted
        .par_iter()
        .map(|(name, score, window)| {
            let (name, score) = (name.as_str(), *score);
            let by_person = &sets[&(Family::of(score), *window)];
            let set_of = |p: &u32| by_person[*p as usize];
            let many = |p: &u32| efi_polypharmacy(polypharmacy[*p as usize]);
            match score {
                Score::Charlson1987 => int_column(name, pids, |p| {
                    charlson_score(set_of(p) as u32, CharlsonWeights::Charlson1987) as i32
                }),
                Score::CharlsonQuan2011 => int_column(name, pids, |p| {
                    charlson_score(set_of(p) as u32, CharlsonWeights::Quan2011) as i32
                }),
                Score::ElixhauserVanWalraven => {
                    int_column(name, pids, |p| elixhauser_score(set_of(p) as u64))
                }
                Score::Hfrs => Column::new(
                    name.into(),
                    pids.iter()
                        .map(|p| hfrs_score(groups(set_of(p))))
                        .collect::<Vec<f64>>(),
                ),
                Score::Ltc(ltc) => Column::new(
                    name.into(),
                    pids.iter()
                        .map(|p| set_of(p) & Set::from(ltc.bit()) != 0)
                        .collect::<Vec<bool>>(),
                ),
                Score::MetastaticCancer => Column::new(
                    name.into(),
                    pids.iter()
                        .map(|p| {
                            set_of(p) & Set::from(CharlsonCategory::MetastaticSolidTumour.bit())
                                != 0
                        })
                        .collect::<Vec<bool>>(),
                ),
                Score::LtcCount => int_column(name, pids, |p| ltc_count(set_of(p) as u32) as i32),
                Score::Efi => Column::new(
                    name.into(),
                    pids.iter()
                        .map(|p| efi_score(set_of(p) as u64, many(p)))
                        .collect::<Vec<f64>>(),
                ),
                Score::EfiCategory => Column::new(
                    name.into(),
                    pids.iter()
                        .map(|p| efi_category(efi_score(set_of(p) as u64, many(p))).label())
                        .collect::<Vec<&str>>(),
                ),
            }
        })
        .collect()
}

fn int_column(name: &str, pids: &[u32], value: impl Fn(&u32) -> i32) -> Column {
    Column::new(name.into(), pids.iter().map(value).collect::<Vec<i32>>())
}

/// The HFRS group numbers in a set.
fn groups(set: Set) -> impl Iterator<Item = u16> {
    (0..128u16).filter(move |g| set & (1 << g) != 0)
}

/// Per coded table: one row per (person, code system, code) with `last`, the
/// latest date (epoch days) up to and including the index date. Read once per
/// table for every score, instead of once per score family and window.
type CodedRows = BTreeMap<&'static str, DataFrame>;

/// The plan of [`CodedRows`] for each coded table the families read.
fn coded_rows(
    extract: &Extract,
    index: NaiveDate,
    families: &[Family],
) -> Vec<(&'static str, LazyFrame)> {
    let mut tables: Vec<&'static str> = families
        .iter()
        .flat_map(|f| f.sources().iter().map(|(t, _)| *t))
        .collect();
    tables.sort_unstable();
    tables.dedup();
    let mut out = Vec::new();
    for table in tables {
        let Some(rows) = extract.table(table) else {
            continue;
        };
        let date = col("date").cast(DataType::Int32);
        let plan = rows
            .clone()
            .filter(date.clone().lt_eq(lit(epoch_days(index))))
            .group_by([col(PID), col("code_system"), col("code")])
            .agg([date.max().alias("last")]);
        out.push((table, plan));
    }
    out
}

/// Each person's category set from the family's code sources within
/// `window`, indexed by [`PID`] (`people` entries; empty sets for people with no codes).
fn person_sets(
    coded: &CodedRows,
    index: NaiveDate,
    family: Family,
    window: Window,
    people: usize,
) -> Result<Vec<Set>> {
    let mut by_person: Vec<Set> = vec![0; people];
    let (lo, _) = window.bounds(index);
    for (table, system) in family.sources() {
        let Some(rows) = coded.get(table) else {
            continue;
        };
        // Score windows end on the index date (checked when features are parsed), so a
        // person has a code in the window exactly when its latest date is on or after the start.
        let mut keep = col("code_system").eq(lit(system.name()));
        if let Some(lo) = lo {
            keep = keep.and(col("last").gt_eq(lit(epoch_days(lo))));
        }
        let person_codes = rows
            .clone()
            .lazy()
            .filter(keep)
            .select([col(PID), col("code")])
            .collect()?;
        let codes = person_codes.column("code")?.unique()?;
        let (matched, sets): (Vec<String>, Vec<[u64; 2]>) = codes
            .str()?
            .iter()
            .flatten()
            .filter_map(|c| {
                let set = family.categories(*system, c);
                (set != 0).then(|| (c.to_string(), [set as u64, (set >> 64) as u64]))
            })
            .unzip();
        if matched.is_empty() {
            continue;
        }
        let (low, high): (Vec<u64>, Vec<u64>) = sets.into_iter().map(|[l, h]| (l, h)).unzip();
        let code_sets = DataFrame::new(
            matched.len(),
            vec![
                Column::new("code".into(), matched),
                Column::new("low".into(), low),
                Column::new("high".into(), high),
            ],
        )?;
        let person_sets = person_codes
            .lazy()
            .join(
                code_sets.lazy(),
                [col("code")],
                [col("code")],
                JoinArgs::new(JoinType::Inner),
            )
            .select([col(PID), col("low"), col("high")])
            .collect()?;
        let pids = person_sets.column(PID)?.u32()?.clone();
        let lows = person_sets.column("low")?.u64()?.clone();
        let highs = person_sets.column("high")?.u64()?.clone();
        for ((pid, low), high) in pids.iter().zip(lows.iter()).zip(highs.iter()) {
            if let (Some(pid), Some(low), Some(high)) = (pid, low, high)
                && let Some(set) = by_person.get_mut(pid as usize)
            {
                *set |= Set::from(low) | (Set::from(high) << 64);
            }
        }
    }
    Ok(by_person)
}

/// Distinct BNF chemical substances per person in the 365 days ending on
/// `index` (eFI polypharmacy): the plan, if the extract has medications.
fn distinct_medicines_12m(extract: &Extract, index: NaiveDate) -> Option<LazyFrame> {
    let rows = extract.table("medications")?;
    let date = col("date").cast(DataType::Int32);
    Some(
        rows.clone()
            .filter(
                date.clone()
                    .gt_eq(lit(epoch_days(super::window_start(index))))
                    .and(date.lt_eq(lit(epoch_days(index)))),
            )
            .group_by([col(PID)])
            .agg([col("bnf_code")
                .str()
                .slice(lit(0), lit(9u64))
                .n_unique()
                .cast(DataType::UInt32)
                .alias("n")]),
    )
}

/// Per-person counts (column `n` of `counts`) indexed by [`PID`]
/// (`people` entries; 0 for people without a row).
fn medicines_by_person(counts: &DataFrame, n: &str, people: usize) -> Result<Vec<u32>> {
    let mut out = vec![0; people];
    let values = counts.column(n)?.cast(&DataType::UInt32)?;
    for (pid, n) in counts.column(PID)?.u32()?.iter().zip(values.u32()?.iter()) {
        if let (Some(pid), Some(n)) = (pid, n)
            && let Some(slot) = out.get_mut(pid as usize)
        {
            *slot = n;
        }
    }
    Ok(out)
}

/// An events feature that counts exactly what [`distinct_medicines_12m`]
/// counts: all medications, distinct `bnf_code[..9]`, the 365 days ending on
/// the index date.
fn same_as_polypharmacy(defs: &[FeatureDef], index: NaiveDate) -> Option<String> {
    defs.iter().find_map(|d| match &d.kind {
        FeatureKind::Events {
            table: "medications",
            filters,
            codes: None,
            window,
            aggregate:
                Aggregate::CountDistinct {
                    column,
                    prefix: Some(9),
                },
        } if filters.is_empty()
            && column == "bnf_code"
            && window.bounds(index) == (Some(super::window_start(index)), index) =>
        {
            Some(d.name.clone())
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::spec::{builtin, parse_features};

    fn medications_feature(window: &str, prefix: u32) -> Vec<FeatureDef> {
        let text = format!(
            "[[feature]]\nname = \"m\"\nkind = \"events\"\ngroup = \"Medicines\"\n\
             table = \"medications\"\nwindow = \"{window}\"\naggregate = \"count_distinct\"\n\
             of = \"bnf_code\"\nprefix = {prefix}\ndescription = \"test\"\n"
        );
        parse_features(&text, "test", std::path::Path::new("."), &[]).expect("valid feature")
    }

    #[test]
    fn the_built_in_medicines_count_is_the_efi_polypharmacy_count() {
        let index = NaiveDate::from_ymd_opt(2025, 3, 31).expect("date");
        let defs = builtin().expect("catalogue");
        assert_eq!(
            same_as_polypharmacy(&defs, index).as_deref(),
            Some("medicines_12m")
        );
        // The same count over 12 months: shared.
        let same = medications_feature("-365d..0d", 9);
        assert_eq!(same_as_polypharmacy(&same, index).as_deref(), Some("m"));
        // Another window or another prefix: not the same count.
        for other in [
            medications_feature("-730d..0d", 9),
            medications_feature("-365d..-1d", 9),
            medications_feature("-365d..0d", 7),
        ] {
            assert_eq!(same_as_polypharmacy(&other, index), None);
        }
    }
}
