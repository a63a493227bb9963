//! Synthetic combined extracts with known ground truth (issue 3).
//!
//! `generate` writes one file per contract table (`patients`, `encounters`,
//! `diagnoses`, `medications`, `observations`, `social_care`, `lsoa_imd`),
//! plus `truth.parquet` (the 12 months after the as-of date, not part of the
//! extract) and `generation-report.json` (achieved versus target figures).
//!
//! How it is built:
//! - people are generated in fixed chunks of `CHUNK` people; each person
//!   draws from their own ChaCha8 stream seeded by (seed, person index), so
//!   the output does not depend on threads or chunking;
//! - chunks are generated in parallel with rayon, a wave at a time, and
//!   handed in order to one writer thread per table (memory is bounded by
//!   the wave, not by N);
//! - the model and its published sources are in docs/synthetic-data.md.
//!
//! Never logs a person identifier.

mod activity;
mod care;
mod catalogue;
mod dirty;
mod events;
mod frames;
mod hazard;
mod ids;
mod output;
mod population;
mod reference;
mod report;

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{Months, NaiveDate};
use polars::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

pub use dirty::Injected;
pub use report::{Compare, Realism, TruthSummary};

/// File format of a generated extract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Parquet,
    Csv,
}

/// What `strata generate` was asked for.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub patients: u64,
    pub seed: u64,
    pub out: PathBuf,
    pub format: Format,
    pub as_of: NaiveDate,
    pub years: u32,
    pub dirty_rate: f64,
    pub icb: String,
    /// A simulated effect of acting on a risk list (`--intervention-effect`);
    /// `None` for none.
    pub intervention: Option<Intervention>,
}

/// A known effect for `strata impact` to recover: from the day after `date`,
/// each emergency admission of a `flagged` person is prevented with
/// probability `effect`, which is a relative reduction `effect` of their
/// emergency-admission hazard (thinning a Poisson process keeps it Poisson,
/// at the reduced rate). Who is flagged is decided outside the generator
/// (the CLI scores a first, unaltered generation with a model and reads its
/// flag history), because only a model run knows who it would flag.
///
/// A prevented admission leaves no rows (no encounters, no diagnoses) but
/// is still drawn: the person's random stream, the prior-admission term of
/// their later hazard and their social care follow the unaltered path. So
/// everything up to `date`, and everything after it except the prevented
/// admissions, is identical to the generation without the effect, and a run
/// at `date` flags exactly the same people. The truth file's risk of a
/// flagged person is the reduced one when the as-of date is after `date`.
#[derive(Debug, Clone)]
pub struct Intervention {
    /// The run date at which people were flagged.
    pub date: NaiveDate,
    /// Relative reduction of the hazard, in [0, 1].
    pub effect: f64,
    /// Person ids (as written in `patients.person_id`) flagged at `date`.
    pub flagged: std::sync::Arc<std::collections::BTreeSet<String>>,
}
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("--patients must be from 1 to {max}; got {got}")]
    PatientCount { got: u64, max: u64 },
    #[error("--years must be from 1 to 20; got {got}")]
    Years { got: u32 },
    #[error("--dirty must be a rate from 0 to 0.5; got {got}")]
    DirtyRate { got: f64 },
    #[error("--intervention-effect must be a relative reduction from 0 to 1; got {got}")]
    InterventionEffect { got: f64 },
    #[error("--intervention-date {date} is outside the history ({start} to {as_of})")]
    InterventionDate {
        date: NaiveDate,
        start: NaiveDate,
        as_of: NaiveDate,
    },
    #[error("--as-of {as_of} with --years {years} gives a history before 1900")]
    AsOf { as_of: NaiveDate, years: u32 },
    #[error("ICB code `{icb}` is not in reference/lsoa21_icb24.csv; known codes: {known}")]
    UnknownIcb { icb: String, known: String },
    #[error("LSOA {lsoa} has no IMD 2025 decile in reference/imd2025_lsoa21.csv")]
    MissingImd { lsoa: String },
    #[error("{file}, line {line}: expected {expected}")]
    Reference {
        file: &'static str,
        line: usize,
        expected: &'static str,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Polars { path: PathBuf, source: PolarsError },
    #[error("building a chunk of {table}: {source}")]
    Frame {
        table: &'static str,
        source: PolarsError,
    },
    #[error("{}: the writer stopped before all chunks were written", path.display())]
    WriterStopped { path: PathBuf },
    #[error("{}: could not write the report: {source}", path.display())]
    Report {
        path: PathBuf,
        source: serde_json::Error,
    },
}

