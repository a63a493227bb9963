//! FHIR R4 Bulk Data exports (UK Core) converted into the contract's tables.
//!
//! A `$export` folder (`*.ndjson`, `*.ndjson.gz`, optionally a manifest) is
//! read file by file in chunks of lines, never a whole file at once; each
//! chunk's lines are parsed in parallel (rayon) into small borrowed structs
//! (`resource`), mapped to contract rows (`map`, documented in
//! `docs/fhir.md`) and written as one Parquet part per table
//! (`OUT/patients/part-00001.parquet`, …). The normal ingest then validates
//! and loads that folder, so every contract check applies to FHIR input too.
//!
//! Order: Organizations first (to resolve `Patient.generalPractitioner`),
//! then Patients (to know which people exist), then everything else.
//!
//! Never logs or reports a value from a resource: problems are named by
//! resource type, reason, file and line.

pub mod export;
pub mod frames;
pub mod locate;
pub mod lookup;
pub mod map;
pub mod resource;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use rayon::prelude::*;

use crate::error::ExitClass;
use map::{Context, Issue, IssueKind, Kind, Lookups, Rows};

/// Bytes of lines read before a chunk is parsed and written.
const CHUNK_BYTES: usize = 16 << 20;
/// Lines per parallel task within a chunk.
const LINES_PER_TASK: usize = 1024;
/// Locations kept per (resource type, reason).
const FIRST_LOCATIONS: usize = 5;

/// Errors reading an export or writing its contract extract.
#[derive(Debug, thiserror::Error)]
pub enum FhirError {
    #[error(
        "{dir}: no FHIR bulk export found (expected *.ndjson or *.ndjson.gz files, or an $export manifest with an `output` list)"
    )]
    NoExport { dir: PathBuf },
    #[error("{manifest}: lists `{file}` ({resource_type}), which is not in the export folder")]
    ManifestFileMissing {
        manifest: PathBuf,
        file: String,
        resource_type: String,
    },
    #[error("{path}: cannot be read: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("lookup {path}: {reason}")]
    Lookup { path: PathBuf, reason: String },
    #[error("{dir}: the output folder is not empty; give a new or empty folder")]
    OutputNotEmpty { dir: PathBuf },
    #[error("{path}: writing failed: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error(
        "{resource_type}: {rejected} of {read} resources rejected ({reason}; first at {first}), more than the allowed {limit_percent}%"
    )]
    TooManyRejected {
        resource_type: String,
        reason: String,
        first: String,
        rejected: u64,
        read: u64,
        limit_percent: f64,
    },
}

impl FhirError {
    /// The exit class an operator acts on.
    pub fn class(&self) -> ExitClass {
        match self {
            FhirError::OutputNotEmpty { .. } => ExitClass::Usage,
            FhirError::Write { .. } => ExitClass::Publication,
            _ => ExitClass::Input,
        }
    }
}

/// How to convert: the user's lookups and the rejection limit.
#[derive(Debug, Clone)]
pub struct ConvertOptions {
    pub postcode_lsoa: Option<PathBuf>,
    pub practice_pcn: Option<PathBuf>,
    pub dmd_bnf: Option<PathBuf>,
    /// Opt-out list (person_id or nhs_number, opt_out_national, opt_out_type1).
    pub opt_outs: Option<PathBuf>,
    /// A resource type with more than this share of its resources rejected
    /// (bad input, not rule-based drops) stops the conversion.
    pub max_reject_fraction: f64,
}

impl Default for ConvertOptions {
    fn default() -> Self {
        ConvertOptions {
            postcode_lsoa: None,
            practice_pcn: None,
            dmd_bnf: None,
            opt_outs: None,
            max_reject_fraction: 0.05,
        }
    }
}

/// Resources of one type that gave no row for one reason.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IssueCount {
    pub resource_type: String,
    pub kind: IssueKind,
    pub reason: String,
    pub count: u64,
    /// The first few, as `FILE line N` (lines count from 1).
    pub first: Vec<String>,
}

