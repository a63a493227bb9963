//! Scores over code lists: codes are matched once per *distinct* code (the
//! extract has thousands, not millions), the resulting category sets joined
//! back to people, and each person's set scored in Rust.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::*;

use super::epoch_days;
use super::spec::{FeatureDef, FeatureKind, Score, Window};
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
    medicines: Option<Slot>,
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
        let medicines = if families.contains(&Family::Efi) {
            distinct_medicines_12m(extract, index).map(|plan| batch.add("medications", plan))
        } else {
            None
        };
        Some(ScorePlan {
            index,
            wanted,
            coded,
            medicines,
        })
    }

    /// A frame of [`PID`] plus one column per score feature.
    pub fn finish(self, collected: &mut Collected) -> Result<DataFrame> {
        let index = self.index;
        let mut coded = CodedRows::new();
        for (table, slot) in self.coded {
            coded.insert(table, collected.take(slot)?);
        }
        let mut sets: BTreeMap<(Family, Window), BTreeMap<u32, Set>> = BTreeMap::new();
        for (_, score, window) in &self.wanted {
            let key = (Family::of(*score), *window);
            if let std::collections::btree_map::Entry::Vacant(slot) = sets.entry(key) {
                slot.insert(person_sets(&coded, index, key.0, key.1)?);
            }
        }
        let polypharmacy = match self.medicines {
            Some(slot) => medicines_by_person(&collected.take(slot)?)?,
            None => BTreeMap::new(),
        };
        score_columns(&self.wanted, &sets, &polypharmacy)
    }
}

/// Scores each person's category sets into one column per wanted feature.
fn score_columns(
    wanted: &[(String, Score, Window)],
    sets: &BTreeMap<(Family, Window), BTreeMap<u32, Set>>,
    polypharmacy: &BTreeMap<u32, u32>,
) -> Result<DataFrame> {
    let mut pids: Vec<u32> = sets
        .values()
        .flat_map(|s| s.keys().copied())
        .chain(polypharmacy.keys().copied())
        .collect();
    pids.sort_unstable();
    pids.dedup();
    let mut columns = vec![Column::new(PID.into(), &pids)];
    for (name, score, window) in wanted {
        let (name, score, window) = (name.as_str(), *score, *window);
        let by_person = &sets[&(Family::of(score), window)];
        let set_of = |p: &u32| by_person.get(p).copied().unwrap_or(0);
        let many = |p: &u32| polypharmacy.get(p).is_some_and(|n| efi_polypharmacy(*n));
        let column = match score {
            Score::Charlson1987 => int_column(name, &pids, |p| {
                charlson_score(set_of(p) as u32, CharlsonWeights::Charlson1987) as i32
            }),
            Score::CharlsonQuan2011 => int_column(name, &pids, |p| {
                charlson_score(set_of(p) as u32, CharlsonWeights::Quan2011) as i32
            }),
            Score::ElixhauserVanWalraven => {
                int_column(name, &pids, |p| elixhauser_score(set_of(p) as u64))
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
                        set_of(p) & Set::from(CharlsonCategory::MetastaticSolidTumour.bit()) != 0
                    })
                    .collect::<Vec<bool>>(),
            ),
            Score::LtcCount => int_column(name, &pids, |p| ltc_count(set_of(p) as u32) as i32),
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
        };
        columns.push(column);
    }
    Ok(DataFrame::new(pids.len(), columns)?)
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

/// Each person's category set from the family's code sources within `window`.
fn person_sets(
    coded: &CodedRows,
    index: NaiveDate,
    family: Family,
    window: Window,
) -> Result<BTreeMap<u32, Set>> {
    let mut by_person: BTreeMap<u32, Set> = BTreeMap::new();
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
            if let (Some(pid), Some(low), Some(high)) = (pid, low, high) {
                *by_person.entry(pid).or_insert(0) |= Set::from(low) | (Set::from(high) << 64);
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

/// The collected [`distinct_medicines_12m`] as person → count.
fn medicines_by_person(counts: &DataFrame) -> Result<BTreeMap<u32, u32>> {
    let mut out = BTreeMap::new();
    for (pid, n) in counts
        .column(PID)?
        .u32()?
        .iter()
        .zip(counts.column("n")?.u32()?.iter())
    {
        if let (Some(pid), Some(n)) = (pid, n) {
            out.insert(pid, n);
        }
    }
    Ok(out)
}
