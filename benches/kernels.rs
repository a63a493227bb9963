//! Criterion benchmarks of strata's hot kernels (issue 7).
//!
//! ```sh
//! cargo bench --bench kernels                  # all groups, a few minutes
//! cargo bench --bench kernels -- codelists     # one group (a filter on the name)
//! ```
//!
//! Groups:
//! - `codelists`: per-code matching (Charlson, Elixhauser, HFRS, LTC, eFI, and
//!   [`Codelist::matches`]) over a realistic set of *distinct* codes;
//! - `features`: validation (`load_extract`) and windowed aggregation
//!   (`derive_features`) of a generated 20,000-person extract;
//! - `scoring`: design matrix, parallel scoring and top-3 reasons on 1,000,000
//!   synthetic rows of the default model's features;
//! - `disclosure`: [`protect`] on a 10,000-group summary table under the
//!   OpenSAFELY and NHS secondary-care profiles.
//!
//! Every input is built once, outside the timed closure. Sample sizes are
//! small (10) so `cargo bench` finishes in minutes on two cores.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use polars::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use strata::codelists::Ltc;
use strata::codelists::{
    CodeSystem, Codelist, charlson_categories, efi_deficits, elixhauser_categories, hfrs_group,
    ltc_categories,
};
use strata::cohort::Tier;
use strata::cohort::segments::SEGMENTS;
use strata::features::{FeatureSet, FeatureType, derive_features};
use strata::governance::disclosure::{
    DisclosureProfile, GroupRow, SummaryTable, TableSpec, TotalRowMethod, ValueKind, protect,
};
use strata::ingest::{ValidateOptions, load_extract};
use strata::model::explain::top_reasons;
use strata::model::{DesignMatrix, ModelFile, Transform, score};
use strata::synth::{Format, GenerateOptions, generate};

/// People in the extract the feature benchmarks read.
const EXTRACT_PEOPLE: u64 = 20_000;
/// Rows in the scoring benchmarks.
const SCORING_ROWS: usize = 1_000_000;
/// Groups in the disclosure-control benchmark.
const DISCLOSURE_GROUPS: usize = 10_000;
/// The as-of date of the reference workload.
fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 31).expect("valid date")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .without_plots()
}

// --- code lists ----------------------------------------------------------------

/// ICD-10-shaped codes: every category A00–Z99 and its subcodes .0–.9
/// (28,600 codes, about twice the ~12,000 codes of ICD-10 5th edition, so
/// a generous upper bound on the distinct diagnosis codes of an extract).
fn icd10_codes() -> Vec<String> {
    let mut out = Vec::with_capacity(26 * 100 * 11);
    for letter in b'A'..=b'Z' {
        for number in 0..100 {
            let category = format!("{}{number:02}", letter as char);
            for sub in 0..10 {
                out.push(format!("{category}.{sub}"));
            }
            out.push(category);
        }
    }
    out
}

/// SNOMED CT concept ids: every id in the eFI and LTC lists (they match)
/// plus random 9-digit ids (most of which do not), 20,000 in all.
fn snomed_codes() -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for list in [
        "codelists/efi/efi_clegg2016_snomed.csv",
        "codelists/ltc/ltc_snomed.csv",
    ] {
        let text = std::fs::read_to_string(root().join(list)).expect("code list");
        out.extend(
            text.lines()
                .skip(1)
                .filter_map(|l| l.split(',').next())
                .map(str::to_string),
        );
    }
    out.sort();
    out.dedup();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    while out.len() < 20_000 {
        out.push(rng.random_range(100_000_000u64..1_000_000_000).to_string());
    }
    out
}

