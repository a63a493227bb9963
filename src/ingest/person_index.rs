//! The person key of event rows, looked up instead of joined.
//!
//! Every event row needs its person's [`PID`] and, for the date rules, their
//! dates of birth and death. A hash join on the text `person_id` did this, but
//! a join re-materialises every row: it gathered all the left side's string
//! columns into new arrays (the join's probe and gather were the top two
//! items of the validation profile at 1M people). Here the patients' ids are
//! hashed once into a table, and each batch of rows gets its keys from three
//! elementwise lookups, leaving the event columns untouched.

use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::HashTable;
use polars::prelude::*;
use rayon::prelude::*;

/// Integer person key (row of the person in the validated patients table).
pub const PID: &str = "__pid";
/// The person's date of birth and death, joined onto event rows for the date checks.
pub(crate) const BIRTH: &str = "__birth";
pub(crate) const DEATH: &str = "__death";

/// Polars' array of strings (Arrow's `Utf8ViewArray`).
pub(super) type Ids = <StringType as PolarsDataType>::Array;

/// Person id → [`PID`], and each PID's birth and death dates (epoch days).
pub struct PersonIndex {
    /// Each PID, found by the hash of its person id and confirmed against
    /// [`Self::ids`]. Four bytes a person, not a copy of every id: the table
    /// of a million people is 5 MB, so more of it stays in cache, and it is
    /// built from hashes computed in parallel (a map of owned ids took 0.6 s
    /// to build at 1M people and 3.6 s at 5M, on one thread).
    table: HashTable<u32>,
    hasher: PlRandomState,
    /// The ids in PID order, to confirm a probe and to try the next person.
    ids: Ids,
    /// Epoch days by PID, gathered with Polars' take kernel.
    birth: Int32Chunked,
    death: Int32Chunked,
}

impl PersonIndex {
    /// Indexes `patients`, which holds `person_id` (unique), [`PID`] (0..n),
    /// `date_of_birth` and `date_of_death`.
    pub fn new(patients: &DataFrame) -> PolarsResult<PersonIndex> {
        let ids = patients.column("person_id")?.str()?;
        let pids = patients.column(PID)?.u32()?;
        let people = patients.height();
        // PIDs are row numbers (`ingest::patients::load_patients`), so patients are
        // normally in PID order already and nothing is gathered.
        let in_order = pids
            .iter()
            .enumerate()
            .all(|(row, pid)| pid == Some(row as u32));
        let order: Option<IdxCa> = if in_order {
            None
        } else {
            let mut by_pid: Vec<Option<IdxSize>> = vec![None; people];
            for (row, pid) in pids.iter().enumerate() {
                let Some(pid) = pid else { continue };
                let Some(slot) = by_pid.get_mut(pid as usize) else {
                    polars_bail!(ComputeError: "person key {pid} outside 0..{people}");
                };
                *slot = Some(row as IdxSize);
            }
            Some(by_pid.into_iter().collect())
        };
        let in_pid_order = |c: &Column| -> PolarsResult<Column> {
            Ok(match &order {
                Some(order) => c.take(order)?,
                None => c.clone(),
            })
        };
        let ids = in_pid_order(&ids.clone().into_column())?;
        let ids = ids.str()?.rechunk();
        let ids: Ids = match ids.downcast_iter().next() {
            Some(array) => array.clone(),
            None => polars_bail!(ComputeError: "no patients to index"),
        };
        let hasher = PlRandomState::default();
        let hashes = hash_ids(&ids, &hasher);
        let mut table = HashTable::with_capacity(people);
        for (pid, hash) in hashes.iter().enumerate() {
            if let Some(hash) = *hash {
                table.insert_unique(hash, pid as u32, |&p| hashes[p as usize].unwrap_or(0));
            }
        }
        let dates = |name: &str| -> PolarsResult<Int32Chunked> {
            Ok(days(&in_pid_order(patients.column(name)?)?)?
                .rechunk()
                .into_owned())
        };
        Ok(PersonIndex {
            table,
            hasher,
            ids,
            birth: dates("date_of_birth")?,
            death: dates("date_of_death")?,
        })
    }

    /// The PID of `id`, if a patient has it.
    fn find(&self, id: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(id);
        self.table
            .find(hash, |&pid| self.ids.get(pid as usize) == Some(id))
            .copied()
    }

    /// `rows` (whose `person_id` column holds the typed person id) with
    /// [`PID`], [`BIRTH`] and [`DEATH`] added: null for an unknown person.
    pub fn attach(self: &Arc<Self>, rows: LazyFrame) -> LazyFrame {
        let index = Arc::clone(self);
        let pid = col("person_id")
            .map(
                move |c| index.lookup(&c),
                |_, f| Ok(Field::new(f.name().clone(), DataType::UInt32)),
            )
            .alias(PID);
        let (births, deaths) = (Arc::clone(self), Arc::clone(self));
        rows.with_column(pid).with_columns([
            date_of(move |p| births.birth.take(p)).alias(BIRTH),
            date_of(move |p| deaths.death.take(p)).alias(DEATH),
        ])
    }