/// What a conversion read, wrote and left out.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ConversionSummary {
    /// Resources read, by resource type (mapped types only).
    pub resources: BTreeMap<String, u64>,
    /// Rows written, by contract table.
    pub rows: BTreeMap<String, u64>,
    /// Resources of types strata does not map, by type (skipped).
    pub skipped: BTreeMap<String, u64>,
    /// Resources that gave no row, by type, kind and reason.
    pub issues: Vec<IssueCount>,
}

impl ConversionSummary {
    /// Resources of `resource_type` rejected as bad input.
    pub fn rejected(&self, resource_type: &str) -> u64 {
        self.issues
            .iter()
            .filter(|i| i.resource_type == resource_type && i.kind == IssueKind::Rejected)
            .map(|i| i.count)
            .sum()
    }

    /// Resources of `resource_type` left out by `reason`.
    pub fn count(&self, resource_type: &str, reason: &str) -> u64 {
        self.issues
            .iter()
            .filter(|i| i.resource_type == resource_type && i.reason == reason)
            .map(|i| i.count)
            .sum()
    }
}

/// True when `dir` looks like a FHIR bulk export (NDJSON files or a manifest).
pub fn is_export(dir: &Path) -> bool {
    locate::is_export(dir)
}

/// An Organization line: its id and ODS code, nothing, or why not.
type OrganizationLine = Result<Option<(String, String)>, Issue>;
/// One parallel task's rows, issues (with line numbers) and resources read.
type TaskResult = (Rows, Vec<(u64, Issue)>, u64);

/// Issues found so far, keyed for a stable order.
#[derive(Default)]
struct Issues {
    map: BTreeMap<(String, IssueKind, &'static str), (u64, Vec<String>)>,
}

impl Issues {
    fn add(&mut self, kind: Kind, file: &str, line: u64, issue: Issue) {
        let entry = self
            .map
            .entry((kind.name().to_string(), issue.kind, issue.reason))
            .or_default();
        entry.0 += 1;
        if entry.1.len() < FIRST_LOCATIONS {
            entry.1.push(format!("{file} line {line}"));
        }
    }

    fn into_counts(self) -> Vec<IssueCount> {
        self.map
            .into_iter()
            .map(
                |((resource_type, kind, reason), (count, first))| IssueCount {
                    resource_type,
                    kind,
                    reason: reason.to_string(),
                    count,
                    first,
                },
            )
            .collect()
    }
}

/// Writes each table's parts into `out`.
struct PartWriter {
    out: PathBuf,
    parts: BTreeMap<&'static str, u32>,
    rows: BTreeMap<String, u64>,
}

impl PartWriter {
    fn write(&mut self, table: &'static str, mut df: DataFrame) -> Result<(), FhirError> {
        let dir = self.out.join(table);
        let n = self.parts.entry(table).or_insert(0);
        *n += 1;
        let path = dir.join(format!("part-{n:05}.parquet"));
        let write_error = |reason: String| FhirError::Write {
            path: path.clone(),
            reason,
        };
        std::fs::create_dir_all(&dir).map_err(|e| write_error(e.kind().to_string()))?;
        let file = std::fs::File::create(&path).map_err(|e| write_error(e.kind().to_string()))?;
        ParquetWriter::new(std::io::BufWriter::new(file))
            .with_compression(ParquetCompression::Zstd(None))
            .finish(&mut df)
            .map_err(|e| write_error(e.to_string()))?;
        *self.rows.entry(table.to_string()).or_default() += df.height() as u64;
        Ok(())
    }