impl SynthError {
    /// The exit class an operator acts on: the generator's failures are not
    /// about a user's extract, so they are internal.
    pub fn class(&self) -> crate::error::ExitClass {
        crate::error::ExitClass::Internal
    }
}

/// A summary of what was generated; also written as `generation-report.json`.
/// It holds counts only, never a person's values, and no timings (so the
/// file is identical between runs with the same arguments).
#[derive(Debug, Clone, serde::Serialize)]
pub struct GenerationReport {
    pub generator: String,
    pub seed: u64,
    pub patients: u64,
    pub format: String,
    pub as_of: NaiveDate,
    pub history_start: NaiveDate,
    pub years: u32,
    pub icb: String,
    pub lsoas: usize,
    pub practices: usize,
    pub pcns: usize,
    pub dirty_rate: f64,
    /// Files written, relative to the output folder.
    pub files: Vec<String>,
    /// Rows per file stem.
    pub rows: BTreeMap<String, u64>,
    pub realism: Realism,
    pub truth: TruthSummary,
    /// Data-quality problems injected by `--dirty`, by kind and table.
    pub injected: Injected,
    pub notes: Vec<String>,
}

impl GenerationReport {
    /// A few lines for a terminal: size, rates and the oracle AUC.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "generated {} people (seed {}, ICB {}, as of {}, {} years) into {} files\n",
            self.patients,
            self.seed,
            self.icb,
            self.as_of,
            self.years,
            self.files.len()
        );
        for (name, n) in &self.rows {
            s.push_str(&format!("  {name}: {n} rows\n"));
        }
        for c in &self.realism.per_1000_per_year {
            s.push_str(&format!(
                "  {} per 1,000 per year: {:.1} (target {:.0})\n",
                c.name, c.achieved, c.target
            ));
        }
        if let Some(auc) = self.truth.oracle_auc {
            s.push_str(&format!("  oracle AUC of true 12-month risk: {auc:.3}\n"));
        }
        if self.injected.total > 0 {
            s.push_str(&format!(
                "  injected data-quality problems: {}\n",
                self.injected.total
            ));
        }
        s
    }
}

/// People per chunk: fixed, so output never depends on scheduling.
const CHUNK: u64 = 4096;
/// Encounter ids pack the person index in 28 bits.
const MAX_PATIENTS: u64 = 1 << 28;
const EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(1970, 1, 1) {
    Some(d) => d,
    None => panic!("1970-01-01 is a date"),
};

/// Days since 1970-01-01 (Polars' Date representation).
fn to_days(d: NaiveDate) -> i32 {
    (d - EPOCH).num_days() as i32
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// An independent random stream for (seed, purpose, index).
fn derive_rng(seed: u64, tag: &[u8], index: u64) -> ChaCha8Rng {
    let mut h = blake3::Hasher::new();
    h.update(b"strata-synth/1");
    h.update(&seed.to_le_bytes());
    h.update(tag);
    h.update(&index.to_le_bytes());
    ChaCha8Rng::from_seed(*h.finalize().as_bytes())
}

/// A keyed 64-bit value for (seed, purpose).
fn derive_key(seed: u64, tag: &[u8]) -> u64 {
    use rand::RngCore;
    derive_rng(seed, tag, 0).next_u64()
}

/// Everything fixed for a run, shared read-only by all chunks.
struct Run {
    opts: GenerateOptions,
    as_of: i32,
    h0: i32,
    area: reference::Area,
    practices: Vec<population::Practice>,
    model: population::PopulationModel,
    nhs: ids::NhsNumbers,
    person_key: u64,
    encounter_key: u64,
}

fn check_options(opts: &GenerateOptions) -> Result<NaiveDate, SynthError> {
    if opts.patients == 0 || opts.patients > MAX_PATIENTS {
        return Err(SynthError::PatientCount {
            got: opts.patients,
            max: MAX_PATIENTS,
        });
    }
    if !(1..=20).contains(&opts.years) {
        return Err(SynthError::Years { got: opts.years });
    }
    if !(0.0..=0.5).contains(&opts.dirty_rate) {
        return Err(SynthError::DirtyRate {
            got: opts.dirty_rate,
        });
    }
    let start = opts
        .as_of
        .checked_sub_months(Months::new(12 * opts.years))
        .and_then(|d| d.succ_opt())
        .filter(|d| *d >= NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN))
        .ok_or(SynthError::AsOf {
            as_of: opts.as_of,
            years: opts.years,
        })?;
    if let Some(iv) = &opts.intervention {
        if !(0.0..=1.0).contains(&iv.effect) {
            return Err(SynthError::InterventionEffect { got: iv.effect });
        }
        if iv.date < start || iv.date > opts.as_of {
            return Err(SynthError::InterventionDate {
                date: iv.date,
                start,
                as_of: opts.as_of,
            });
        }
    }
    Ok(start)
}

