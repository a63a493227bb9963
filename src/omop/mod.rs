//! OMOP CDM 5.4 folders converted into the contract's tables.
//!
//! A CDM folder holds one CSV or Parquet file per table (`person.csv`,
//! `VISIT_OCCURRENCE.parquet`, …). Each table is scanned lazily as text,
//! mapped with Polars joins (`map`, documented field by field in
//! `docs/omop.md`), and written as one Parquet part per contract table
//! (`OUT/patients/part-00001.parquet`, …). The normal ingest then validates
//! and loads that folder, so every contract check applies to OMOP input too.
//!
//! Never logs or reports a value from a row: problems are named by table,
//! reason, file and row.

pub mod export;
pub mod locate;
pub mod map;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use polars::prelude::*;

use crate::contract::{self, DIAGNOSES, ENCOUNTERS, MEDICATIONS, OBSERVATIONS, PATIENTS};
use crate::error::ExitClass;
use locate::{ROW, Scanned};
use map::{DROPPED, KIND, NOTED, REASON, REJECTED};

/// Locations kept per (table, reason).
const FIRST_LOCATIONS: usize = 5;

/// Errors reading a CDM folder or writing its contract extract.
#[derive(Debug, thiserror::Error)]
pub enum OmopError {
    #[error(
        "{dir}: no OMOP CDM tables found (expected person and visit_occurrence files, .csv or .parquet)"
    )]
    NoCdm { dir: PathBuf },
    #[error("{dir}: required CDM table `{table}` not found")]
    MissingTable { dir: PathBuf, table: &'static str },
    #[error("CDM table `{table}` has two files, {first} and {second}: keep one")]
    Ambiguous {
        table: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("{path}: cannot be read: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("{dir}: the output folder is not empty; give a new or empty folder")]
    OutputNotEmpty { dir: PathBuf },
    #[error("{path}: writing failed: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error(
        "{table}: {rejected} of {read} rows rejected ({reason}; first at {first}), more than the allowed {limit_percent}%"
    )]
    TooManyRejected {
        table: String,
        reason: String,
        first: String,
        rejected: u64,
        read: u64,
        limit_percent: f64,
    },
}

impl OmopError {
    /// The exit class an operator acts on.
    pub fn class(&self) -> ExitClass {
        match self {
            OmopError::OutputNotEmpty { .. } => ExitClass::Usage,
            OmopError::Write { .. } => ExitClass::Publication,
            _ => ExitClass::Input,
        }
    }
}

/// How to convert.
#[derive(Debug, Clone)]
pub struct ConvertOptions {
    /// A CDM table with more than this share of its rows rejected (bad
    /// input, not rule-based drops) stops the conversion.
    pub max_reject_fraction: f64,
}

impl Default for ConvertOptions {
    fn default() -> Self {
        ConvertOptions {
            max_reject_fraction: 0.05,
        }
    }
}

/// What happened to rows left out (or kept with a caveat).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueKind {
    /// Bad input (no person, unparseable date): counts towards the limit.
    Rejected,
    /// Left out by a documented rule (a visit type or code system the
    /// contract does not hold).
    Dropped,
    /// Kept, with a caveat (a code taken from the source value as given).
    Noted,
}

/// Rows of one CDM table with one issue.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IssueCount {
    pub table: String,
    pub kind: IssueKind,
    pub reason: String,
    pub count: u64,
    /// The first few, as `FILE row N` (data rows count from 1).
    pub first: Vec<String>,
}

/// What a conversion read, wrote and left out.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ConversionSummary {
    /// Rows read, by CDM table.
    pub read: BTreeMap<String, u64>,
    /// Rows written, by contract table.
    pub rows: BTreeMap<String, u64>,
    /// Rows with an issue, by table, kind and reason.
    pub issues: Vec<IssueCount>,
}

impl ConversionSummary {
    /// Rows of `table` rejected as bad input.
    pub fn rejected(&self, table: &str) -> u64 {
        self.issues
            .iter()
            .filter(|i| i.table == table && i.kind == IssueKind::Rejected)
            .map(|i| i.count)
            .sum()
    }