    fn write_rows(&mut self, rows: Rows) -> Result<(), FhirError> {
        let frames = rows.frames().map_err(|e| FhirError::Write {
            path: self.out.clone(),
            reason: e.to_string(),
        })?;
        for (table, df) in frames {
            self.write(table, df)?;
        }
        Ok(())
    }
}

/// One chunk of whole lines: the bytes, and each line's `(line number, start,
/// end)` with its line ending removed.
struct Chunk {
    buf: Vec<u8>,
    spans: Vec<(u64, usize, usize)>,
}

/// Reads `path` in chunks of whole lines and hands each chunk to `f` as the
/// buffer and its lines' `(line number, start, end)` (line ending removed).
///
/// Reading (and gunzipping) runs on its own thread, one chunk ahead of `f`,
/// so the parse of one chunk overlaps the read of the next: on two cores a
/// serial read left one core idle while the other read. At most two chunks
/// are held at once; when `f` fails, the reader stops at its next send.
fn for_each_chunk(
    path: &Path,
    mut f: impl FnMut(&[u8], &[(u64, usize, usize)]) -> Result<(), FhirError>,
) -> Result<(), FhirError> {
    let reader = locate::open(path)?;
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Chunk, FhirError>>(1);
        scope.spawn(move || read_chunks(path, reader, &tx));
        for chunk in rx {
            let chunk = chunk?;
            f(&chunk.buf, &chunk.spans)?;
        }
        Ok(())
    })
}

/// The reading side of [`for_each_chunk`]: sends chunks until the file ends,
/// a read fails (sent as the error) or the receiver has gone.
fn read_chunks(
    path: &Path,
    mut reader: Box<dyn std::io::BufRead + Send>,
    tx: &std::sync::mpsc::SyncSender<Result<Chunk, FhirError>>,
) {
    let mut line_no = 0u64;
    loop {
        let mut buf = Vec::with_capacity(CHUNK_BYTES + (1 << 16));
        let mut spans = Vec::new();
        while buf.len() < CHUNK_BYTES {
            let start = buf.len();
            let n = match reader.read_until(b'\n', &mut buf) {
                Ok(n) => n,
                Err(e) => {
                    let _ = tx.send(Err(FhirError::Unreadable {
                        path: path.to_path_buf(),
                        reason: format!("after line {line_no}: {e}"),
                    }));
                    return;
                }
            };
            if n == 0 {
                break;
            }
            line_no += 1;
            let mut start = start;
            // A UTF-8 byte-order mark some tools write at the top of a file.
            if line_no == 1 && buf[start..].starts_with(b"\xEF\xBB\xBF") {
                start += 3;
            }
            let mut end = buf.len();
            while end > start && matches!(buf[end - 1], b'\n' | b'\r') {
                end -= 1;
            }
            spans.push((line_no, start, end));
        }
        if spans.is_empty() || tx.send(Ok(Chunk { buf, spans })).is_err() {
            return;
        }
    }
}

