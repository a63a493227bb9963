//! Scores over code lists: codes are matched once per *distinct* code (the
//! extract has thousands, not millions), the resulting category sets OR-ed
//! into each person's set ([`PersonSets`]), and each person's set scored in
//! Rust.
//!
//! [`PersonSets`] is a per-person fold of its own, beside
//! [`super::tally::Tally`], on purpose: its per-row work is a look-up in a
//! memo of each distinct code's category sets, one mutable map that a fold
//! on every worker thread would have to lock per batch (or copy per thread,
//! matching each code once per thread), while the tally's per-row work is
//! arithmetic on columns Polars has already computed. docs/architecture.md
//! ("Two per-person folds") says when to move it onto the sharded fold.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use polars::prelude::*;
use rayon::prelude::*;

use super::Result;
use super::coverage::SourceCount;
use super::epoch_days;
use super::spec::{Aggregate, FeatureDef, FeatureKind, Filter, Score, Window};
use crate::codelists::{
    CharlsonCategory, CharlsonWeights, CodeSystem, EFI_MIN_AGE, ScoreLists, charlson_score,
    efi_category, efi_polypharmacy, efi_score, elixhauser_score, hfrs_score, ltc_count,
};
use crate::ingest::{Batch, Collected, Extract, PID, Slot};

/// A category set as bits (wide enough for the 109 HFRS groups).
type Set = u128;

/// Each person's set, per (family, window).
type SetsByTarget = BTreeMap<(Family, Window), Vec<Set>>;

/// Which code list a score reads, and where its codes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Family {
    Charlson,
    Elixhauser,
    Hfrs,
    Ltc,
    Efi,
}

impl Family {
    pub(super) fn of(score: Score) -> Family {
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

    /// The family's name in coverage reports.
    pub(super) fn name(self) -> &'static str {
        match self {
            Family::Charlson => "Charlson",
            Family::Elixhauser => "Elixhauser",
            Family::Hfrs => "HFRS",
            Family::Ltc => "long-term conditions",
            Family::Efi => "eFI",
        }
    }

    /// (table, code system) pairs whose codes count: Charlson and
    /// Elixhauser from hospital ICD-10 and primary-care SNOMED CT diagnoses
    /// (the union of categories), HFRS from ICD-10 only.
    pub(super) fn sources(self) -> &'static [(&'static str, CodeSystem)] {
        match self {
            Family::Charlson | Family::Elixhauser | Family::Ltc => &[
                ("diagnoses", CodeSystem::Icd10),
                ("diagnoses", CodeSystem::Snomed),
            ],
            Family::Hfrs => &[("diagnoses", CodeSystem::Icd10)],
            Family::Efi => &[
                ("diagnoses", CodeSystem::Snomed),
                ("observations", CodeSystem::Snomed),
            ],
        }
    }

    fn categories(self, lists: &ScoreLists, system: CodeSystem, code: &str) -> Set {
        match self {
            Family::Charlson => Set::from(lists.charlson(system, code)),
            Family::Elixhauser => Set::from(lists.elixhauser(system, code)),
            Family::Hfrs => lists.hfrs(system, code),
            Family::Ltc => Set::from(lists.ltc(system, code)),
            Family::Efi => Set::from(lists.efi(system, code)),
        }
    }
}

