//! Event features added up per person as a table streams past: one dense
//! accumulator per feature, indexed by [`PID`].
//!
//! PIDs are the patients' row numbers (0..n), so a person's running count,
//! sum or latest date is a slot of an array: no hash table and no group-by.
//! Polars still reads, validates and filters the rows and works out each
//! row's selections and values as vectorised expressions; this module only
//! folds them in. It replaced a streaming `group_by(PID).agg(..)` whose
//! grouped reductions, key hashing and per-feature window masks were about
//! a third of the encounters pass, and whose hash tables outgrow the caches
//! as the population grows (docs/performance.md).
//!
//! The arrays are split into shards of [`SHARD`] people, each behind its own
//! lock, and batches are folded in from inside the streaming pipeline (an
//! elementwise function, [`Tally::fold`]), so every worker thread folds at
//! once. A single consumer at the end of the pipeline (`sink_batches`) runs
//! on one thread; it fell behind the other consumers of the shared scan, and
//! Polars buffers a slow consumer's input without bound (1M people: +650 MiB).
//!
//! Every fold is independent of the order rows arrive in (the streaming
//! engine does not fix it): counts, integer sums, minima, maxima and set
//! unions commute, and the latest value breaks ties on the value itself.
//!
//! The code-list scores fold per person too, but apart
//! (`features::scores::PersonSets`, one thread): their per-row work is a
//! look-up in one shared memo of category sets, not arithmetic on columns
//! (docs/architecture.md, "Two per-person folds").

use std::cmp::Ordering;
use std::ops::Range;
use std::sync::{Mutex, MutexGuard, RwLock};

use polars::prelude::*;
use rayon::prelude::*;

use super::spec::Aggregate;
use crate::ingest::PID;

/// Column of a tally's input holding the row's date (a period's start) as epoch days.
pub(super) const DAY: &str = "__day";
/// Column holding a period's end as epoch days (null: still open).
pub(super) const END: &str = "__end";

/// Units per 1 of a summed value: sums are taken in integer micro-units, so
/// that a total does not depend on the order of its terms (a floating-point
/// sum does, and gave totals differing in the last bits from run to run).
/// The range is ±9.2 × 10¹² per person, far beyond any cost.
const SUM_SCALE: f64 = 1e6;

/// People per shard. A batch of an extract grouped by person touches a few
/// shards; two threads rarely want the same one.
const SHARD: usize = 4096;

/// Every feature of one event table, and each shard's per-person state.
pub(super) struct Tally {
    people: usize,
    features: Vec<Feature>,
    /// The distinct selection columns (a feature's `selection` indexes them).
    selections: Vec<String>,
    shards: Vec<Mutex<Vec<State>>>,
    /// Values of `count_distinct` features, numbered; shared by all shards.
    interned: RwLock<PlHashMap<Box<str>, u32>>,
}

/// One feature: which rows it reads and how it folds them.
pub(super) struct Feature {
    name: String,
    /// Column holding whether the row is selected (`where` filters and code
    /// list); `None` reads every row.
    selected: Option<String>,
    /// Position of `selected` in [`Tally::selections`].
    selection: Option<usize>,
    /// Days of rows that count, inclusive (epoch days); `None` start = unbounded.
    from: Option<i32>,
    to: i32,
    kind: Kind,
}

/// What a feature computes, with the input columns it reads.
enum Kind {
    Count,
    Exists,
    Sum {
        value: String,
    },
    /// Smallest or largest value (NaN values are ignored, as in Polars).
    Extreme {
        value: String,
        largest: bool,
    },
    /// The latest selected row's value; ties on the day go to the greatest
    /// value (a missing value is the least).
    Last {
        text: String,
        /// Column to compare values by when it is not the text itself (numbers, dates).
        key: Option<String>,
    },
    DaysSinceLast {
        index: i32,
    },
    /// Days of `[from, to]` covered by selected periods, each day from the
    /// start to the end date **inclusive** (periods are clipped, not
    /// filtered, by the window; an open end runs to `to`). Agrees with
    /// [`Kind::ActiveOn`]: a period is active on its end date (issue #18).
    DaysCovered,
    /// Nights of selected periods that begin on a day of `[from, to]`, each
    /// night counted on the day it begins (the midnight census): a period
    /// has `end − start` nights, the end date's night not among them (a
    /// same-day stay has none); an open end runs to the night beginning on `to`.
    Nights,
    /// Some selected period covers day `on`.
    ActiveOn {
        on: i32,
    },
    /// Distinct values (of their first `prefix` characters); a missing value
    /// counts as one more, as Polars' `n_unique` counts it.
    Distinct {
        value: String,
        prefix: Option<usize>,
    },
}