    /// Each id's PID. When every id is known (the usual case) the PIDs are
    /// collected as plain values, with no validity mask to build per row;
    /// otherwise unknown ids get nulls.
    fn lookup(&self, ids: &Column) -> PolarsResult<Column> {
        let ids = ids.str()?;
        let mut memo = Memo::default();
        let mut values: Vec<u32> = Vec::with_capacity(ids.len());
        for id in ids.iter() {
            match id.and_then(|id| memo.pid(id, self)) {
                Some(pid) => values.push(pid),
                None => {
                    let mut memo = Memo::default();
                    let pids: UInt32Chunked = ids
                        .iter()
                        .map(|id| id.and_then(|id| memo.pid(id, self)))
                        .collect();
                    return Ok(pids.with_name(PID.into()).into_column());
                }
            }
        }
        Ok(UInt32Chunked::from_vec(PID.into(), values).into_column())
    }
}

/// The person of the previous row, to look up the next row without a hash
/// probe. Extracts are usually written person by person, often in the same
/// order as the patients table (a warehouse sorts both by its patient key),
/// so a row mostly belongs to the same person as the row before, or to the
/// next person in PID order. A probe of a map of a million people is a
/// couple of cache misses; these two guesses read memory that is already
/// cached or comes next (the probe was 7.5% of `strata features` CPU at 1M
/// people). When people arrive in some other order, reading the "next"
/// person would be a cache miss of its own, so the guess is given up once
/// most changes of person jump far in PID order; rows then fall back to the
/// probe after one short comparison.
#[derive(Default)]
struct Memo<'a> {
    last: Option<(&'a str, u32)>,
    /// Changes of person seen, and how many moved forward by a few PIDs.
    changes: u32,
    near: u32,
}

/// Changes of person always tried with a guess before judging the order.
const TRIAL_CHANGES: u32 = 64;
/// A change of person moving forward by at most this many PIDs is "near".
const NEAR: u32 = 64;

impl<'a> Memo<'a> {
    fn pid(&mut self, id: &'a str, index: &PersonIndex) -> Option<u32> {
        let Some((last, previous)) = self.last else {
            return self.probe(id, index);
        };
        if last == id {
            return Some(previous);
        }
        let next = previous + 1;
        if self.guessing()
            && (next as usize) < index.ids.len()
            && index.ids.get(next as usize) == Some(id)
        {
            self.count_change(previous, next);
            self.last = Some((id, next));
            return Some(next);
        }
        let pid = self.probe(id, index)?;
        self.count_change(previous, pid);
        Some(pid)
    }

    fn probe(&mut self, id: &'a str, index: &PersonIndex) -> Option<u32> {
        let pid = index.find(id)?;
        self.last = Some((id, pid));
        Some(pid)
    }

    /// Whether people seem to arrive in PID order, so guessing the next pays.
    fn guessing(&self) -> bool {
        self.changes < TRIAL_CHANGES || self.near * 2 >= self.changes
    }

    fn count_change(&mut self, from: u32, to: u32) {
        self.changes += 1;
        self.near += u32::from(to > from && to - from <= NEAR);
    }
}

/// Each id's hash (none for a missing id), computed in parallel.
pub(super) fn hash_ids(ids: &Ids, hasher: &PlRandomState) -> Vec<Option<u64>> {
    (0..ids.len())
        .into_par_iter()
        .map(|row| ids.get(row).map(|id| hasher.hash_one(id)))
        .collect()
}

/// A date gathered by [`PID`] (null where the PID or the date is null).
fn date_of(gather: impl Fn(&IdxCa) -> PolarsResult<Int32Chunked> + Send + Sync + 'static) -> Expr {
    col(PID).map(
        move |c| Ok(gather(c.u32()?)?.into_date().into_column()),
        |_, f| Ok(Field::new(f.name().clone(), DataType::Date)),
    )
}