/// The passes the score features need, registered in a batch: one
/// (person, code) pass per coded table and, for the eFI, distinct medicines.
pub struct ScorePlan {
    wanted: Vec<(String, Score, Window)>,
    /// Each person's category sets, filled while the coded tables stream past.
    sets: Arc<Mutex<PersonSets>>,
    /// The coded tables' passes (their results are empty: the work is in `sets`).
    coded: Vec<Slot>,
    medicines: Medicines,
    /// By [`PID`]: whether the person is at least [`EFI_MIN_AGE`] on the
    /// index date (the eFI is null below); empty when no eFI is wanted.
    efi_age: Vec<bool>,
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
        lists: Arc<ScoreLists>,
        batch: &mut Batch,
    ) -> Result<Option<ScorePlan>> {
        let wanted: Vec<(String, Score, Window)> = defs
            .iter()
            .filter_map(|d| match d.kind {
                FeatureKind::Score { score, window } => Some((d.name.clone(), score, window)),
                _ => None,
            })
            .collect();
        if wanted.is_empty() {
            return Ok(None);
        }
        let mut targets: Vec<(Family, Window)> =
            wanted.iter().map(|w| (Family::of(w.1), w.2)).collect();
        targets.sort_unstable();
        targets.dedup();
        let sets = PersonSets::new(targets, index, extract.patients.height(), lists);
        let needs_medicines = sets.families.contains(&Family::Efi);
        let tables = sets.tables();
        let sets = Arc::new(Mutex::new(sets));
        let coded = coded_passes(extract, index, &tables, &sets)?
            .into_iter()
            .map(|(table, plan)| batch.add(table, plan))
            .collect();
        let medicines = if !needs_medicines || extract.table("medications").is_none() {
            Medicines::None
        } else if let Some(name) = same_as_polypharmacy(defs, index) {
            Medicines::Feature(name)
        } else {
            distinct_medicines_12m(extract, index).map_or(Medicines::None, |plan| {
                Medicines::Plan(batch.add("medications", plan))
            })
        };
        let efi_age = if needs_medicines {
            old_enough_for_efi(extract, index)?
        } else {
            Vec::new()
        };
        Ok(Some(ScorePlan {
            wanted,
            sets,
            coded,
            medicines,
            efi_age,
        }))
    }

    /// One column per score feature, aligned with the rows of `features`
    /// (the frame of the other features, which also holds a shared medicines
    /// count), and the rows and people of each (table, code system) the
    /// scores read, counted in the same pass.
    pub fn finish(
        self,
        collected: &mut Collected,
        features: &DataFrame,
    ) -> Result<(Vec<Column>, Vec<SourceCount>)> {
        let pids: Vec<u32> = features.column(PID)?.u32()?.into_no_null_iter().collect();
        let people = pids.iter().max().map_or(0, |p| *p as usize + 1);
        for slot in self.coded {
            collected.take(slot)?;
        }
        let (sets, sources) = std::mem::take(&mut *lock(&self.sets)?).into_map();
        let sources: Vec<SourceCount> = sources.into_iter().map(|s| s.restrict(&pids)).collect();
        // HFRS is defined on ICD-10 only: with no ICD-10 diagnosis at all it
        // is not computable (null), not 0.
        let icd10 = sources
            .iter()
            .any(|s| s.table == "diagnoses" && s.system == CodeSystem::Icd10 && s.rows > 0);
        let polypharmacy = match &self.medicines {
            Medicines::None => vec![0; people],
            Medicines::Feature(name) => {
                medicines_by_person(&features.select([PID, name.as_str()])?, name, people)?
            }
            Medicines::Plan(slot) => medicines_by_person(&collected.take(*slot)?, "n", people)?,
        };
        Ok((
            score_columns(
                &self.wanted,
                &sets,
                &polypharmacy,
                &self.efi_age,
                &pids,
                icd10,
            ),
            sources,
        ))
    }
}

/// By [`PID`], whether each person of the extract is at least
/// [`EFI_MIN_AGE`] on `index` (a missing date of birth: not).
fn old_enough_for_efi(extract: &Extract, index: NaiveDate) -> Result<Vec<bool>> {
    let people = &extract.patients;
    let pids = people.column(PID)?.u32()?;
    let births = people.column("date_of_birth")?.cast(&DataType::Int32)?;
    let mut out = vec![false; pids.max().map_or(0, |p| p as usize + 1)];
    for (pid, birth) in pids.iter().zip(births.i32()?.iter()) {
        if let (Some(pid), Some(birth)) =
            (pid, birth.and_then(crate::contract::date_from_epoch_days))
            && let Some(slot) = out.get_mut(pid as usize)
        {
            *slot = super::age_on(birth, index) >= EFI_MIN_AGE;
        }
    }
    Ok(out)
}