impl Run {
    fn new(opts: &GenerateOptions) -> Result<Run, SynthError> {
        let start = check_options(opts)?;
        let area = reference::Area::load(&opts.icb)?;
        let practices = population::build_practices(opts.patients, area.lsoas.len(), opts.seed);
        let model = population::PopulationModel::new(&area, f64::from(opts.years));
        Ok(Run {
            opts: opts.clone(),
            as_of: to_days(opts.as_of),
            h0: to_days(start),
            area,
            practices,
            model,
            nhs: ids::NhsNumbers::new(),
            person_key: derive_key(opts.seed, b"person-id"),
            encounter_key: derive_key(opts.seed, b"encounter-id"),
        })
    }

    /// Generates chunk `c`: its data frames in `frames::TABLE_NAMES` order,
    /// its statistics, and what was injected when dirty.
    fn chunk(&self, c: u64) -> Result<(Vec<DataFrame>, report::ChunkStats, Injected), SynthError> {
        let lo = c * CHUNK;
        let hi = (lo + CHUNK).min(self.opts.patients);
        let mut bufs = frames::ChunkBufs::new((hi - lo) as usize);
        let mut stats = report::ChunkStats::default();
        let pctx = population::PersonContext {
            model: &self.model,
            area: &self.area,
            practices: &self.practices,
            as_of: self.as_of,
            h0: self.h0,
        };
        let sctx = events::SimContext {
            as_of: self.as_of,
            h0: self.h0,
            area: &self.area,
            practices: &self.practices,
            nhs: &self.nhs,
            person_key: self.person_key,
            encounter_key: self.encounter_key,
            seed: self.opts.seed,
            intervention: self
                .opts
                .intervention
                .as_ref()
                .map(|iv| (to_days(iv.date), iv)),
        };
        for i in lo..hi {
            let mut rng = derive_rng(self.opts.seed, b"person", i);
            let person = population::sample_person(&pctx, i, &mut rng);
            events::simulate_person(&sctx, &person, &mut rng, &mut bufs, &mut stats);
        }
        let mut frames = frames::finish_all(bufs).map_err(|source| SynthError::Frame {
            table: "chunk",
            source,
        })?;
        let mut injected = Injected::default();
        if self.opts.dirty_rate > 0.0 {
            let mut rng = derive_rng(self.opts.seed, b"dirty", c);
            injected = dirty::inject(&mut frames, self.opts.dirty_rate, &mut rng)?;
        }
        Ok((frames, stats, injected))
    }
}

/// Writes a complete extract into `opts.out` and returns its report.
pub fn generate(opts: &GenerateOptions) -> Result<GenerationReport, SynthError> {
    let run = Run::new(opts)?;
    let dir = &opts.out;
    std::fs::create_dir_all(dir).map_err(|source| SynthError::Io {
        path: dir.clone(),
        source,
    })?;

    remove_other_format(dir, opts.format)?;
    let names = frames::TABLE_NAMES;
    let mut writers = output::Writers::create(dir, &names, opts.format, &["truth"])?;
    let n_chunks = opts.patients.div_ceil(CHUNK);
    // A wave is a few chunks per thread: enough to keep both cores busy,
    // small enough that memory does not grow with N.
    let wave = (rayon::current_num_threads() as u64 * 2).max(2);
    let mut stats = report::ChunkStats::default();
    let mut injected = Injected::default();
    let mut c0 = 0;
    while c0 < n_chunks {
        let c1 = (c0 + wave).min(n_chunks);
        let results: Vec<_> = (c0..c1).into_par_iter().map(|c| run.chunk(c)).collect();
        for r in results {
            let (frames, s, inj) = match r {
                Ok(x) => x,
                Err(e) => {
                    // Close the files; the chunk's error is the one to report.
                    let _closing = writers.finish();
                    return Err(e);
                }
            };
            stats.merge(&s);
            injected.merge(&inj);
            writers.send(frames)?;
        }
        c0 = c1;
    }
    writers.finish()?;

    let lsoa_path = dir.join(format!("lsoa_imd.{}", output::extension(opts.format)));
    let mut lsoa = lsoa_frame(&run.area).map_err(|source| SynthError::Frame {
        table: "lsoa_imd",
        source,
    })?;
    output::write_small(&mut lsoa, &lsoa_path, opts.format)?;

    let report = build_report(&run, &stats, injected);
    let path = dir.join("generation-report.json");
    let json = serde_json::to_string_pretty(&report).map_err(|source| SynthError::Report {
        path: path.clone(),
        source,
    })?;
    std::fs::write(&path, json + "\n").map_err(|source| SynthError::Io { path, source })?;
    Ok(report)
}