fn bench_codelists(c: &mut Criterion) {
    let icd10 = icd10_codes();
    let snomed = snomed_codes();
    let ltc_icd10 = Codelist::load(
        &root().join("codelists/ltc/ltc_icd10.csv"),
        CodeSystem::Icd10,
    )
    .expect("ltc icd10 list");
    let efi_snomed = Codelist::load(
        &root().join("codelists/efi/efi_clegg2016_snomed.csv"),
        CodeSystem::Snomed,
    )
    .expect("efi list");

    let mut g = c.benchmark_group("codelists");
    g.throughput(Throughput::Elements(icd10.len() as u64));
    g.bench_function(BenchmarkId::new("charlson_categories", icd10.len()), |b| {
        b.iter(|| {
            icd10
                .iter()
                .fold(0u32, |acc, code| acc ^ charlson_categories(black_box(code)))
        })
    });
    g.bench_function(
        BenchmarkId::new("elixhauser_categories", icd10.len()),
        |b| {
            b.iter(|| {
                icd10.iter().fold(0u64, |acc, code| {
                    acc ^ elixhauser_categories(black_box(code))
                })
            })
        },
    );
    g.bench_function(BenchmarkId::new("hfrs_group", icd10.len()), |b| {
        b.iter(|| {
            icd10
                .iter()
                .filter(|code| hfrs_group(black_box(code)).is_some())
                .count()
        })
    });
    g.bench_function(BenchmarkId::new("ltc_categories_icd10", icd10.len()), |b| {
        b.iter(|| {
            icd10.iter().fold(0u32, |acc, code| {
                acc ^ ltc_categories(CodeSystem::Icd10, black_box(code))
            })
        })
    });
    g.bench_function(
        BenchmarkId::new("codelist_matches_icd10", icd10.len()),
        |b| {
            b.iter(|| {
                icd10
                    .iter()
                    .filter(|code| ltc_icd10.matches(black_box(code)))
                    .count()
            })
        },
    );
    g.throughput(Throughput::Elements(snomed.len() as u64));
    g.bench_function(
        BenchmarkId::new("ltc_categories_snomed", snomed.len()),
        |b| {
            b.iter(|| {
                snomed.iter().fold(0u32, |acc, code| {
                    acc ^ ltc_categories(CodeSystem::Snomed, black_box(code))
                })
            })
        },
    );
    g.bench_function(BenchmarkId::new("efi_deficits", snomed.len()), |b| {
        b.iter(|| {
            snomed
                .iter()
                .fold(0u64, |acc, code| acc ^ efi_deficits(black_box(code)))
        })
    });
    g.bench_function(
        BenchmarkId::new("codelist_matches_snomed", snomed.len()),
        |b| {
            b.iter(|| {
                snomed
                    .iter()
                    .filter(|code| efi_snomed.matches(black_box(code)))
                    .count()
            })
        },
    );
    g.finish();
}

// --- validation and windowed aggregation -----------------------------------------

/// A generated extract in a temporary folder (removed when dropped).
struct Fixture {
    _dir: tempfile::TempDir,
    extract_dir: PathBuf,
    event_rows: u64,
}

fn generated_extract(people: u64) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let extract_dir = dir.path().join("extract");
    let report = generate(&GenerateOptions {
        patients: people,
        seed: 42,
        out: extract_dir.clone(),
        format: Format::Parquet,
        as_of: as_of(),
        years: 3,
        dirty_rate: 0.0,
        icb: "QVV".into(),
        intervention: None,
    })
    .expect("generate the extract");
    let event_rows = report
        .rows
        .iter()
        .filter(|(table, _)| !matches!(table.as_str(), "truth" | "lsoa_imd" | "patients"))
        .map(|(_, n)| n)
        .sum();
    Fixture {
        _dir: dir,
        extract_dir,
        event_rows,
    }
}

fn options() -> ValidateOptions {
    ValidateOptions {
        today: NaiveDate::from_ymd_opt(2026, 11, 23).expect("valid date"),
        max_reject_fraction: 0.05,
        dmd_bnf: None,
    }
}

fn bench_features(c: &mut Criterion) {
    let fixture = generated_extract(EXTRACT_PEOPLE);
    let dir: &Path = &fixture.extract_dir;
    let extract = load_extract(dir, &options()).expect("valid extract");
    let set = FeatureSet::builtin().expect("built-in catalogue");

    let mut g = c.benchmark_group("features");
    g.throughput(Throughput::Elements(fixture.event_rows));
    g.bench_function(BenchmarkId::new("load_extract", EXTRACT_PEOPLE), |b| {
        b.iter(|| load_extract(black_box(dir), &options()).expect("valid extract"))
    });
    g.bench_function(BenchmarkId::new("derive_features", EXTRACT_PEOPLE), |b| {
        b.iter(|| derive_features(black_box(&extract), as_of(), &set).expect("features"))
    });
    g.finish();
}