/// One feature's state for the people of a shard.
enum State {
    Count(Vec<u32>),
    Exists(Vec<bool>),
    /// Integer micro-units, and whether some selected row had a value (a sum
    /// over nothing is unknown, not 0).
    Sum {
        micros: Vec<i64>,
        seen: Vec<bool>,
    },
    /// NaN until a value is seen.
    Extreme(Vec<f64>),
    Last(Vec<Option<Latest>>),
    /// Latest selected day; `i32::MIN` for none.
    LatestDay(Vec<i32>),
    Days(Vec<i64>),
    Active(Vec<bool>),
    /// Interned values, sorted.
    Distinct(Vec<Vec<u32>>),
}

/// The value kept by `last`.
#[derive(Clone)]
struct Latest {
    day: i32,
    key: Option<f64>,
    text: Option<Box<str>>,
}

/// Interned id of a missing value.
const MISSING: u32 = u32::MAX;

impl Feature {
    /// The feature `name` computing `aggregate` over the rows selected by
    /// the column `selected`, on days `[from, to]`; `index` is the index
    /// date (epoch days). `inputs` receives the value columns it reads
    /// (named after `position`) for the tally's input.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        name: &str,
        position: usize,
        aggregate: &Aggregate,
        selected: Option<String>,
        (from, to): (Option<i32>, i32),
        index: i32,
        text_column: &dyn Fn(&str) -> bool,
        inputs: &mut Vec<Expr>,
    ) -> Feature {
        let mut input = |suffix: &str, expr: Expr| -> String {
            let name = format!("__value_{position}{suffix}");
            inputs.push(expr.alias(name.as_str()));
            name
        };
        let number = |c: &str| col(c).cast(DataType::Float64);
        let kind = match aggregate {
            Aggregate::Exists => Kind::Exists,
            Aggregate::Count => Kind::Count,
            Aggregate::Sum { column } => Kind::Sum {
                value: input("", number(column)),
            },
            Aggregate::Min { column } | Aggregate::Max { column } => Kind::Extreme {
                value: input("", number(column)),
                largest: matches!(aggregate, Aggregate::Max { .. }),
            },
            Aggregate::Last { column } => Kind::Last {
                text: input("", col(column.as_str()).cast(DataType::String)),
                key: (!text_column(column)).then(|| {
                    let key = col(column.as_str()).to_physical().cast(DataType::Float64);
                    input("_key", key)
                }),
            },
            Aggregate::DaysSinceLast => Kind::DaysSinceLast { index },
            Aggregate::DaysCovered => Kind::DaysCovered,
            Aggregate::Nights => Kind::Nights,
            Aggregate::ActiveOnIndex => Kind::ActiveOn { on: index },
            Aggregate::CountDistinct { column, prefix } => Kind::Distinct {
                value: input("", col(column.as_str()).cast(DataType::String)),
                prefix: *prefix,
            },
        };
        Feature {
            name: name.to_string(),
            selected,
            selection: None,
            from,
            to,
            kind,
        }
    }

    /// Rows whose day counts: the window's, or every day for periods (which
    /// are clipped to the window instead).
    fn days(&self) -> (i32, i32) {
        match self.kind {
            Kind::DaysCovered | Kind::Nights => (i32::MIN, i32::MAX),
            Kind::ActiveOn { on } => (i32::MIN, on),
            _ => (self.from.unwrap_or(i32::MIN), self.to),
        }
    }

    /// Empty state for `people` people.
    fn state(&self, people: usize) -> State {
        match self.kind {
            Kind::Count => State::Count(vec![0; people]),
            Kind::Exists => State::Exists(vec![false; people]),
            Kind::Sum { .. } => State::Sum {
                micros: vec![0; people],
                seen: vec![false; people],
            },
            Kind::Extreme { .. } => State::Extreme(vec![f64::NAN; people]),
            Kind::Last { .. } => State::Last(vec![None; people]),
            Kind::DaysSinceLast { .. } => State::LatestDay(vec![i32::MIN; people]),
            Kind::DaysCovered | Kind::Nights => State::Days(vec![0; people]),
            Kind::ActiveOn { .. } => State::Active(vec![false; people]),
            Kind::Distinct { .. } => State::Distinct(vec![Vec::new(); people]),
        }
    }

    /// The feature's column for the people `pids`, from every shard's state
    /// (`at` gives a PID's shard state and position in it).
    fn column<'s>(&self, pids: &[u32], at: impl Fn(u32) -> (&'s State, usize) + Sync) -> Column {
        let name: PlSmallStr = self.name.as_str().into();
        match self.kind {
            Kind::Exists | Kind::ActiveOn { .. } => Column::new(
                name,
                pids.iter()
                    .map(|&p| self.flag(at(p)))
                    .collect::<Vec<bool>>(),
            ),
            Kind::Sum { .. } | Kind::Extreme { .. } => Column::new(
                name,
                pids.iter()
                    .map(|&p| self.number(at(p)))
                    .collect::<Vec<Option<f64>>>(),
            ),
            Kind::Last { .. } => Column::new(
                name,
                pids.iter()
                    .map(|&p| match at(p) {
                        (State::Last(best), i) => best[i].as_ref().and_then(|b| b.text.as_deref()),
                        _ => None,
                    })
                    .collect::<Vec<Option<&str>>>(),
            ),
            _ => Column::new(
                name,
                pids.iter()
                    .map(|&p| self.int(at(p)))
                    .collect::<Vec<Option<i32>>>(),
            ),
        }
    }

    fn flag(&self, (state, i): (&State, usize)) -> bool {
        match state {
            State::Exists(b) | State::Active(b) => b[i],
            _ => false,
        }
    }

    fn number(&self, (state, i): (&State, usize)) -> Option<f64> {
        match state {
            State::Sum { micros, seen } => seen[i].then(|| micros[i] as f64 / SUM_SCALE),
            State::Extreme(best) => Some(best[i]).filter(|b| !b.is_nan()),
            _ => None,
        }
    }

    fn int(&self, (state, i): (&State, usize)) -> Option<i32> {
        match (state, &self.kind) {
            (State::Count(n), _) => i32::try_from(n[i]).ok(),
            (State::LatestDay(latest), Kind::DaysSinceLast { index }) => {
                (latest[i] != i32::MIN).then(|| index - latest[i])
            }
            (State::Days(days), _) => i32::try_from(days[i]).ok(),
            (State::Distinct(sets), _) => i32::try_from(sets[i].len()).ok(),
            _ => None,
        }
    }
}