    /// Rows of `table` with `reason`.
    pub fn count(&self, table: &str, reason: &str) -> u64 {
        self.issues
            .iter()
            .filter(|i| i.table == table && i.reason == reason)
            .map(|i| i.count)
            .sum()
    }
}

/// True when `dir` looks like an OMOP CDM folder: `person` and
/// `visit_occurrence` files and no contract `patients` table.
pub fn is_cdm(dir: &Path) -> bool {
    locate::is_cdm(dir)
}

/// The columns of each contract table, in contract order.
fn names(t: &contract::TableSpec) -> Vec<Expr> {
    t.columns.iter().map(|c| col(c.name)).collect()
}

/// Issues found so far in one CDM table, keyed for a stable order.
#[derive(Default)]
struct Found {
    read: u64,
    map: BTreeMap<(IssueKind, String), (u64, Vec<String>)>,
}

impl Found {
    /// Counts the issues of a mapped batch (its [`KIND`], [`REASON`] and
    /// [`ROW`] columns).
    fn add(&mut self, df: &DataFrame, label: &str) -> PolarsResult<()> {
        self.read += df.height() as u64;
        let kinds = df.column(KIND)?.str()?;
        let reasons = df.column(REASON)?.str()?;
        let rows = df.column(ROW)?.u64()?;
        for ((kind, reason), row) in kinds.iter().zip(reasons.iter()).zip(rows.iter()) {
            let (Some(kind), Some(reason)) = (kind, reason) else {
                continue;
            };
            let kind = match kind {
                REJECTED => IssueKind::Rejected,
                DROPPED => IssueKind::Dropped,
                _ => IssueKind::Noted,
            };
            let entry = self.map.entry((kind, reason.to_string())).or_default();
            entry.0 += 1;
            if entry.1.len() < FIRST_LOCATIONS {
                entry.1.push(format!("{label} row {}", row.unwrap_or(0)));
            }
        }
        Ok(())
    }
}

/// The rows of a mapped batch that give a contract row.
fn kept(df: DataFrame) -> PolarsResult<DataFrame> {
    df.lazy()
        .filter(col(KIND).is_null().or(col(KIND).eq(lit(NOTED))))
        .collect()
}

/// Rows gathered from the streamed batches before a part is written.
const PART_ROWS: usize = 1 << 20;

/// One contract table's Parquet parts (`OUT/TABLE/part-00001.parquet`, …).
struct Parts {
    dir: PathBuf,
    columns: Vec<Expr>,
    next: u32,
    written: u64,
    /// Batches not yet written, and their rows.
    pending: Vec<DataFrame>,
    pending_rows: usize,
}

impl Parts {
    fn new(dir: PathBuf, columns: Vec<Expr>, next: u32) -> Parts {
        Parts {
            dir,
            columns,
            next,
            written: 0,
            pending: Vec::new(),
            pending_rows: 0,
        }
    }

    /// Adds a batch's kept rows; writes a part once enough are gathered.
    fn push(&mut self, df: DataFrame) -> Result<(), OmopError> {
        self.pending_rows += df.height();
        self.pending.push(df);
        if self.pending_rows >= PART_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the gathered rows as one part (nothing when there are none).
    fn flush(&mut self) -> Result<(), OmopError> {
        let mut pending = std::mem::take(&mut self.pending).into_iter();
        self.pending_rows = 0;
        let Some(mut all) = pending.next() else {
            return Ok(());
        };
        for df in pending {
            all.vstack_mut(&df).map_err(|e| OmopError::Write {
                path: self.dir.clone(),
                reason: e.to_string(),
            })?;
        }
        self.write(all)
    }

    fn write(&mut self, df: DataFrame) -> Result<(), OmopError> {
        let path = self.dir.join(format!("part-{:05}.parquet", self.next));
        let write_error = |reason: String| OmopError::Write {
            path: path.clone(),
            reason,
        };
        let mut df = df
            .lazy()
            .select(self.columns.clone())
            .collect()
            .map_err(|e| write_error(e.to_string()))?;
        if df.height() == 0 && self.next > 1 {
            return Ok(());
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| write_error(e.kind().to_string()))?;
        let file = std::fs::File::create(&path).map_err(|e| write_error(e.kind().to_string()))?;
        ParquetWriter::new(std::io::BufWriter::new(file))
            .with_compression(ParquetCompression::Zstd(None))
            .finish(&mut df)
            .map_err(|e| write_error(e.to_string()))?;
        self.next += 1;
        self.written += df.height() as u64;
        Ok(())
    }
}

/// What one streamed CDM table gave: its issues, its parts, and the first
/// write error (which stops the stream).
struct Stream {
    found: Found,
    parts: Parts,
    label: String,
    error: Option<OmopError>,
}

struct Converter {
    out: PathBuf,
    limit: f64,
    summary: ConversionSummary,
    /// The next part number of each contract table.
    parts: BTreeMap<&'static str, u32>,
}

impl Converter {
    fn unreadable(path: &Path) -> impl Fn(PolarsError) -> OmopError + '_ {
        move |e| OmopError::Unreadable {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
    }