// --- scoring with reasons ------------------------------------------------------

/// `rows` people with plausible values of every feature `model` reads, typed
/// as the feature catalogue types them (counts, flags, numbers, text).
fn model_frame(model: &ModelFile, rows: usize) -> DataFrame {
    let set = FeatureSet::builtin().expect("built-in catalogue");
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let mut columns = Vec::new();
    for feature in model.features() {
        let name: PlSmallStr = feature.into();
        let equals: Vec<&str> = model
            .terms
            .iter()
            .filter(|t| t.feature == feature)
            .filter_map(|t| match &t.transform {
                Transform::Equals { value } => Some(value.as_str()),
                _ => None,
            })
            .collect();
        let kind = set.get(feature).map(|d| d.output_type());
        let column = match (feature, kind) {
            ("age", _) => Column::new(
                name,
                (0..rows)
                    .map(|_| rng.random_range(0..100i32))
                    .collect::<Vec<_>>(),
            ),
            ("imd_decile", _) => Column::new(
                name,
                (0..rows)
                    .map(|_| rng.random_bool(0.98).then(|| rng.random_range(1..=10i32)))
                    .collect::<Vec<_>>(),
            ),
            (_, Some(FeatureType::Text)) => {
                let mut values = equals.clone();
                values.push("other");
                Column::new(
                    name,
                    (0..rows)
                        .map(|_| values[rng.random_range(0..values.len())])
                        .collect::<Vec<_>>(),
                )
            }
            (_, Some(FeatureType::Flag)) => Column::new(
                name,
                (0..rows).map(|_| rng.random_bool(0.05)).collect::<Vec<_>>(),
            ),
            (_, Some(FeatureType::Number)) => Column::new(
                name,
                (0..rows)
                    .map(|_| {
                        if rng.random_bool(0.3) {
                            rng.random_range(0.0..1.0f64)
                        } else {
                            0.0
                        }
                    })
                    .collect::<Vec<_>>(),
            ),
            // Counts and integers: mostly 0, sometimes a few.
            _ => Column::new(
                name,
                (0..rows)
                    .map(|_| {
                        if rng.random_bool(0.3) {
                            rng.random_range(1..=10i32)
                        } else {
                            0
                        }
                    })
                    .collect::<Vec<_>>(),
            ),
        };
        columns.push(column);
    }
    DataFrame::new(rows, columns).expect("model frame")
}

fn bench_scoring(c: &mut Criterion) {
    let model =
        ModelFile::load(&root().join("models/emergency_admission.json")).expect("default model");
    let frame = model_frame(&model, SCORING_ROWS);
    let mut x = DesignMatrix::build(&frame, &model.terms).expect("design matrix");
    x.standardise(&model.terms);

    let mut g = c.benchmark_group("scoring");
    g.throughput(Throughput::Elements(SCORING_ROWS as u64));
    g.bench_function(BenchmarkId::new("design_matrix", SCORING_ROWS), |b| {
        b.iter(|| {
            let mut x = DesignMatrix::build(black_box(&frame), &model.terms).expect("matrix");
            x.standardise(&model.terms);
            x
        })
    });
    g.bench_function(BenchmarkId::new("score", SCORING_ROWS), |b| {
        b.iter(|| score(&model, black_box(&x)))
    });
    g.bench_function(BenchmarkId::new("top_reasons", SCORING_ROWS), |b| {
        b.iter(|| top_reasons(&model, black_box(&x), &frame).expect("reasons"))
    });
    g.finish();
}

// --- disclosure control --------------------------------------------------------

/// Splits `total` into `parts` non-negative counts that add up to it, the
/// first parts small (like risk tiers: very high, high, rising, low).
fn split(rng: &mut ChaCha8Rng, total: u64, shares: &[f64]) -> Vec<u64> {
    let mut left = total;
    let mut out = Vec::with_capacity(shares.len());
    for (i, share) in shares.iter().enumerate() {
        if i + 1 == shares.len() {
            out.push(left);
            break;
        }
        let expected = total as f64 * share;
        let jitter = rng.random_range(0.5..1.5);
        let n = ((expected * jitter).round() as u64).min(left);
        out.push(n);
        left -= n;
    }
    out
}