/// A date column as epoch days.
fn days(column: &Column) -> PolarsResult<Int32Chunked> {
    Ok(column.cast(&DataType::Int32)?.i32()?.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A patients table as `ingest` hands it over: ids, PIDs, dates (epoch days).
    fn patients_table(
        ids: &[&str],
        pids: &[u32],
        births: &[Option<i32>],
        deaths: &[Option<i32>],
    ) -> PolarsResult<DataFrame> {
        df!(
            "person_id" => ids,
            PID => pids,
            "date_of_birth" => births,
            "date_of_death" => deaths,
        )?
        .lazy()
        .with_columns([
            col("date_of_birth").cast(DataType::Date),
            col("date_of_death").cast(DataType::Date),
        ])
        .collect()
    }

    #[test]
    fn event_rows_get_their_persons_key_and_dates_and_strangers_get_none() -> PolarsResult<()> {
        let patients = patients_table(
            &["a", "b", "c"],
            &[0, 1, 2],
            &[Some(100), Some(200), None],
            &[None, Some(900), None],
        )?;
        let index = Arc::new(PersonIndex::new(&patients)?);
        let events = df!("person_id" => [Some("b"), Some("zz"), None, Some("a"), Some("b")])?;
        let keyed = index
            .attach(events.lazy())
            .with_columns([
                col(BIRTH).cast(DataType::Int32),
                col(DEATH).cast(DataType::Int32),
            ])
            .collect()?;
        let get = |name: &str| -> PolarsResult<Vec<Option<i64>>> {
            Ok(keyed
                .column(name)?
                .cast(&DataType::Int64)?
                .i64()?
                .iter()
                .collect())
        };
        assert_eq!(get(PID)?, [Some(1), None, None, Some(0), Some(1)]);
        assert_eq!(get(BIRTH)?, [Some(200), None, None, Some(100), Some(200)]);
        assert_eq!(get(DEATH)?, [Some(900), None, None, None, Some(900)]);
        Ok(())
    }

    #[test]
    fn patients_out_of_pid_order_are_indexed_by_their_pid() -> PolarsResult<()> {
        let patients = patients_table(
            &["c", "a", "b"],
            &[2, 0, 1],
            &[Some(300), Some(100), Some(200)],
            &[None; 3],
        )?;
        let index = PersonIndex::new(&patients)?;
        let ids = Column::new("person_id".into(), ["a", "b", "c", "d"]);
        let pids: Vec<Option<u32>> = index.lookup(&ids)?.u32()?.iter().collect();
        assert_eq!(pids, [Some(0), Some(1), Some(2), None]);
        let births: Vec<Option<i32>> = index.birth.iter().collect();
        assert_eq!(births, [Some(100), Some(200), Some(300)]);
        Ok(())
    }

    #[test]
    fn runs_of_one_person_and_the_next_person_are_found_without_mistaking_strangers()
    -> PolarsResult<()> {
        let patients = patients_table(
            &["a", "b", "c"],
            &[0, 1, 2],
            &[Some(100), None, None],
            &[None; 3],
        )?;
        let index = PersonIndex::new(&patients)?;
        let keys = |ids: &[&str]| -> PolarsResult<Vec<Option<u32>>> {
            let ids = Column::new("person_id".into(), ids);
            Ok(index.lookup(&ids)?.u32()?.iter().collect())
        };
        // In patients' order, in runs; a stranger inside a run stays unknown.
        assert_eq!(
            keys(&["a", "a", "b", "bb", "b", "c", "c"])?,
            [Some(0), Some(0), Some(1), None, Some(1), Some(2), Some(2)]
        );
        // Any other order: the same keys as probing each row.
        assert_eq!(
            keys(&["c", "a", "c", "b", "a", "a", "b"])?,
            [
                Some(2),
                Some(0),
                Some(2),
                Some(1),
                Some(0),
                Some(0),
                Some(1)
            ]
        );
        // Many people in another order: the guess is given up, keys stay right.
        let names: Vec<String> = (0..500).map(|i| format!("p{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let pids: Vec<u32> = (0..500).collect();
        let many = PersonIndex::new(&patients_table(&names, &pids, &[None; 500], &[None; 500])?)?;
        let order: Vec<u32> = (0..500u32).map(|i| (i * 7919) % 500).collect();
        let ids: Vec<String> = order.iter().map(|i| format!("p{i}")).collect();
        let got: Vec<Option<u32>> = many
            .lookup(&Column::new("person_id".into(), ids.clone()))?
            .u32()?
            .iter()
            .collect();
        assert_eq!(got, order.iter().map(|i| Some(*i)).collect::<Vec<_>>());
        let mut memo = Memo::default();
        for id in &ids {
            memo.pid(id, &many);
        }
        assert!(!memo.guessing(), "people far apart: no more guesses");
        // People in PID order with gaps (no events for some): guesses go on.
        let mut memo = Memo::default();
        let sparse: Vec<String> = (0..500).step_by(3).map(|i| format!("p{i}")).collect();
        for id in &sparse {
            memo.pid(id, &many);
        }
        assert!(memo.guessing());
        assert_eq!(memo.pid("p499", &many), Some(499));
        // The last person has no next one.
        assert_eq!(keys(&["c", "d"])?, [Some(2), None]);
        Ok(())
    }
}