    /// Records a table's issues and stops when too many rows were rejected.
    fn finish(&mut self, table: &str, found: Found) -> Result<(), OmopError> {
        *self.summary.read.entry(table.to_string()).or_default() += found.read;
        for ((kind, reason), (count, first)) in found.map {
            self.summary.issues.push(IssueCount {
                table: table.to_string(),
                kind,
                reason,
                count,
                first,
            });
        }
        self.check_rejections(table, found.read)
    }

    /// Collects a mapped plan of a small table (person, observation_period,
    /// death), counts its issues under `table` and returns the rows kept.
    fn collect(
        &mut self,
        table: &str,
        source: &Scanned,
        path: &Path,
        plan: LazyFrame,
    ) -> Result<DataFrame, OmopError> {
        let fail = Self::unreadable(path);
        let df = plan.collect().map_err(&fail)?;
        let mut found = Found::default();
        found.add(&df, &source.label).map_err(&fail)?;
        self.finish(table, found)?;
        kept(df).map_err(fail)
    }

    /// Streams a mapped plan of an event table in batches: each batch's
    /// issues are counted and its rows written as a Parquet part of `spec`
    /// (with `extra` columns), so no table is held whole in memory.
    fn stream(
        &mut self,
        table: &str,
        source: &Scanned,
        path: &Path,
        plan: LazyFrame,
        spec: &'static contract::TableSpec,
        extra: &[&str],
    ) -> Result<(), OmopError> {
        let mut columns = names(spec);
        columns.extend(extra.iter().map(|c| col(*c)));
        let state = Arc::new(Mutex::new(Stream {
            found: Found::default(),
            parts: Parts::new(
                self.out.join(spec.name),
                columns,
                self.parts.get(spec.name).copied().unwrap_or(1),
            ),
            label: source.label.clone(),
            error: None,
        }));
        let shared = Arc::clone(&state);
        let empty = plan.clone().limit(0);
        let sink = plan
            .sink_batches(
                PlanCallback::new(move |batch: DataFrame| {
                    let mut s = shared
                        .lock()
                        .map_err(|_| polars_err!(ComputeError: "an OMOP pass panicked"))?;
                    let label = s.label.clone();
                    s.found.add(&batch, &label)?;
                    if let Err(e) = s.parts.push(kept(batch)?) {
                        s.error = Some(e);
                        return Err(polars_err!(ComputeError: "writing a part failed"));
                    }
                    Ok(false)
                }),
                true,
                None,
            )
            .map_err(Self::unreadable(path))?;
        let ran = sink.collect_with_engine(Engine::Streaming);
        let mut s = state.lock().map_err(|_| OmopError::Unreadable {
            path: path.to_path_buf(),
            reason: "an OMOP pass panicked".to_string(),
        })?;
        if let Some(e) = s.error.take() {
            return Err(e);
        }
        ran.map_err(Self::unreadable(path))?;
        s.parts.flush()?;
        // A table with no rows at all still gets its (empty) first part, so
        // ingest names the real problem rather than a missing table.
        if s.parts.next == 1 {
            let empty = empty.collect().map_err(Self::unreadable(path))?;
            let empty = kept(empty).map_err(Self::unreadable(path))?;
            s.parts.write(empty)?;
        }
        self.parts.insert(spec.name, s.parts.next);
        *self.summary.rows.entry(spec.name.to_string()).or_default() += s.parts.written;
        let found = std::mem::take(&mut s.found);
        drop(s);
        self.finish(table, found)
    }