/// One batch of a tally's input: key columns as slices, each selection as a
/// mask, each feature's values.
struct Batch<'a> {
    pids: &'a [u32],
    days: &'a [i32],
    ends: Option<Vec<Option<i32>>>,
    masks: Vec<Vec<bool>>,
    values: Vec<Values<'a>>,
}

/// A feature's input values in one batch.
enum Values<'a> {
    None,
    Numbers(Vec<Option<f64>>),
    Last {
        texts: Vec<Option<&'a str>>,
        keys: Option<Vec<Option<f64>>>,
    },
    /// Interned ids of the rows the feature reads (others: unused).
    Ids(Vec<u32>),
}

impl Tally {
    /// A tally of `features` for `people` people (PIDs 0..people).
    pub(super) fn new(people: usize, mut features: Vec<Feature>) -> Tally {
        let mut selections: Vec<String> = Vec::new();
        for f in &mut features {
            f.selection = f.selected.as_ref().map(|name| {
                selections
                    .iter()
                    .position(|s| s == name)
                    .unwrap_or_else(|| {
                        selections.push(name.clone());
                        selections.len() - 1
                    })
            });
        }
        let shards = (0..people.div_ceil(SHARD))
            .map(|k| {
                let size = SHARD.min(people - k * SHARD);
                Mutex::new(features.iter().map(|f| f.state(size)).collect())
            })
            .collect();
        Tally {
            people,
            features,
            selections,
            shards,
            interned: RwLock::new(PlHashMap::default()),
        }
    }