fn file_label(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Converts the export in `input` into a contract extract in `out` (created
/// if absent; must be empty), returning what was read, written and left out.
pub fn convert(
    input: &Path,
    out: &Path,
    options: &ConvertOptions,
) -> Result<ConversionSummary, FhirError> {
    let files = locate::locate(input)?;
    prepare_out(out)?;
    let lookups = Lookups {
        postcode_lsoa: options
            .postcode_lsoa
            .as_deref()
            .map(lookup::postcode_lsoa)
            .transpose()?,
        practice_pcn: options
            .practice_pcn
            .as_deref()
            .map(lookup::practice_pcn)
            .transpose()?,
        dmd_bnf: options
            .dmd_bnf
            .as_deref()
            .map(lookup::dmd_bnf)
            .transpose()?,
        opt_outs: options
            .opt_outs
            .as_deref()
            .map(lookup::opt_outs)
            .transpose()?,
    };

    // Each file's type: manifest or name, else its first line.
    let mut typed: Vec<(Option<Kind>, String, PathBuf)> = Vec::new();
    for f in files {
        let ty = match f.resource_type {
            Some(t) => Some(t),
            None => locate::first_resource_type(&f.path)?,
        };
        let ty = ty.unwrap_or_else(|| "(unknown)".to_string());
        typed.push((Kind::from_name(&ty), ty, f.path));
    }

    let mut summary = ConversionSummary::default();
    let mut issues = Issues::default();
    let writer = PartWriter {
        out: out.to_path_buf(),
        parts: BTreeMap::new(),
        rows: BTreeMap::new(),
    };

    // Types strata does not map: counted, not parsed.
    for (_, ty, path) in typed.iter().filter(|(k, _, _)| k.is_none()) {
        let mut lines = 0u64;
        for_each_chunk(path, |buf, spans| {
            lines += spans
                .iter()
                .filter(|&&(_, s, e)| !buf[s..e].trim_ascii().is_empty())
                .count() as u64;
            Ok(())
        })?;
        *summary.skipped.entry(ty.clone()).or_default() += lines;
    }

    // Pass 1: Organizations → id → ODS code.
    let mut organizations: HashMap<String, String> = HashMap::new();
    for (_, _, path) in typed
        .iter()
        .filter(|(k, _, _)| *k == Some(Kind::Organization))
    {
        let label = file_label(path);
        for_each_chunk(path, |buf, spans| {
            let results: Vec<(u64, OrganizationLine)> = spans
                .par_iter()
                .filter(|&&(_, s, e)| !buf[s..e].trim_ascii().is_empty())
                .map(|&(no, s, e)| (no, map::organization(&buf[s..e])))
                .collect();
            for (no, r) in results {
                *summary.resources.entry("Organization".into()).or_default() += 1;
                match r {
                    Ok(Some((id, ods))) => {
                        organizations.insert(id, ods);
                    }
                    Ok(None) => {}
                    Err(issue) => issues.add(Kind::Organization, &label, no, issue),
                }
            }
            Ok(())
        })?;
    }

    // Pass 2: Patients; pass 3: everything else, checked against them.
    // Parquet is written on its own thread while the next chunk is parsed.
    let mut writer = std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Rows>(1);
        let writing = scope.spawn(move || {
            let mut writer = writer;
            rx.iter()
                .try_for_each(|rows| writer.write_rows(rows))
                .map(|()| writer)
        });
        let mapped = map_resources(
            &typed,
            &lookups,
            &organizations,
            &mut summary,
            &mut issues,
            &|rows| tx.send(rows).map_err(|_| writer_stopped(out)),
        );
        drop(tx);
        // A failed write stops the writer, and then every send: its own
        // error is the one to report.
        let writer = writing
            .join()
            .unwrap_or_else(|_| Err(writer_stopped(out)))?;
        mapped.map(|()| writer)
    })?;

    // The required tables exist even when empty, so ingest names the real
    // problem ("no usable rows") rather than a missing file.
    for table in [
        crate::contract::PATIENTS.name,
        crate::contract::ENCOUNTERS.name,
    ] {
        if !writer.parts.contains_key(table) {
            let df = frames::empty(table).map_err(|e| FhirError::Write {
                path: out.join(table),
                reason: e.to_string(),
            })?;
            writer.write(table, df)?;
        }
    }

    summary.rows = writer.rows;
    summary.issues = issues.into_counts();
    check_rejections(&summary, options.max_reject_fraction)?;
    let json = serde_json::to_string_pretty(&summary).unwrap_or_default();
    let path = out.join("fhir_conversion.json");
    std::fs::write(&path, json + "\n").map_err(|e| FhirError::Write {
        path,
        reason: e.kind().to_string(),
    })?;
    tracing::info!(
        resources = summary.resources.values().sum::<u64>(),
        skipped = summary.skipped.values().sum::<u64>(),
        "FHIR export converted"
    );
    Ok(summary)
}