/// Scores each person's category sets into one column per wanted feature,
/// one row per person of `pids`. Sets and counts are dense, indexed by
/// [`PID`]: a lookup per person and feature, with no map and no join.
fn score_columns(
    wanted: &[(String, Score, Window)],
    sets: &BTreeMap<(Family, Window), Vec<Set>>,
    polypharmacy: &[u32],
    efi_age: &[bool],
    pids: &[u32],
    icd10: bool,
) -> Vec<Column> {
    wanted
        .par_iter()
        .map(|(name, score, window)| {
            let (name, score) = (name.as_str(), *score);
            let by_person = &sets[&(Family::of(score), *window)];
            let set_of = |p: &u32| by_person[*p as usize];
            let many = |p: &u32| efi_polypharmacy(polypharmacy[*p as usize]);
            // The eFI of a person aged 65 or over; null below.
            let efi = |p: &u32| {
                efi_age
                    .get(*p as usize)
                    .copied()
                    .unwrap_or(false)
                    .then(|| efi_score(set_of(p) as u64, many(p)))
            };
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
                Score::Hfrs if !icd10 => {
                    Column::full_null(name.into(), pids.len(), &DataType::Float64)
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
                    pids.iter().map(efi).collect::<Vec<Option<f64>>>(),
                ),
                Score::EfiCategory => Column::new(
                    name.into(),
                    pids.iter()
                        .map(|p| efi(p).map(|e| efi_category(e).label()))
                        .collect::<Vec<Option<&str>>>(),
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

/// The passes that stream each of the coded `tables` into [`PersonSets`]:
/// rows up to the index date, as person, code system, code and day.
fn coded_passes(
    extract: &Extract,
    index: NaiveDate,
    tables: &[&'static str],
    sets: &Arc<Mutex<PersonSets>>,
) -> Result<Vec<(&'static str, LazyFrame)>> {
    let mut out = Vec::new();
    for &table in tables {
        let Some(rows) = extract.table(table) else {
            continue;
        };
        let sets = Arc::clone(sets);
        let date = col("date").cast(DataType::Int32);
        let pass = rows
            .clone()
            .filter(date.clone().lt_eq(lit(epoch_days(index))))
            .select([col(PID), col("code_system"), col("code"), date.alias(DAY)])
            .sink_batches(
                PlanCallback::new(move |rows: DataFrame| {
                    lock(&sets)?.add(table, &rows)?;
                    Ok(false)
                }),
                false,
                None,
            )?;
        out.push((table, pass));
    }
    Ok(out)
}

/// Column of a coded pass holding the row's date as epoch days.
const DAY: &str = "__day";

fn lock(sets: &Mutex<PersonSets>) -> PolarsResult<std::sync::MutexGuard<'_, PersonSets>> {
    sets.lock()
        .map_err(|_| polars_err!(ComputeError: "a code-list pass panicked"))
}

/// Each person's category set for every (family, window) a score reads:
/// dense vectors indexed by [`PID`], OR-ed row by row as the coded tables
/// stream past (the streaming engine hands batches over one at a time). A
/// union does not depend on the order rows arrive in, and memory is one set
/// per person and target however many codes each person has. It replaced a
/// (person, code system, code) group-by, which held one row per distinct code
/// per person: 12% of `strata features` CPU at 1M people, and the peak of the
/// 10M run (docs/performance.md). It is filled by `sink_batches`, on one
/// thread (see the module docs for why it is not a [`super::tally::Tally`]).
#[derive(Default)]
struct PersonSets {
    targets: Vec<Target>,
    /// The run's score code lists.
    lists: Option<Arc<ScoreLists>>,
    /// Rows and people per (table, code system) read, for coverage.
    sources: Vec<SourceCount>,
    /// The score families read, in the order of each cached entry's sets.
    families: Vec<Family>,
    /// Each (code system, code) seen, with its category set in every family,
    /// worked out once.
    cache: PlHashMap<CodeSystem, PlHashMap<Box<str>, Box<[Set]>>>,
}

/// One (family, window): where its codes come from and each person's set.
struct Target {
    family: Family,
    window: Window,
    /// Position of `family` in [`PersonSets::families`].
    slot: usize,
    /// The window's first day (epoch days); `None` for all history.
    from: Option<i32>,
    by_person: Vec<Set>,
}

impl PersonSets {
    fn new(
        targets: Vec<(Family, Window)>,
        index: NaiveDate,
        people: usize,
        lists: Arc<ScoreLists>,
    ) -> PersonSets {
        let mut families: Vec<Family> = targets.iter().map(|t| t.0).collect();
        families.dedup();
        let targets: Vec<Target> = targets
            .into_iter()
            .map(|(family, window)| Target {
                family,
                window,
                slot: families.iter().position(|f| *f == family).unwrap_or(0),
                from: window.bounds(index).0.map(epoch_days),
                by_person: vec![0; people],
            })
            .collect();
        let mut sources: Vec<SourceCount> = Vec::new();
        for target in targets.iter() {
            let target: &Target = target;
            for &(table, system) in target.family.sources() {
                if !sources
                    .iter()
                    .any(|s| s.table == table && s.system == system)
                {
                    sources.push(SourceCount::new(table, system, people));
                }
            }
        }
        PersonSets {
            targets,
            lists: Some(lists),
            sources,
            families,
            cache: PlHashMap::default(),
        }
    }

    /// Adds a batch of `table`'s rows (up to the index date) to every target
    /// that reads the row's code system from `table` and whose window holds the row.
    fn add(&mut self, table: &str, rows: &DataFrame) -> PolarsResult<()> {
        let pids = rows.column(PID)?.u32()?;
        let systems = rows.column("code_system")?.str()?;
        let codes = rows.column("code")?.str()?;
        let days = rows.column(DAY)?.i32()?;
        // Which targets each code system of this table feeds.
        let readers: Vec<(CodeSystem, Vec<usize>)> = self.readers(table);
        // The coverage count of each reader's (table, code system).
        let counted: Vec<Option<usize>> = readers
            .iter()
            .map(|(system, _)| {
                self.sources
                    .iter()
                    .position(|s| s.table == table && s.system == *system)
            })
            .collect();
        let PersonSets {
            targets,
            lists,
            sources,
            families,
            cache,
        } = self;
        let Some(lists) = lists.as_deref() else {
            return Ok(());
        };
        for (((pid, system), code), day) in pids
            .iter()
            .zip(systems.iter())
            .zip(codes.iter())
            .zip(days.iter())
        {
            let (Some(pid), Some(system), Some(code), Some(day)) = (pid, system, code, day) else {
                continue;
            };
            let Some(r) = readers.iter().position(|(s, _)| s.name() == system) else {
                continue;
            };
            let (system, feeds) = &readers[r];
            if let Some(source) = counted[r].and_then(|k| sources.get_mut(k)) {
                source.add(pid);
            }
            let by_code = cache.entry(*system).or_default();
            let categories = match by_code.get(code) {
                Some(found) => found,
                None => by_code.entry(code.into()).or_insert_with(|| {
                    families
                        .iter()
                        .map(|f| f.categories(lists, *system, code))
                        .collect()
                }),
            };
            for &t in feeds {
                let target = &mut targets[t];
                let set = categories[target.slot];
                if set != 0
                    && target.from.is_none_or(|from| day >= from)
                    && let Some(person) = target.by_person.get_mut(pid as usize)
                {
                    *person |= set;
                }
            }
        }
        Ok(())
    }

    /// The coded tables the targets read, each once.
    fn tables(&self) -> Vec<&'static str> {
        let mut tables: Vec<&'static str> = self
            .families
            .iter()
            .flat_map(|f| f.sources().iter().map(|(t, _)| *t))
            .collect();
        tables.sort_unstable();
        tables.dedup();
        tables
    }

    /// For each code system `table` provides to some target, those targets.
    fn readers(&self, table: &str) -> Vec<(CodeSystem, Vec<usize>)> {
        let mut readers: Vec<(CodeSystem, Vec<usize>)> = Vec::new();
        for (t, target) in self.targets.iter().enumerate() {
            for &(source, system) in target.family.sources() {
                if source != table {
                    continue;
                }
                match readers.iter_mut().find(|(s, _)| *s == system) {
                    Some((_, feeds)) => feeds.push(t),
                    None => readers.push((system, vec![t])),
                }
            }
        }
        readers
    }

    fn into_map(self) -> (SetsByTarget, Vec<SourceCount>) {
        let sets = self
            .targets
            .into_iter()
            .map(|t| ((t.family, t.window), t.by_person))
            .collect();
        (sets, self.sources)
    }
}

/// Distinct ingredients (`contract::ingredient_key`: BNF chemical substances
/// where known) of medicines (`contract::MEDICINE`: not BNF chapters 18–23)
/// per person in the 365 days ending on `index` (eFI polypharmacy): the
/// plan, if the extract has medications.
fn distinct_medicines_12m(extract: &Extract, index: NaiveDate) -> Option<LazyFrame> {
    let rows = extract.table("medications")?;
    let date = col("date").cast(DataType::Int32);
    Some(
        rows.clone()
            .filter(
                date.clone()
                    .gt_eq(lit(epoch_days(super::window_start(index))))
                    .and(date.lt_eq(lit(epoch_days(index))))
                    .and(col(crate::contract::MEDICINE)),
            )
            .group_by([col(PID)])
            .agg([col(crate::contract::INGREDIENT)
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
/// counts: medicines (`where = { medicine = true }`), distinct ingredients,
/// the 365 days ending on the index date.
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
                    prefix: None,
                },
        } if *filters
            == [Filter::Bool {
                column: crate::contract::MEDICINE.to_string(),
                value: true,
            }]
            && column == crate::contract::INGREDIENT
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

    fn medications_feature(window: &str, prefix: Option<u32>) -> Vec<FeatureDef> {
        medications_feature_where(window, prefix, "where = { medicine = true }\n")
    }

    fn medications_feature_where(
        window: &str,
        prefix: Option<u32>,
        filter: &str,
    ) -> Vec<FeatureDef> {
        let prefix = prefix.map_or(String::new(), |p| format!("prefix = {p}\n"));
        let text = format!(
            "[[feature]]\nname = \"m\"\nkind = \"events\"\ngroup = \"Medicines\"\n\
             table = \"medications\"\nwindow = \"{window}\"\naggregate = \"count_distinct\"\n\
             of = \"ingredient\"\n{filter}{prefix}description = \"test\"\n"
        );
        parse_features(&text, "test", std::path::Path::new("."), &[]).expect("valid feature")
    }

    #[test]
    fn person_sets_unite_each_persons_codes_by_window_and_code_system_in_any_order()
    -> PolarsResult<()> {
        use CharlsonCategory::{
            DiabetesWithComplication, MetastaticSolidTumour, MyocardialInfarction,
        };
        let index = NaiveDate::from_ymd_opt(2025, 3, 31).expect("date");
        let recent = epoch_days(index) - 10;
        // 400 days back: before the 365-day window, inside "all".
        let old = epoch_days(index) - 400;
        let year = Window::Days { start: 365, end: 0 };
        let batches = [
            df!(
                PID => [0u32, 1],
                "code_system" => ["icd10", "snomed"],
                "code" => ["I21.9", "I21.9"],
                DAY => [old, recent],
            )?,
            df!(
                PID => [1u32, 0],
                "code_system" => ["icd10", "icd10"],
                "code" => ["C78", "E11.2"],
                DAY => [recent, recent],
            )?,
        ];
        let sets_in = |order: [usize; 2]| -> PolarsResult<BTreeMap<(Family, Window), Vec<Set>>> {
            let targets = vec![(Family::Charlson, Window::All), (Family::Charlson, year)];
            let lists = Arc::new(ScoreLists::builtin().expect("lists").clone());
            let mut sets = PersonSets::new(targets, index, 3, lists);
            for b in order {
                sets.add("diagnoses", &batches[b])?;
            }
            Ok(sets.into_map().0)
        };
        let forward = sets_in([0, 1])?;
        assert_eq!(forward, sets_in([1, 0])?);
        let bit = |c: CharlsonCategory| Set::from(c.bit());
        // Person 0: MI 400 days ago and diabetes with complications 10 days ago.
        // Person 1: metastatic tumour; "I21.9" as a SNOMED CT id is not an ICD-10
        // code and counts for nothing. Person 2 has no rows.
        assert_eq!(
            forward[&(Family::Charlson, Window::All)],
            [
                bit(MyocardialInfarction) | bit(DiabetesWithComplication),
                bit(MetastaticSolidTumour),
                0
            ]
        );
        assert_eq!(
            forward[&(Family::Charlson, year)],
            [bit(DiabetesWithComplication), bit(MetastaticSolidTumour), 0]
        );
        Ok(())
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
        let same = medications_feature("-365d..0d", None);
        assert_eq!(same_as_polypharmacy(&same, index).as_deref(), Some("m"));
        // Another window or another prefix, or every row (appliances too):
        // not the same count.
        for other in [
            medications_feature_where("-365d..0d", None, ""),
            medications_feature_where("-365d..0d", None, "where = { medicine = false }\n"),
            medications_feature("-730d..0d", None),
            medications_feature("-365d..-1d", None),
            medications_feature("-365d..0d", Some(7)),
        ] {
            assert_eq!(same_as_polypharmacy(&other, index), None);
        }
    }
}