    fn check_rejections(&self, table: &str, read: u64) -> Result<(), OmopError> {
        let rejected = self.summary.rejected(table);
        if read == 0 || rejected as f64 <= self.limit * read as f64 {
            return Ok(());
        }
        let worst = self
            .summary
            .issues
            .iter()
            .filter(|i| i.table == table && i.kind == IssueKind::Rejected)
            .max_by_key(|i| i.count);
        Err(OmopError::TooManyRejected {
            table: table.to_string(),
            reason: worst.map(|i| i.reason.clone()).unwrap_or_default(),
            first: worst.map(|i| i.first.join(", ")).unwrap_or_default(),
            rejected,
            read,
            limit_percent: self.limit * 100.0,
        })
    }

    /// Writes the patients (held in memory: one row per person).
    fn write_patients(&mut self, df: DataFrame) -> Result<(), OmopError> {
        let mut parts = Parts::new(self.out.join(PATIENTS.name), names(&PATIENTS), 1);
        parts.write(df)?;
        *self
            .summary
            .rows
            .entry(PATIENTS.name.to_string())
            .or_default() += parts.written;
        Ok(())
    }
}

/// Converts the CDM folder `input` into a contract extract in `out` (created
/// if absent; must be empty), returning what was read, written and left out.
pub fn convert(
    input: &Path,
    out: &Path,
    options: &ConvertOptions,
) -> Result<ConversionSummary, OmopError> {
    let files = locate::find(input)?;
    for table in ["person", "visit_occurrence"] {
        if !files.contains_key(table) {
            return Err(OmopError::MissingTable {
                dir: input.to_path_buf(),
                table,
            });
        }
    }
    prepare_out(out)?;
    let mut scanned: BTreeMap<&str, (Scanned, PathBuf)> = BTreeMap::new();
    for table in locate::TABLES {
        if let Some(path) = files.get(*table) {
            scanned.insert(table, (locate::scan(path)?, path.clone()));
        }
    }
    let get = |t: &str| scanned.get(t).map(|(s, _)| s);
    let mut conv = Converter {
        out: out.to_path_buf(),
        limit: options.max_reject_fraction,
        summary: ConversionSummary::default(),
        parts: BTreeMap::new(),
    };
    let concepts = get("concept").map(map::concepts);
    // The lookup tables are read through joins: count their rows here.
    for table in ["concept", "location", "care_site", "cost"] {
        if let Some((t, path)) = scanned.get(table) {
            let n =
                t.lf.clone()
                    .select([len().alias("n")])
                    .collect()
                    .and_then(|df| Ok(df.column("n")?.u32()?.get(0).unwrap_or(0)))
                    .map_err(Converter::unreadable(path))?;
            conv.summary.read.insert(table.to_string(), u64::from(n));
        }
    }

    // People first: every other table is checked against them.
    let (person, person_path) = &scanned["person"];
    let people = conv.collect(
        "person",
        person,
        person_path,
        map::person(person, get("location"), get("care_site")),
    )?;
    let mut people = nhs_numbers_checked(people, &mut conv.summary, &person.label)
        .map_err(Converter::unreadable(person_path))?;
    let known = people.clone().lazy().select([col("person_id")]);

    // Registration: the earliest observation period start (else birth).
    let registered = match scanned.get("observation_period") {
        Some((t, path)) => {
            let plan = map::observation_period(t, &known);
            let df = conv.collect("observation_period", t, path, plan)?;
            Some(
                df.lazy()
                    .group_by([col("person_id")])
                    .agg([col("registered_from").min()]),
            )
        }
        None => None,
    };
    let deaths = match scanned.get("death") {
        Some((t, path)) => {
            let plan = map::death(t, &known);
            let df = conv.collect("death", t, path, plan)?;
            Some(
                df.lazy()
                    .group_by([col("person_id")])
                    .agg([col("date_of_death").min()]),
            )
        }
        None => None,
    };
    let mut lf = people.lazy();
    lf = match registered {
        Some(r) => lf.join(r, [col("person_id")], [col("person_id")], map::left_join()),
        None => lf.with_column(lit(NULL).cast(DataType::Date).alias("registered_from")),
    };
    lf = match deaths {
        Some(d) => lf.join(d, [col("person_id")], [col("person_id")], map::left_join()),
        None => lf.with_column(lit(NULL).cast(DataType::Date).alias("date_of_death")),
    };
    people = lf.collect().map_err(Converter::unreadable(person_path))?;
    let unregistered = people
        .column("registered_from")
        .map(|c| c.null_count() as u64)
        .unwrap_or(0);
    if unregistered > 0 {
        conv.summary.issues.push(IssueCount {
            table: "person".to_string(),
            kind: IssueKind::Noted,
            reason: "no observation_period: registered from birth".to_string(),
            count: unregistered,
            first: Vec::new(),
        });
    }
    people = people
        .lazy()
        .with_column(col("registered_from").fill_null(col("date_of_birth")))
        .collect()
        .map_err(Converter::unreadable(person_path))?;
    conv.write_patients(people)?;

    let (visits, visit_path) = &scanned["visit_occurrence"];
    let plan = map::visits(visits, &known, get("cost"));
    conv.stream(
        "visit_occurrence",
        visits,
        visit_path,
        plan,
        &ENCOUNTERS,
        &[],
    )?;
    if let Some((t, path)) = scanned.get("condition_occurrence") {
        let plan = map::conditions(t, &known, concepts.as_ref());
        conv.stream("condition_occurrence", t, path, plan, &DIAGNOSES, &[])?;
    }
    if let Some((t, path)) = scanned.get("drug_exposure") {
        let plan = map::drugs(t, &known, concepts.as_ref());
        conv.stream("drug_exposure", t, path, plan, &MEDICATIONS, &[])?;
    }
    for domain in ["measurement", "observation"] {
        if let Some((t, path)) = scanned.get(domain) {
            let plan = map::measurements(t, domain, &known, concepts.as_ref());
            conv.stream(domain, t, path, plan, &OBSERVATIONS, &[])?;
        }
    }
    let summary = conv.summary;
    let report = out.join("omop_conversion.json");
    let json = serde_json::to_vec_pretty(&summary).map_err(|e| OmopError::Write {
        path: report.clone(),
        reason: e.to_string(),
    })?;
    std::fs::write(&report, json).map_err(|e| OmopError::Write {
        path: report.clone(),
        reason: e.kind().to_string(),
    })?;
    Ok(summary)
}

/// Keeps `person_source_value` as the NHS number only when it passes the
/// Modulus 11 check (counted otherwise: the person is kept without one).
fn nhs_numbers_checked(
    people: DataFrame,
    summary: &mut ConversionSummary,
    label: &str,
) -> PolarsResult<DataFrame> {
    let nhs = people.column("nhs_number")?.str()?;
    let rows = people.column(ROW)?.u64()?;
    let mut bad = 0u64;
    let mut first = Vec::new();
    let checked: StringChunked = nhs
        .iter()
        .zip(rows.iter())
        .map(|(v, row)| match v {
            Some(v) if contract::nhs_number_is_valid(v) => Some(v.to_string()),
            Some(_) => {
                bad += 1;
                if first.len() < FIRST_LOCATIONS {
                    first.push(format!("{label} row {}", row.unwrap_or(0)));
                }
                None
            }
            None => None,
        })
        .collect();
    if bad > 0 {
        summary.issues.push(IssueCount {
            table: "person".to_string(),
            kind: IssueKind::Noted,
            reason:
                "person_source_value is ten digits but not a valid NHS number: kept without one"
                    .to_string(),
            count: bad,
            first,
        });
    }
    let mut people = people;
    people.with_column(checked.with_name("nhs_number".into()).into_column())?;
    Ok(people)
}

fn prepare_out(out: &Path) -> Result<(), OmopError> {
    let write_error = |e: std::io::Error| OmopError::Write {
        path: out.to_path_buf(),
        reason: e.kind().to_string(),
    };
    if out.exists() {
        let mut entries = std::fs::read_dir(out).map_err(write_error)?;
        if entries.next().is_some() {
            return Err(OmopError::OutputNotEmpty {
                dir: out.to_path_buf(),
            });
        }
    }
    std::fs::create_dir_all(out).map_err(write_error)
}

#[cfg(test)]
mod tests;