/// Passes 2 and 3 of [`convert`]: every Patient, then every other mapped
/// resource checked against those patients; each chunk's contract rows go
/// to `send` in file order.
fn map_resources(
    typed: &[(Option<Kind>, String, PathBuf)],
    lookups: &Lookups,
    organizations: &HashMap<String, String>,
    summary: &mut ConversionSummary,
    issues: &mut Issues,
    send: &dyn Fn(Rows) -> Result<(), FhirError>,
) -> Result<(), FhirError> {
    let mut people: HashSet<String> = HashSet::new();
    for pass_patients in [true, false] {
        let ctx = Context {
            lookups,
            organizations,
            patients: (!pass_patients).then_some(&people),
        };
        let mut new_people = Vec::new();
        for (kind, _, path) in typed.iter().filter(|(k, _, _)| match k {
            Some(Kind::Patient) => pass_patients,
            Some(Kind::Organization) | None => false,
            Some(_) => !pass_patients,
        }) {
            let kind = kind.unwrap_or(Kind::Patient);
            let label = file_label(path);
            for_each_chunk(path, |buf, spans| {
                let parts: Vec<TaskResult> = spans
                    .par_chunks(LINES_PER_TASK)
                    .map(|task| {
                        let mut rows = Rows::default();
                        let mut found = Vec::new();
                        let mut read = 0u64;
                        for &(no, s, e) in task {
                            let line = &buf[s..e];
                            if line.trim_ascii().is_empty() {
                                continue;
                            }
                            read += 1;
                            if let Err(issue) = map::map_line(kind, line, &ctx, &mut rows) {
                                found.push((no, issue));
                            }
                        }
                        (rows, found, read)
                    })
                    .collect();
                let mut rows = Rows::default();
                for (part, found, read) in parts {
                    rows.append(part);
                    *summary.resources.entry(kind.name().into()).or_default() += read;
                    for (no, issue) in found {
                        issues.add(kind, &label, no, issue);
                    }
                }
                if pass_patients {
                    new_people.extend(rows.patients.person_id.iter().cloned());
                }
                send(rows)
            })?;
        }
        people.extend(new_people);
    }
    Ok(())
}

/// The error of a send after the Parquet writer has stopped (its own error
/// is reported instead when it has one).
fn writer_stopped(out: &Path) -> FhirError {
    FhirError::Write {
        path: out.to_path_buf(),
        reason: "the Parquet writer stopped".to_string(),
    }
}

fn prepare_out(out: &Path) -> Result<(), FhirError> {
    let write_error = |e: std::io::Error| FhirError::Write {
        path: out.to_path_buf(),
        reason: e.kind().to_string(),
    };
    if out.exists() {
        let mut entries = std::fs::read_dir(out).map_err(write_error)?;
        if entries.next().is_some() {
            return Err(FhirError::OutputNotEmpty {
                dir: out.to_path_buf(),
            });
        }
    }
    std::fs::create_dir_all(out).map_err(write_error)
}

/// Stops when a resource type's rejected share is above the limit.
fn check_rejections(summary: &ConversionSummary, limit: f64) -> Result<(), FhirError> {
    // In reading order: a rejected Patient takes its events with it, so the
    // Patients' problem is the one to report.
    let mut types: Vec<(&String, u64)> = summary.resources.iter().map(|(t, &n)| (t, n)).collect();
    types.sort_by_key(|(t, _)| Kind::from_name(t));
    for (ty, read) in types {
        let rejected = summary.rejected(ty);
        if read > 0 && rejected as f64 > limit * read as f64 {
            let worst = summary
                .issues
                .iter()
                .filter(|i| &i.resource_type == ty && i.kind == IssueKind::Rejected)
                .max_by_key(|i| i.count);
            return Err(FhirError::TooManyRejected {
                resource_type: ty.clone(),
                reason: worst.map(|i| i.reason.clone()).unwrap_or_default(),
                first: worst.map(|i| i.first.join(", ")).unwrap_or_default(),
                rejected,
                read,
                limit_percent: limit * 100.0,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