    /// Folds one batch (columns [`PID`], [`DAY`], perhaps [`END`], and the
    /// features' selections and values) into every feature. Safe to call
    /// from several threads at once: each shard is locked while its rows
    /// are folded in.
    pub(super) fn fold(&self, columns: &[Column]) -> PolarsResult<()> {
        let Some(height) = columns.iter().map(Column::len).max() else {
            return Ok(());
        };
        let mut frame = DataFrame::new_with_broadcast(height, columns.to_vec())?;
        frame.rechunk_mut();
        let (pids, days) = (frame.column(PID)?.u32()?, frame.column(DAY)?.i32()?);
        let (Ok(pids), Ok(days)) = (pids.cont_slice(), days.cont_slice()) else {
            polars_bail!(ComputeError: "a feature tally got rows without a person or a date");
        };
        if pids.iter().any(|&p| p as usize >= self.people) {
            polars_bail!(ComputeError: "a feature tally got a person key outside 0..{}", self.people);
        }
        let mut batch = Batch {
            pids,
            days,
            ends: match frame.column(END) {
                Ok(ends) => Some(ends.i32()?.iter().collect()),
                Err(_) => None,
            },
            masks: self
                .selections
                .iter()
                .map(|name| mask(frame.column(name)?))
                .collect::<PolarsResult<_>>()?,
            values: Vec::new(),
        };
        batch.values = self
            .features
            .iter()
            .map(|f| self.values(f, &frame, &batch))
            .collect::<PolarsResult<_>>()?;
        for (shard, rows) in parts(pids) {
            // Each selection's rows once (features sharing one differ by window).
            let selected: Vec<Vec<usize>> =
                batch.masks.iter().map(|mask| rows.selected(mask)).collect();
            let mut states = self.lock(shard)?;
            let base = shard * SHARD;
            for (k, f) in self.features.iter().enumerate() {
                let state = &mut states[k];
                match (f.selection, &rows) {
                    (Some(s), _) => fold(f, state, &batch, k, base, selected[s].iter().copied()),
                    (None, Rows::Run(range)) => fold(f, state, &batch, k, base, range.clone()),
                    (None, Rows::Picked(picked)) => {
                        fold(f, state, &batch, k, base, picked.iter().copied())
                    }
                }
            }
        }
        Ok(())
    }

    fn lock(&self, shard: usize) -> PolarsResult<MutexGuard<'_, Vec<State>>> {
        self.shards[shard]
            .lock()
            .map_err(|_| polars_err!(ComputeError: "a feature pass panicked"))
    }

    /// Feature `f`'s values in `frame`.
    fn values<'a>(
        &self,
        f: &Feature,
        frame: &'a DataFrame,
        batch: &Batch<'_>,
    ) -> PolarsResult<Values<'a>> {
        let numbers = |c: &str| -> PolarsResult<Vec<Option<f64>>> {
            Ok(frame.column(c)?.f64()?.iter().collect())
        };
        Ok(match &f.kind {
            Kind::Sum { value } | Kind::Extreme { value, .. } => Values::Numbers(numbers(value)?),
            Kind::Last { text, key } => Values::Last {
                texts: frame.column(text)?.str()?.iter().collect(),
                keys: key.as_deref().map(numbers).transpose()?,
            },
            Kind::Distinct { value, prefix } => {
                let texts: Vec<Option<&str>> = frame.column(value)?.str()?.iter().collect();
                Values::Ids(self.intern(f, batch, &texts, *prefix)?)
            }
            _ => Values::None,
        })
    }

    /// Each read row's value (its first `prefix` characters) numbered in
    /// [`Tally::interned`]: one read lock per batch, and a write lock only
    /// for values not seen before.
    fn intern(
        &self,
        f: &Feature,
        batch: &Batch<'_>,
        texts: &[Option<&str>],
        prefix: Option<usize>,
    ) -> PolarsResult<Vec<u32>> {
        let poisoned = || polars_err!(ComputeError: "a feature pass panicked");
        let cut = |i: usize| texts[i].map(|t| prefix.map_or(t, |n| first_chars(t, n)));
        let mut ids = vec![MISSING; texts.len()];
        let mut unseen: Vec<usize> = Vec::new();
        {
            let known = self.interned.read().map_err(|_| poisoned())?;
            let (from, to) = f.days();
            let mask = f.selection.map(|s| batch.masks[s].as_slice());
            let rows = (0..texts.len()).filter(|&i| mask.is_none_or(|m| m[i]));
            each_read(batch, 0, rows, from, to, |i, _| {
                if let Some(v) = cut(i) {
                    match known.get(v) {
                        Some(id) => ids[i] = *id,
                        None => unseen.push(i),
                    }
                }
            });
        }
        if !unseen.is_empty() {
            let mut known = self.interned.write().map_err(|_| poisoned())?;
            for i in unseen {
                if let Some(v) = cut(i) {
                    let next = known.len() as u32;
                    ids[i] = *known.entry(v.into()).or_insert(next);
                }
            }
        }
        Ok(ids)
    }

    /// One column per feature, in order, for the people `pids`.
    pub(super) fn columns(&self, pids: &[u32]) -> PolarsResult<Vec<Column>> {
        let shards: Vec<MutexGuard<'_, Vec<State>>> = (0..self.shards.len())
            .map(|k| self.lock(k))
            .collect::<PolarsResult<_>>()?;
        let states: Vec<&Vec<State>> = shards.iter().map(|s| &**s).collect();
        Ok(self
            .features
            .par_iter()
            .enumerate()
            .map(|(k, f)| {
                f.column(pids, |p| {
                    let p = p as usize;
                    (&states[p / SHARD][k], p % SHARD)
                })
            })
            .collect())
    }
}

