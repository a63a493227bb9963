//! The synthetic generator: contract validity, determinism and realism.
//!
//! Expected values come from the model's definitions (QOF targets, ONS
//! shares, the report's target constants), never from generated output.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;
use strata::contract::{self, CODE_SYSTEMS, SERVICE_TYPES, SETTINGS};
use strata::synth::{Format, GenerateOptions, GenerationReport, generate};

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 31).expect("valid date")
}

fn options(patients: u64, seed: u64, out: &Path, format: Format) -> GenerateOptions {
    GenerateOptions {
        patients,
        seed,
        out: out.to_path_buf(),
        format,
        as_of: as_of(),
        years: 3,
        dirty_rate: 0.0,
        icb: "QVV".to_string(),
        intervention: None,
    }
}

fn read(dir: &Path, table: &str) -> DataFrame {
    let path = dir.join(format!("{table}.parquet"));
    let file = File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ParquetReader::new(file)
        .finish()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn strs(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    df.column(name)
        .and_then(|c| {
            c.str()
                .map(|s| s.iter().map(|v| v.map(str::to_string)).collect())
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn days(df: &DataFrame, name: &str) -> Vec<Option<i32>> {
    let c = df.column(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(c.dtype(), &DataType::Date, "{name} is a Date column");
    let c = c
        .cast(&DataType::Int32)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    c.i32()
        .map(|s| s.iter().collect())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn day(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

/// Birth and death day by person.
fn lifespans(dir: &Path) -> HashMap<String, (i32, Option<i32>)> {
    let p = read(dir, "patients");
    let ids = strs(&p, "person_id");
    let dob = days(&p, "date_of_birth");
    let dod = days(&p, "date_of_death");
    ids.into_iter()
        .zip(dob.into_iter().zip(dod))
        .map(|(id, (b, d))| {
            (
                id.expect("person_id not null"),
                (b.expect("dob not null"), d),
            )
        })
        .collect()
}

#[test]
fn clean_extract_meets_the_contract() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let report = generate(&options(3_000, 7, dir, Format::Parquet)).expect("generates");
    let as_of = day(as_of());

    let p = read(dir, "patients");
    assert_eq!(p.height(), 3_000);
    let people = lifespans(dir);
    assert_eq!(people.len(), 3_000, "person_id is unique");
    for (nhs, sex) in strs(&p, "nhs_number").iter().zip(strs(&p, "sex")) {
        let nhs = nhs.as_deref().expect("nhs_number present");
        assert!(nhs.starts_with("999") && contract::nhs_number_is_valid(nhs));
        assert!(contract::SEX_CODES.contains(&sex.as_deref().expect("sex")));
    }
    for e in strs(&p, "ethnicity").into_iter().flatten() {
        assert!(contract::ETHNICITY_CODES.contains(&e.as_str()), "{e}");
    }
    for (id, reg) in strs(&p, "person_id")
        .iter()
        .zip(days(&p, "registered_from"))
    {
        let (dob, dod) = people[id.as_deref().expect("id")];
        let reg = reg.expect("registered_from");
        assert!(reg >= dob && reg <= as_of && dod.is_none_or(|d| reg <= d));
    }
    for flag in ["opt_out_national", "opt_out_type1"] {
        assert_eq!(p.column(flag).expect(flag).null_count(), 0);
    }

    // Every event: a known person, inside their life, not after as-of.
    let enc = read(dir, "encounters");
    let mut encounter_setting: HashMap<String, String> = HashMap::new();
    for ((eid, setting), pid) in strs(&enc, "encounter_id")
        .into_iter()
        .zip(strs(&enc, "setting"))
        .zip(strs(&enc, "person_id"))
    {
        let setting = setting.expect("setting");
        assert!(SETTINGS.contains(&setting.as_str()));
        assert!(people.contains_key(pid.as_deref().expect("pid")));
        assert!(
            encounter_setting
                .insert(eid.expect("eid"), setting)
                .is_none(),
            "encounter_id unique"
        );
    }
    for (table, date_cols) in [
        ("encounters", &["start_date", "end_date"][..]),
        ("diagnoses", &["date"][..]),
        ("medications", &["date"][..]),
        ("observations", &["date"][..]),
        ("social_care", &["start_date", "end_date"][..]),
    ] {
        let df = read(dir, table);
        assert!(df.height() > 0, "{table} has rows");
        let pids = strs(&df, "person_id");
        for col in date_cols {
            for (pid, d) in pids.iter().zip(days(&df, col)) {
                let (dob, dod) = *people
                    .get(pid.as_deref().expect("pid"))
                    .expect("known person");
                if let Some(d) = d {
                    assert!(d >= dob, "{table}.{col} before birth");
                    assert!(dod.is_none_or(|x| d <= x), "{table}.{col} after death");
                    assert!(d <= as_of, "{table}.{col} after as-of");
                }
            }
        }
        if date_cols.len() == 2 {
            for (s, e) in days(&df, date_cols[0])
                .into_iter()
                .zip(days(&df, date_cols[1]))
            {
                if let (Some(s), Some(e)) = (s, e) {
                    assert!(e >= s, "{table}: end before start");
                }
            }
        }
    }

    // Hospital diagnoses link to inpatient spells; GP ones are SNOMED.
    let dx = read(dir, "diagnoses");
    for ((sys, eid), code) in strs(&dx, "code_system")
        .into_iter()
        .zip(strs(&dx, "encounter_id"))
        .zip(strs(&dx, "code"))
    {
        let sys = sys.expect("code_system");
        let code = code.expect("code");
        assert!(CODE_SYSTEMS.contains(&sys.as_str()));
        if sys == "icd10" {
            let eid = eid.expect("icd10 diagnoses carry their spell");
            assert_eq!(
                encounter_setting.get(&eid).map(String::as_str),
                Some("inpatient")
            );
            assert!((3..=5).contains(&code.len()), "{code}");
        } else {
            assert!(code.chars().all(|c| c.is_ascii_digit()), "{code}");
        }
    }
    for bnf in strs(&read(dir, "medications"), "bnf_code") {
        assert_eq!(bnf.expect("bnf").len(), 15);
    }
    for s in strs(&read(dir, "social_care"), "service_type") {
        assert!(SERVICE_TYPES.contains(&s.as_deref().expect("service_type")));
    }
    let imd = read(dir, "lsoa_imd");
    let lsoas: HashSet<String> = strs(&imd, "lsoa").into_iter().flatten().collect();
    for l in strs(&p, "lsoa").into_iter().flatten() {
        assert!(lsoas.contains(&l), "patient LSOA is in lsoa_imd");
    }
    assert_eq!(
        imd.column("imd_decile").expect("decile").dtype(),
        &DataType::Int32
    );

    // Truth: one row per person alive at as-of, risk a probability.
    let truth = read(dir, "truth");
    let alive = people.values().filter(|(_, d)| d.is_none()).count();
    assert_eq!(truth.height(), alive);
    assert_eq!(report.truth.people as usize, alive);
    let risk = truth
        .column("true_risk_12m")
        .expect("risk")
        .f64()
        .expect("f64")
        .clone();
    assert!(risk.iter().flatten().all(|r| (0.0..=1.0).contains(&r)));
}

fn file_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|f| {
            (
                f.file_name().expect("name").to_string_lossy().into_owned(),
                std::fs::read(&f).expect("read"),
            )
        })
        .collect()
}

fn generate_with_threads(threads: usize, dir: &Path, format: Format) -> GenerationReport {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool");
    // 9,000 people span three chunks, so chunk order matters.
    pool.install(|| generate(&options(9_000, 11, dir, format)))
        .expect("generates")
}

#[test]
fn same_seed_gives_byte_identical_files_whatever_the_thread_count() {
    for format in [Format::Parquet, Format::Csv] {
        let a = tempfile::tempdir().expect("temp dir");
        let b = tempfile::tempdir().expect("temp dir");
        generate_with_threads(1, a.path(), format);
        generate_with_threads(2, b.path(), format);
        let fa = file_bytes(a.path());
        let fb = file_bytes(b.path());
        assert_eq!(fa.len(), 9);
        for ((na, ba), (nb, bb)) in fa.iter().zip(&fb) {
            assert_eq!(na, nb);
            assert!(ba == bb, "{na} differs between 1 and 2 threads");
        }
    }
}

#[test]
fn a_different_seed_gives_different_people() {
    let a = tempfile::tempdir().expect("temp dir");
    let b = tempfile::tempdir().expect("temp dir");
    generate(&options(500, 1, a.path(), Format::Parquet)).expect("generates");
    generate(&options(500, 2, b.path(), Format::Parquet)).expect("generates");
    let ia: HashSet<_> = lifespans(a.path()).into_keys().collect();
    let ib: HashSet<_> = lifespans(b.path()).into_keys().collect();
    assert!(ia.intersection(&ib).count() < 5);
}

fn within(name: &str, achieved: f64, target: f64, rel: f64) {
    assert!(
        (achieved - target).abs() <= rel * target,
        "{name}: achieved {achieved:.4}, target {target:.4}, tolerance ±{:.0}%",
        rel * 100.0
    );
}

/// At N = 100,000 the sampling error of the rarest target (dementia, about
/// 750 cases) is under 4%, so 15% tolerances catch model errors, not noise.
#[test]
fn prevalences_and_rates_are_near_their_published_targets() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let report = generate(&options(100_000, 42, tmp.path(), Format::Parquet)).expect("generates");
    let r = &report.realism;
    let targets: HashMap<&str, f64> = [
        ("hypertension", 0.148),
        ("diabetes", 0.077),
        ("asthma", 0.065),
        ("depression", 0.132),
        ("copd", 0.019),
        ("atrial_fibrillation", 0.022),
        ("coronary_heart_disease", 0.030),
        ("heart_failure", 0.011),
        ("ckd_3_5", 0.040),
        ("cancer", 0.036),
        ("dementia", 0.0075),
        ("stroke_tia", 0.019),
    ]
    .into_iter()
    .collect();
    assert_eq!(r.prevalence.len(), targets.len());
    for c in &r.prevalence {
        within(&c.name, c.achieved, targets[c.name.as_str()], 0.15);
    }
    let rates: HashMap<&str, f64> = r
        .per_1000_per_year
        .iter()
        .map(|c| (c.name.as_str(), c.achieved))
        .collect();
    within(
        "emergency admissions",
        rates["emergency_admissions"],
        110.0,
        0.15,
    );
    within("A&E attendances", rates["ae_attendances"], 440.0, 0.15);
    within(
        "outpatient attendances",
        rates["outpatient_attendances"],
        2_200.0,
        0.15,
    );
    within("deaths", rates["deaths"], 9.0, 0.2);
    // ONS mid-2020: 18.5% aged 65+, 2.5% aged 85+.
    let share = |names: &[&str]| -> f64 {
        r.age_pyramid
            .iter()
            .filter(|c| names.contains(&c.name.as_str()))
            .map(|c| c.achieved)
            .sum()
    };
    within("65+", share(&["65-74", "75-84", "85+"]), 0.185, 0.05);
    within("85+", share(&["85+"]), 0.0249, 0.15);
    within(
        "event rows per person over 3 years",
        r.event_rows_per_person_3y.achieved,
        100.0,
        0.15,
    );
    // Emergency admissions rise with age, as in HES.
    let by_age: Vec<f64> = r
        .emergency_admissions_per_1000_by_age
        .iter()
        .map(|c| c.achieved)
        .collect();
    assert!(by_age[7] > by_age[6] && by_age[6] > by_age[5] && by_age[5] > by_age[4]);
    // The truth carries signal, but not perfect signal.
    let auc = report.truth.oracle_auc.expect("both outcomes occur");
    assert!(auc > 0.65 && auc < 0.9, "{auc}");
}

#[test]
fn bad_options_are_refused_with_the_flag_named() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut o = options(0, 1, tmp.path(), Format::Parquet);
    assert!(
        generate(&o)
            .expect_err("zero people")
            .to_string()
            .contains("--patients")
    );
    o.patients = 10;
    o.icb = "XXX".to_string();
    assert!(
        generate(&o)
            .expect_err("unknown ICB")
            .to_string()
            .contains("QVV")
    );
    o.icb = "QVV".to_string();
    o.dirty_rate = 2.0;
    assert!(
        generate(&o)
            .expect_err("rate")
            .to_string()
            .contains("--dirty")
    );
}

/// Cells that differ between two text columns of the same length.
fn differing(a: &DataFrame, b: &DataFrame, column: &str) -> usize {
    let text = |df: &DataFrame| -> Vec<Option<String>> {
        let c = df
            .column(column)
            .unwrap_or_else(|e| panic!("{column}: {e}"));
        let c = c
            .cast(&DataType::String)
            .unwrap_or_else(|e| panic!("{column}: {e}"));
        c.str()
            .map(|s| s.iter().map(|v| v.map(str::to_string)).collect())
            .unwrap_or_else(|e| panic!("{column}: {e}"))
    };
    text(a)
        .iter()
        .zip(text(b))
        .filter(|(x, y)| **x != *y)
        .count()
}

#[test]
fn dirty_output_differs_from_clean_exactly_where_the_report_says() {
    let clean = tempfile::tempdir().expect("temp dir");
    let dirty = tempfile::tempdir().expect("temp dir");
    generate(&options(2_000, 5, clean.path(), Format::Parquet)).expect("clean");
    let mut o = options(2_000, 5, dirty.path(), Format::Parquet);
    o.dirty_rate = 0.02;
    let report = generate(&o).expect("dirty");
    let inj = &report.injected;
    assert!(inj.total > 0);

    // Same rows; dates become text so unparseable ones can be stored.
    let (pc, pd) = (
        read(clean.path(), "patients"),
        read(dirty.path(), "patients"),
    );
    assert_eq!(pc.height(), pd.height());
    assert_eq!(
        pd.column("date_of_birth").expect("dob").dtype(),
        &DataType::String
    );
    let nhs_changed = differing(&pc, &pd, "nhs_number") as u64;
    assert_eq!(
        Some(&nhs_changed),
        inj.values_to_remove.get("patients.nhs_number")
    );
    // Every changed number is malformed; the rest stay valid.
    let bad_nhs = strs(&pd, "nhs_number")
        .into_iter()
        .flatten()
        .filter(|n| !contract::nhs_number_is_valid(n))
        .count();
    assert_eq!(bad_nhs as u64, nhs_changed);

    // Each touched event row differs from the clean row in exactly one column.
    for table in [
        "encounters",
        "diagnoses",
        "medications",
        "observations",
        "social_care",
    ] {
        let (c, d) = (read(clean.path(), table), read(dirty.path(), table));
        assert_eq!(c.height(), d.height(), "{table}");
        let changed: usize = d
            .get_column_names()
            .iter()
            .map(|col| differing(&c, &d, col))
            .sum();
        let expected = inj.rows_to_reject.get(table).copied().unwrap_or(0);
        assert_eq!(changed as u64, expected, "{table}");
    }
    let unknown = strs(&read(dirty.path(), "medications"), "person_id")
        .into_iter()
        .flatten()
        .filter(|p| p.starts_with('U'))
        .count() as u64;
    let reported = inj
        .by_kind
        .get("event_for_unknown_person")
        .and_then(|m| m.get("medications.person_id"))
        .copied();
    assert_eq!(Some(unknown), reported);
}

fn validate(dir: &Path) -> strata::ingest::ValidationReport {
    let options = strata::ingest::ValidateOptions {
        today: NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"),
        max_reject_fraction: 0.05,
        dmd_bnf: None,
    };
    strata::ingest::load_extract(dir, &options)
        .unwrap_or_else(|e| panic!("validates: {e}"))
        .report
}

fn removed(report: &strata::ingest::ValidationReport, table: &str, column: &str) -> u64 {
    report.table(table).map_or(0, |t| {
        t.issues
            .iter()
            .filter(|i| i.column == column && i.action == strata::ingest::Action::ValueRemoved)
            .map(|i| i.count)
            .sum()
    })
}

#[test]
fn the_validator_rejects_nothing_clean_and_exactly_what_was_injected() {
    for format in [Format::Parquet, Format::Csv] {
        let clean = tempfile::tempdir().expect("temp dir");
        generate(&options(2_000, 3, clean.path(), format)).expect("clean");
        let report = validate(clean.path());
        for t in &report.tables {
            assert_eq!(
                t.rows_rejected, 0,
                "{format:?} clean {}: {:?}",
                t.table, t.issues
            );
        }
        assert_eq!(removed(&report, "patients", "nhs_number"), 0);

        let dirty = tempfile::tempdir().expect("temp dir");
        let mut o = options(2_000, 3, dirty.path(), format);
        o.dirty_rate = 0.02;
        let injected = generate(&o).expect("dirty").injected;
        let report = validate(dirty.path());
        for t in &report.tables {
            let expected = injected.rows_to_reject.get(&t.table).copied().unwrap_or(0);
            assert_eq!(
                t.rows_rejected, expected,
                "{format:?} dirty {}: {:?}",
                t.table, t.issues
            );
        }
        let nhs = injected
            .values_to_remove
            .get("patients.nhs_number")
            .copied()
            .unwrap_or(0);
        assert!(nhs > 0);
        assert_eq!(
            removed(&report, "patients", "nhs_number"),
            nhs,
            "{format:?}"
        );
    }
}