/// Removes `NAME.csv` when writing `NAME.parquet` (and the reverse) for
/// this generator's tables, so a regenerated folder never holds a table in
/// two forms, which ingest refuses as ambiguous.
fn remove_other_format(dir: &std::path::Path, format: Format) -> Result<(), SynthError> {
    let other = match format {
        Format::Parquet => Format::Csv,
        Format::Csv => Format::Parquet,
    };
    for name in frames::TABLE_NAMES.iter().chain(&["lsoa_imd"]) {
        if *name == "truth" {
            continue;
        }
        let path = dir.join(format!("{name}.{}", output::extension(other)));
        if path.is_file() {
            std::fs::remove_file(&path).map_err(|source| SynthError::Io { path, source })?;
        }
    }
    Ok(())
}

fn lsoa_frame(area: &reference::Area) -> PolarsResult<DataFrame> {
    let codes: Vec<&str> = area.lsoas.iter().map(|l| l.code.as_str()).collect();
    let deciles: Vec<i32> = area.lsoas.iter().map(|l| l.imd_decile).collect();
    DataFrame::new(
        codes.len(),
        vec![
            Column::new(crate::contract::LSOA_IMD.columns[0].name.into(), codes),
            Column::new(crate::contract::LSOA_IMD.columns[1].name.into(), deciles),
        ],
    )
}

fn build_report(run: &Run, stats: &report::ChunkStats, injected: Injected) -> GenerationReport {
    let opts = &run.opts;
    let ext = output::extension(opts.format);
    let mut files: Vec<String> = frames::TABLE_NAMES
        .iter()
        .map(|n| {
            if *n == "truth" {
                "truth.parquet".to_string()
            } else {
                format!("{n}.{ext}")
            }
        })
        .collect();
    files.push(format!("lsoa_imd.{ext}"));
    files.push("generation-report.json".to_string());
    let mut rows: BTreeMap<String, u64> = frames::TABLE_NAMES
        .iter()
        .zip(stats.rows)
        .map(|(n, r)| ((*n).to_string(), r))
        .collect();
    rows.insert("lsoa_imd".to_string(), run.area.lsoas.len() as u64);
    let pcns = {
        let mut p: Vec<&str> = run.practices.iter().map(|p| p.pcn.as_str()).collect();
        p.dedup();
        p.len()
    };
    let mut notes = vec![
        "truth.parquet holds the 12 months after as_of and is not part of the extract".to_string(),
        "prevalence targets are QOF 2023-24 register prevalences over the all-ages list"
            .to_string(),
    ];
    if opts.patients > run.nhs.capacity() {
        notes.push(format!(
            "NHS numbers come from the 999 test range, which holds {} numbers: beyond that they repeat",
            run.nhs.capacity()
        ));
    }
    if let Some(iv) = &opts.intervention {
        notes.push(format!(
            "intervention: emergency admissions after {} of the {} people flagged on that date \
             prevented with probability {} (a relative hazard reduction of {}; docs/impact.md)",
            iv.date,
            iv.flagged.len(),
            iv.effect,
            iv.effect
        ));
    }
    if opts.dirty_rate > 0.0 && opts.format == Format::Parquet {
        notes.push("dirty Parquet output stores date columns as ISO text so unparseable dates can be injected".to_string());
    }
    GenerationReport {
        generator: format!("strata {} synth/1", crate::VERSION),
        seed: opts.seed,
        patients: opts.patients,
        format: ext.to_string(),
        as_of: opts.as_of,
        history_start: EPOCH + chrono::Duration::days(i64::from(run.h0)),
        years: opts.years,
        icb: run.area.icb.clone(),
        lsoas: run.area.lsoas.len(),
        practices: run.practices.len(),
        pcns,
        dirty_rate: opts.dirty_rate,
        files,
        rows,
        realism: report::realism(stats, f64::from(opts.years)),
        truth: report::truth_summary(stats),
        injected,
        notes,
    }
}