/// Rows of a batch that belong to one shard.
enum Rows {
    /// Consecutive rows (an extract grouped by person).
    Run(Range<usize>),
    /// Scattered rows, in order.
    Picked(Vec<usize>),
}

impl Rows {
    /// The rows for which `mask` holds.
    fn selected(&self, mask: &[bool]) -> Vec<usize> {
        match self {
            Rows::Run(range) => range.clone().filter(|&i| mask[i]).collect(),
            Rows::Picked(picked) => picked.iter().copied().filter(|&i| mask[i]).collect(),
        }
    }
}

/// The batch's rows by shard. Rows of an extract grouped by person come in
/// long runs of one shard; otherwise they are picked out shard by shard.
fn parts(pids: &[u32]) -> Vec<(usize, Rows)> {
    let shard = |i: usize| pids[i] as usize / SHARD;
    let mut runs: Vec<(usize, Rows)> = Vec::new();
    let mut start = 0;
    for i in 1..=pids.len() {
        if i == pids.len() || shard(i) != shard(start) {
            runs.push((shard(start), Rows::Run(start..i)));
            start = i;
        }
    }
    // Many short runs: the rows are not grouped by person.
    if runs.len() * 64 > pids.len() {
        let mut order: Vec<usize> = (0..pids.len()).collect();
        order.sort_by_key(|&i| shard(i));
        return order
            .chunk_by(|&a, &b| shard(a) == shard(b))
            .map(|rows| (shard(rows[0]), Rows::Picked(rows.to_vec())))
            .collect();
    }
    runs
}

/// Folds `rows` of `batch` (all in the shard starting at PID `base`, and
/// selected by the feature) into feature `k`'s `state`.
fn fold(
    f: &Feature,
    state: &mut State,
    batch: &Batch<'_>,
    k: usize,
    base: usize,
    rows: impl Iterator<Item = usize>,
) {
    let (from, to) = f.days();
    match (state, &batch.values[k]) {
        (State::Count(n), _) => each_read(batch, base, rows, from, to, |_, p| n[p] += 1),
        (State::Exists(any), _) => each_read(batch, base, rows, from, to, |_, p| any[p] = true),
        (State::Sum { micros, seen }, Values::Numbers(values)) => {
            each_read(batch, base, rows, from, to, |i, p| {
                if let Some(v) = values[i] {
                    seen[p] = true;
                    if let Some(m) = to_micros(v) {
                        micros[p] = micros[p].wrapping_add(m);
                    }
                }
            })
        }
        (State::Extreme(best), Values::Numbers(values)) => {
            let largest = matches!(f.kind, Kind::Extreme { largest: true, .. });
            each_read(batch, base, rows, from, to, |i, p| {
                if let Some(v) = values[i].filter(|v| !v.is_nan()) {
                    let b = &mut best[p];
                    if b.is_nan() || (largest && v > *b) || (!largest && v < *b) {
                        *b = v;
                    }
                }
            })
        }
        (State::Last(best), Values::Last { texts, keys }) => {
            each_read(batch, base, rows, from, to, |i, p| {
                let (day, key, text) = (batch.days[i], keys.as_ref().and_then(|k| k[i]), texts[i]);
                if best[p].as_ref().is_none_or(|b| b.is_before(day, key, text)) {
                    let text = text.map(Box::from);
                    best[p] = Some(Latest { day, key, text });
                }
            })
        }
        (State::LatestDay(latest), _) => each_read(batch, base, rows, from, to, |i, p| {
            latest[p] = latest[p].max(batch.days[i])
        }),
        (State::Days(days), _) => {
            // Each period as the half-open range of days [start, stop) that
            // counts, clipped to [from, to]. Days covered: start ..= end, so
            // stop = end + 1. Nights: the night beginning on day d counts on
            // d, for d in start .. end, so stop = end. An open end runs
            // through `to` either way.
            let (clip, stop) = (f.from.map_or(i64::MIN, i64::from), f.to as i64 + 1);
            let past_end = i64::from(matches!(f.kind, Kind::DaysCovered));
            let ends = batch.ends.as_deref().unwrap_or_default();
            each_read(batch, base, rows, from, to, |i, p| {
                let end = ends
                    .get(i)
                    .copied()
                    .flatten()
                    .map_or(stop, |e| (e as i64 + past_end).min(stop));
                let start = (batch.days[i] as i64).max(clip);
                if end > start {
                    days[p] += end - start;
                }
            })
        }
        (State::Active(active), _) => {
            let on = to;
            let ends = batch.ends.as_deref().unwrap_or_default();
            each_read(batch, base, rows, from, to, |i, p| {
                if ends.get(i).copied().flatten().is_none_or(|e| e >= on) {
                    active[p] = true;
                }
            })
        }
        (State::Distinct(sets), Values::Ids(ids)) => {
            each_read(batch, base, rows, from, to, |i, p| {
                let set = &mut sets[p];
                if let Err(at) = set.binary_search(&ids[i]) {
                    set.insert(at, ids[i]);
                }
            })
        }
        _ => {}
    }
}