/// A summary table shaped like `by_lsoa`: 10,000 groups of 1–3,000 people
/// (many small, so redaction and secondary suppression have work), tier and
/// segment partitions, 14 LTC and 3 frailty subsets, and five values.
fn summary_table(groups: usize, total_row: TotalRowMethod) -> SummaryTable {
    let tiers: Vec<String> = Tier::ALL
        .iter()
        .map(|t| format!("tier_{}", t.label()))
        .collect();
    let segments: Vec<String> = SEGMENTS
        .iter()
        .map(|s| format!("segment_{}", s.label))
        .collect();
    let mut spec = TableSpec::new("lsoa", "population")
        .partition("tier", tiers)
        .partition("segment", segments);
    for ltc in Ltc::ALL {
        spec = spec.subset(format!("ltc_{}", ltc.key()));
    }
    for frail in ["frail_mild", "frail_moderate", "frail_severe"] {
        spec = spec.subset(frail);
    }
    spec = spec
        .value("mean_risk", "population", ValueKind::Mean)
        .value("expected_admissions", "population", ValueKind::Sum)
        .value("expected_admissions_lower", "population", ValueKind::Other)
        .value("expected_admissions_upper", "population", ValueKind::Other)
        .value("cost_12m", "population", ValueKind::Sum)
        .with_total_row("ALL", total_row);

    let tier_shares = [0.005, 0.045, 0.15, 0.8];
    let segment_shares = [0.02, 0.01, 0.03, 0.02, 0.25, 0.07, 0.05, 0.55];
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let rows = (0..groups)
        .map(|g| {
            // Log-uniform sizes: about a tenth of groups under 10 people.
            let population = (3000f64.powf(rng.random_range(0.0..1.0))).round() as u64;
            let mut counts = vec![population];
            counts.extend(split(&mut rng, population, &tier_shares));
            counts.extend(split(&mut rng, population, &segment_shares));
            for _ in 0..Ltc::ALL.len() + 3 {
                let p = rng.random_range(0.0..0.3);
                counts.push(((population as f64) * p).round() as u64);
            }
            let risk = rng.random_range(0.01..0.2);
            let expected = risk * population as f64;
            GroupRow {
                label: format!("E01{g:06}"),
                counts,
                values: vec![
                    Some(risk),
                    Some(expected),
                    Some((expected - 2.0 * expected.sqrt()).max(0.0)),
                    Some(expected + 2.0 * expected.sqrt()),
                    Some(population as f64 * rng.random_range(100.0..900.0)),
                ],
                contributions: Vec::new(),
            }
        })
        .collect();
    SummaryTable { spec, rows }
}

fn bench_disclosure(c: &mut Criterion) {
    let opensafely = DisclosureProfile::default();
    let nhs = DisclosureProfile::NhsSecondaryCare;
    let summed = summary_table(DISCLOSURE_GROUPS, TotalRowMethod::ProfileDefault);
    let cells = (summed.rows.len() * summed.spec.count_columns().len()) as u64;

    let mut g = c.benchmark_group("disclosure");
    g.throughput(Throughput::Elements(cells));
    g.bench_function(
        BenchmarkId::new("protect_opensafely", DISCLOSURE_GROUPS),
        |b| b.iter(|| protect(black_box(&summed), &opensafely).expect("protected")),
    );
    // NHS secondary care rounds the total row independently, so every column
    // becomes an equation over all 10,000 groups in secondary suppression.
    g.bench_function(BenchmarkId::new("protect_nhs", DISCLOSURE_GROUPS), |b| {
        b.iter(|| protect(black_box(&summed), &nhs).expect("protected"))
    });
    g.finish();
}

criterion_group! {
    name = kernels;
    config = config();
    targets = bench_codelists, bench_features, bench_scoring, bench_disclosure
}
criterion_main!(kernels);