/// Calls `g(row, person within the shard)` for each of `rows` (already
/// selected) on a day in `[from, to]`.
fn each_read(
    batch: &Batch<'_>,
    base: usize,
    rows: impl Iterator<Item = usize>,
    from: i32,
    to: i32,
    mut g: impl FnMut(usize, usize),
) {
    for i in rows {
        let day = batch.days[i];
        if day >= from && day <= to {
            g(i, batch.pids[i] as usize - base);
        }
    }
}

impl Latest {
    /// Whether a row (`day`, `key`, `text`) comes after this one: a later
    /// day, or the same day and a greater value (missing values least).
    /// Values are compared by `key` when the column has one, else as text.
    fn is_before(&self, day: i32, key: Option<f64>, text: Option<&str>) -> bool {
        let by_value = match (key, self.key) {
            (Some(a), Some(b)) => a.total_cmp(&b),
            (a, b) if a.is_some() || b.is_some() => a.is_some().cmp(&b.is_some()),
            _ => text.cmp(&self.text.as_deref()),
        };
        day.cmp(&self.day).then(by_value) == Ordering::Greater
    }
}

/// `v` in integer micro-units, rounded half away from zero; `None` when it
/// does not fit (NaN, infinite or beyond ±9.2 × 10¹²), as Polars' cast gives null.
fn to_micros(v: f64) -> Option<i64> {
    let m = (v * SUM_SCALE).round();
    (m.is_finite() && m >= i64::MIN as f64 && m < i64::MAX as f64).then_some(m as i64)
}

/// The first `n` characters of `s` (all of it if shorter), as Polars' `str.slice(0, n)`.
fn first_chars(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((at, _)) => &s[..at],
        None => s,
    }
}

/// A boolean column as a plain mask (missing = false).
fn mask(column: &Column) -> PolarsResult<Vec<bool>> {
    let ca = column.bool()?;
    let mut out = Vec::with_capacity(ca.len());
    for array in ca.downcast_iter() {
        match array.validity() {
            None => out.extend(array.values().iter()),
            Some(valid) => out.extend(
                array
                    .values()
                    .iter()
                    .zip(valid.iter())
                    .map(|(v, ok)| v && ok),
            ),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// First (none: unbounded) and last day of a window.
    type Days = (Option<i32>, i32);
    /// Window of the hand-worked features: days 991..=1000 (index 1000).
    const WINDOW: Days = (Some(991), 1000);
    const ALL: Days = (None, 1000);

    /// Every aggregate over the columns of [`frame`]: a selection `sel`, a
    /// number `v` and a text `t`.
    fn features() -> Vec<Feature> {
        let text = |c: &str| c == "t";
        let sel = Some("sel".to_string());
        let column = |c: &str| c.to_string();
        let specs: Vec<(&str, Aggregate, Days)> = vec![
            ("count", Aggregate::Count, WINDOW),
            ("exists", Aggregate::Exists, WINDOW),
            (
                "sum",
                Aggregate::Sum {
                    column: column("v"),
                },
                WINDOW,
            ),
            (
                "min",
                Aggregate::Min {
                    column: column("v"),
                },
                WINDOW,
            ),
            (
                "max",
                Aggregate::Max {
                    column: column("v"),
                },
                WINDOW,
            ),
            (
                "last_text",
                Aggregate::Last {
                    column: column("t"),
                },
                WINDOW,
            ),
            (
                "last_number",
                Aggregate::Last {
                    column: column("v"),
                },
                WINDOW,
            ),
            ("days_since_last", Aggregate::DaysSinceLast, ALL),
            ("days_covered", Aggregate::DaysCovered, WINDOW),
            ("active", Aggregate::ActiveOnIndex, ALL),
            (
                "distinct",
                Aggregate::CountDistinct {
                    column: column("t"),
                    prefix: Some(1),
                },
                ALL,
            ),
            ("nights", Aggregate::Nights, WINDOW),
        ];
        let mut inputs = Vec::new();
        specs
            .into_iter()
            .enumerate()
            .map(|(k, (name, aggregate, window))| {
                Feature::new(
                    name,
                    k,
                    &aggregate,
                    sel.clone(),
                    window,
                    1000,
                    &text,
                    &mut inputs,
                )
            })
            .collect()
    }

    type Row = (
        u32,
        i32,
        Option<i32>,
        bool,
        Option<f64>,
        Option<&'static str>,
    );

    /// The input a tally of [`features`] reads: what the pass's `select`
    /// would hand it (each value column under the name `Feature::new` gave).
    fn frame(rows: &[Row]) -> Vec<Column> {
        let v: Vec<Option<f64>> = rows.iter().map(|r| r.4).collect();
        let t: Vec<Option<&str>> = rows.iter().map(|r| r.5).collect();
        let v_as_text: Vec<Option<String>> = v.iter().map(|x| x.map(|x| x.to_string())).collect();
        vec![
            Column::new(PID.into(), rows.iter().map(|r| r.0).collect::<Vec<_>>()),
            Column::new(DAY.into(), rows.iter().map(|r| r.1).collect::<Vec<_>>()),
            Column::new(END.into(), rows.iter().map(|r| r.2).collect::<Vec<_>>()),
            Column::new("sel".into(), rows.iter().map(|r| r.3).collect::<Vec<_>>()),
            Column::new("__value_2".into(), v.clone()),
            Column::new("__value_3".into(), v.clone()),
            Column::new("__value_4".into(), v.clone()),
            Column::new("__value_5".into(), t.clone()),
            Column::new("__value_6".into(), v_as_text),
            Column::new("__value_6_key".into(), v),
            Column::new("__value_10".into(), t),
        ]
    }

    fn tally(people: usize, batches: &[&[Row]]) -> DataFrame {
        let tally = Tally::new(people, features());
        for rows in batches {
            tally.fold(&frame(rows)).unwrap();
        }
        let pids: Vec<u32> = (0..people as u32).collect();
        DataFrame::new_infer_height(tally.columns(&pids).unwrap()).unwrap()
    }

    /// Person 0 has four selected rows and one not selected; person 1 two
    /// rows; person 2 two on the same day; person 3 none.
    const ROWS: [Row; 9] = [
        (0, 995, Some(998), true, Some(0.1), Some("b")),
        (0, 1000, None, true, Some(0.2), Some("a")),
        (0, 1000, None, false, Some(5.0), Some("z")),
        (0, 980, Some(993), true, None, None),
        (0, 1000, None, true, Some(0.05), Some("c")),
        (1, 990, Some(992), true, Some(2.5), Some("abcd")),
        (1, 991, Some(991), true, None, Some("axy")),
        (2, 1000, None, true, Some(12.25), Some("x")),
        (2, 1000, None, true, Some(3.5), Some("y")),
    ];

    fn ints(frame: &DataFrame, name: &str) -> Vec<Option<i32>> {
        frame.column(name).unwrap().i32().unwrap().iter().collect()
    }
    fn floats(frame: &DataFrame, name: &str) -> Vec<Option<f64>> {
        frame.column(name).unwrap().f64().unwrap().iter().collect()
    }
    fn flags(frame: &DataFrame, name: &str) -> Vec<Option<bool>> {
        frame.column(name).unwrap().bool().unwrap().iter().collect()
    }
    fn texts(frame: &DataFrame, name: &str) -> Vec<Option<String>> {
        let c = frame.column(name).unwrap().str().unwrap().clone();
        c.iter().map(|s| s.map(String::from)).collect()
    }

    #[test]
    fn each_aggregate_folds_the_selected_rows_of_its_window() {
        let f = tally(4, &[&ROWS]);
        // Person 0: rows on days 995, 1000 and 1000 are selected and in the window.
        assert_eq!(ints(&f, "count"), [Some(3), Some(1), Some(2), Some(0)]);
        assert_eq!(
            flags(&f, "exists"),
            [Some(true), Some(true), Some(true), Some(false)]
        );
        // 0.1 + 0.2 + 0.05 in micro-units: exactly the double nearest 0.35
        // (added as floats it is 0.35000000000000003). Person 1's only row in
        // the window has no value: unknown, not 0.
        assert_eq!(floats(&f, "sum"), [Some(0.35), None, Some(15.75), None]);
        assert_eq!(floats(&f, "min"), [Some(0.05), None, Some(3.5), None]);
        assert_eq!(floats(&f, "max"), [Some(0.2), None, Some(12.25), None]);
        // Ties on the latest day go to the greater value: "c" over "a" as
        // text; 12.25 over 3.5 as numbers (as text, "3.5" would win).
        // Person 1's latest row has a text but no number.
        let last = |s: &str| Some(s.to_string());
        assert_eq!(
            texts(&f, "last_text"),
            [last("c"), last("axy"), last("y"), None]
        );
        assert_eq!(
            texts(&f, "last_number"),
            [last("0.2"), None, last("12.25"), None]
        );
        assert_eq!(
            ints(&f, "days_since_last"),
            [Some(0), Some(9), Some(0), None]
        );
        // Days covered, start and end inclusive, clipped to 991..=1000.
        // Person 0: 995..=998 (4) + 1000..open (1) + 991..=993 (3, clipped) + 1000..open (1).
        // Person 1: 991..=992 (2, clipped) + 991..=991 (1, a one-day period).
        // Person 2: two open periods from 1000, one day each.
        assert_eq!(
            ints(&f, "days_covered"),
            [Some(4 + 1 + 3 + 1), Some(2 + 1), Some(1 + 1), Some(0)]
        );
        // Nights, each counted on the day it begins (the end date's night is not one).
        // Person 0: nights 995, 996, 997 (3) + 1000 (1, open) + 991, 992 (2, clipped) + 1000 (1).
        // Person 1: night 991 (990's is before the window); the same-day period has none. Person 2: 1 + 1.
        assert_eq!(
            ints(&f, "nights"),
            [Some(3 + 1 + 2 + 1), Some(1), Some(1 + 1), Some(0)]
        );
        assert_eq!(
            flags(&f, "active"),
            [Some(true), Some(false), Some(true), Some(false)]
        );
        // First letters b, a, c and a missing text; person 1's "abcd" and "axy" are both "a".
        assert_eq!(ints(&f, "distinct"), [Some(4), Some(1), Some(2), Some(0)]);
    }

    #[test]
    fn rows_beyond_the_people_are_an_error_not_a_panic() {
        let tally = Tally::new(1, features());
        assert!(tally.fold(&frame(&ROWS)).is_err());
    }

    fn row() -> impl Strategy<Value = Row> {
        let people = (2 * SHARD + 5) as u32;
        (
            0..people,
            970..1003i32,
            proptest::option::of(975..1005i32),
            any::<bool>(),
            proptest::option::of(prop_oneof![Just(0.1), Just(0.2), Just(-3.5), Just(12.25)]),
            proptest::option::of(prop_oneof![Just("a1"), Just("a2"), Just("b1"), Just("c")]),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// The same rows in any order, in any batches, across shards, grouped
        /// by person or not, give the same features as one row at a time in
        /// the order generated.
        #[test]
        fn folding_does_not_depend_on_row_order_or_batches(
            rows in proptest::collection::vec(row(), 1..300),
            seed in any::<u64>(),
            cuts in proptest::collection::vec(0..300usize, 0..6),
        ) {
            let people = 2 * SHARD + 5;
            let one_by_one: Vec<&[Row]> = rows.chunks(1).collect();
            let expected = tally(people, &one_by_one);
            let mut shuffled = rows.clone();
            let mut state = seed;
            for i in (1..shuffled.len()).rev() {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                shuffled.swap(i, (state >> 33) as usize % (i + 1));
            }
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % shuffled.len()).collect();
            cuts.extend([0, shuffled.len()]);
            cuts.sort_unstable();
            let batches: Vec<&[Row]> = cuts.windows(2).map(|w| &shuffled[w[0]..w[1]]).collect();
            prop_assert!(tally(people, &batches).equals_missing(&expected));
            // One batch sorted by person: runs rather than picked rows.
            let mut sorted = rows.clone();
            sorted.sort_by_key(|r| r.0);
            prop_assert!(tally(people, &[&sorted]).equals_missing(&expected));
        }
    }
}
