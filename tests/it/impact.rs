//! `strata impact` (issue 22): who is counted, what is counted, disclosure,
//! and a known simulated effect recovered from generator output.
//!
//! The hand-worked test builds a flag history and an extract by hand; its
//! expected counts and rates are worked out below from the definitions in
//! docs/impact.md. The recovery test runs the real binary on a generated
//! population with and without a simulated effect.

use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;
use strata::governance::disclosure::DisclosureProfile;
use strata::impact::{ImpactPlan, ImpactReport, analyse};
use strata::ingest::ValidateOptions;

use crate::support::{
    ENCOUNTERS_HEADER, PATIENTS_HEADER, csv_extract, root, stderr, stdout, strata,
};

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

/// A published run folder under `out` holding `history` as its flag history,
/// with `latest` pointing at it.
fn publish_history(out: &Path, history: &mut DataFrame) {
    let id = "20250401T000000Z-0123abcd";
    let run = out.join("runs").join(id);
    std::fs::create_dir_all(&run).expect("mkdir");
    let file = std::fs::File::create(run.join("flag_history.parquet")).expect("create");
    ParquetWriter::new(file).finish(history).expect("write");
    std::os::unix::fs::symlink(Path::new("runs").join(id), out.join("latest")).expect("link");
}

fn history() -> DataFrame {
    history_with(&|id| id.to_string())
}

/// The hand-worked history with each person id replaced by `id(person)`.
fn history_with(id: &dyn Fn(&str) -> String) -> DataFrame {
    // Run of 2024-03-31 (before --since): p1 and p5 flagged.
    // Run of 2025-03-31, cut-off 0.2: p1 flagged again (not new), p2 and p3
    // flagged for the first time (p3 has a national opt-out), p4, p5 and p6
    // in the comparison band (p5 was flagged before, so is in neither group).
    let rows: [(&str, &str, &str, f64, f64, bool); 8] = [
        ("p1", "2024-03-31", "high", 0.30, 0.25, true),
        ("p5", "2024-03-31", "high", 0.26, 0.25, true),
        ("p1", "2025-03-31", "high", 0.40, 0.20, true),
        ("p2", "2025-03-31", "high", 0.21, 0.20, true),
        ("p3", "2025-03-31", "very_high", 0.60, 0.20, true),
        ("p4", "2025-03-31", "rising", 0.15, 0.20, false),
        ("p5", "2025-03-31", "rising", 0.18, 0.20, false),
        ("p6", "2025-03-31", "rising", 0.10, 0.20, false),
    ];
    let mut frame = df!(
        "person_id" => rows.iter().map(|r| id(r.0)).collect::<Vec<_>>(),
        "run_id" => rows.iter().map(|r| if r.1 == "2024-03-31" { "r0" } else { "r1" }).collect::<Vec<_>>(),
        "tier" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        "risk" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
        "threshold" => rows.iter().map(|r| r.4).collect::<Vec<_>>(),
        "flagged" => rows.iter().map(|r| r.5).collect::<Vec<_>>(),
    )
    .expect("frame");
    let dates: Vec<NaiveDate> = rows.iter().map(|r| d(r.1)).collect();
    frame
        .with_column(Column::new("as_of".into(), dates))
        .expect("as_of");
    frame
}

fn extract() -> tempfile::TempDir {
    extract_with(&|id| id.to_string())
}

/// The hand-worked extract with each person id replaced by `id(person)`.
fn extract_with(id: &dyn Fn(&str) -> String) -> tempfile::TempDir {
    let patients = format!(
        "{PATIENTS_HEADER}
        p1,,1940-01-01,F,A,,A81001,PCN1,2000-01-01,,false,false
        p2,,1940-01-01,F,A,,A81001,PCN1,2000-01-01,,false,false
        p3,,1940-01-01,M,A,,A81001,PCN1,2000-01-01,,true,false
        p4,,1940-01-01,M,A,,A81001,PCN1,2000-01-01,,false,false
        p5,,1940-01-01,F,A,,A81001,PCN1,2000-01-01,,false,false
        p6,,1940-01-01,F,A,,A81001,PCN1,2000-01-01,2025-06-30,false,false"
    );
    // p2: on the as-of date (not after it), day 1, September, the last day
    // of the 12 months (2026-03-31, inside), the day after (outside), and an
    // elective stay (not emergency). p4: the last day of the 3 months. p6: in
    // May, then dies on 2025-06-30. p3 (opted out) and p1 (not new) have
    // admissions that must not count.
    let encounters = format!(
        "{ENCOUNTERS_HEADER}
        p2,e1,inpatient,2025-03-31,2025-04-01,true,100
        p2,e2,inpatient,2025-04-01,2025-04-02,true,100
        p2,e3,inpatient,2025-09-15,2025-09-16,true,100
        p2,e4,inpatient,2026-03-31,2026-04-01,true,100
        p2,e5,inpatient,2026-04-01,2026-04-02,true,100
        p2,e6,inpatient,2025-05-01,2025-05-02,false,100
        p4,e7,inpatient,2025-06-30,2025-07-01,true,100
        p6,e8,inpatient,2025-05-01,2025-05-03,true,100
        p3,e9,inpatient,2025-05-01,2025-05-03,true,100
        p1,e10,inpatient,2025-05-01,2025-05-03,true,100"
    );
    let rename = |text: &str| -> String {
        text.lines()
            .map(|line| match line.trim().split_once(',') {
                Some((person, rest)) if person.starts_with('p') => {
                    format!("{},{rest}", id(person))
                }
                _ => line.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    csv_extract(&[
        ("patients", &rename(&patients)),
        ("encounters", &rename(&encounters)),
    ])
}

fn plan(out: &Path, input: &Path, profile: DisclosureProfile) -> ImpactPlan {
    ImpactPlan {
        out: out.to_path_buf(),
        input: input.to_path_buf(),
        since: d("2025-01-01"),
        profile,
        pseudonym_key: None,
        validate: ValidateOptions {
            today: d("2026-12-01"),
            ..ValidateOptions::default()
        },
    }
}

fn analysed(profile: DisclosureProfile) -> ImpactReport {
    let out = tempfile::tempdir().expect("tempdir");
    publish_history(out.path(), &mut history());
    let input = extract();
    analyse(&plan(out.path(), input.path(), profile)).expect("impact")
}

#[test]
fn first_flagged_people_are_followed_against_the_band_over_each_horizon() {
    // No suppression or rounding, to see the true counts.
    let report = analysed(DisclosureProfile::Custom {
        redact_at_or_below: 0,
        round_to: 1,
    });
    // Only the 2025 run is since 2025-01-01.
    assert_eq!(report.cohorts.len(), 1);
    let cohort = &report.cohorts[0];
    assert_eq!(cohort.as_of, d("2025-03-31"));
    assert_eq!(cohort.threshold, Some(0.2));
    // The band's lowest risk: p6's 0.10; p3 left out for the opt-out.
    assert_eq!(cohort.band_floor, Some(0.1));
    assert_eq!(cohort.opted_out, Some(1));
    let months: Vec<u32> = cohort.horizons.iter().map(|h| h.months).collect();
    assert_eq!(months, [3, 6, 12]);
    // Cohort: p2 alone. Comparison: p4 and p6.
    // 3 months (to 2025-06-30): p2 1 (04-01); p4 1 (06-30), p6 1 (05-01).
    // 6 months (to 2025-09-30): p2 2; comparison still 2.
    // 12 months (to 2026-03-31): p2 3 (the last day counts); comparison 2.
    let expected = [(3, 1, 2), (6, 2, 2), (12, 3, 2)];
    for (h, (m, flagged, comparison)) in cohort.horizons.iter().zip(expected) {
        assert_eq!(h.months, m);
        assert_eq!(h.status, "analysed", "{m} months");
        assert_eq!(h.flagged.people, Some(1), "{m} months");
        assert_eq!(h.comparison.people, Some(2), "{m} months");
        assert_eq!(h.flagged.admissions, Some(flagged), "{m} months");
        assert_eq!(h.comparison.admissions, Some(comparison), "{m} months");
    }
    // Rates per 1,000 person-years, 3 months: p2 is followed 91 days
    // (April 30 + May 31 + June 30): 1 / (91/365) × 1000 = 4010.99 → 4011.0.
    // Comparison: p4 91 days, p6 to its death on 06-30, also 91 days:
    // 2 / (182/365) × 1000 = 4010.99 → 4011.0.
    let three = &cohort.horizons[0];
    let rate = three.flagged.rate_per_1000.expect("rate");
    assert_eq!(rate.estimate, 4011.0);
    assert_eq!(
        three.comparison.rate_per_1000.expect("rate").estimate,
        4011.0
    );
    // 6 months: p4 followed 183 days, p6 still 91: 2 / (274/365) × 1000 = 2664.2.
    let six = &cohort.horizons[1];
    assert_eq!(six.comparison.rate_per_1000.expect("rate").estimate, 2664.2);
    // Crude rate ratio at 3 months: equal rates, 1.
    assert_eq!(three.crude_rate_ratio.expect("ratio").estimate, 1.0);
    // Two comparison people and one flagged: far too few for the fit.
    assert!(three.discontinuity.status.starts_with("too few people"));
    assert!(three.discontinuity.reduction.is_none());
}

#[test]
fn small_counts_are_withheld_with_everything_derived_from_them() {
    let report = analysed(DisclosureProfile::default());
    let cohort = &report.cohorts[0];
    // 1 opted-out person: withheld.
    assert_eq!(cohort.opted_out, None);
    for h in &cohort.horizons {
        assert!(h.status.starts_with("withheld"), "{}", h.status);
        assert_eq!(h.flagged.people, None);
        assert_eq!(h.comparison.admissions, None);
        assert!(h.flagged.rate_per_1000.is_none());
        assert!(h.comparison.rate_per_1000.is_none());
        assert!(h.crude_rate_ratio.is_none());
        assert!(h.near_threshold.adjusted_rate_ratio.is_none());
    }
    // And the JSON holds no count from 1 to 7 anywhere.
    let json = serde_json::to_value(&report).expect("json");
    fn counts(v: &serde_json::Value, out: &mut Vec<u64>, key: &str) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    counts(v, out, k);
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| counts(v, out, key)),
            serde_json::Value::Number(n)
                if ["people", "admissions", "opted_out", "not_followed"]
                    .iter()
                    .any(|c| key.contains(c)) =>
            {
                out.extend(n.as_u64());
            }
            _ => {}
        }
    }
    let mut published = Vec::new();
    counts(&json, &mut published, "");
    assert!(published.iter().all(|n| *n == 0 || *n > 7), "{published:?}");
}

#[test]
fn horizons_the_extract_does_not_cover_yet_are_not_reported() {
    // The extract ends on 2026-04-01 in the test above; a run on 2025-12-31
    // has 3 months (to 2026-03-31) but not 6 or 12.
    let out = tempfile::tempdir().expect("tempdir");
    let mut frame = history();
    frame
        .with_column(Column::new("as_of".into(), vec![d("2025-12-31"); 8]))
        .expect("as_of");
    publish_history(out.path(), &mut frame);
    let input = extract();
    let report = analyse(&plan(
        out.path(),
        input.path(),
        DisclosureProfile::Custom {
            redact_at_or_below: 0,
            round_to: 1,
        },
    ))
    .expect("impact");
    let statuses: Vec<&str> = report.cohorts[0]
        .horizons
        .iter()
        .map(|h| h.status.as_str())
        .collect();
    assert_eq!(statuses[0], "analysed");
    assert!(
        statuses[1].contains("not yet in the extract"),
        "{statuses:?}"
    );
    assert!(
        statuses[2].contains("not yet in the extract"),
        "{statuses:?}"
    );
}

#[test]
fn nhs_number_ids_are_linked_through_the_runs_pseudonyms_and_refused_without_a_key() {
    // Valid NHS numbers (Modulus 11) as the extract's person ids; the runs
    // wrote their keyed pseudonyms into the history, never the numbers.
    let numbers = [
        ("p1", "9434765919"),
        ("p2", "9434765986"),
        ("p3", "9434766052"),
        ("p4", "9434766125"),
        ("p5", "9434766192"),
        ("p6", "9434766265"),
    ];
    let number = |p: &str| {
        numbers
            .iter()
            .find(|(q, _)| *q == p)
            .map_or_else(|| p.to_string(), |(_, n)| n.to_string())
    };
    let key = strata::governance::pseudonym::PseudonymKey::new(vec![5; 32]).expect("key");
    let pseudonym = |p: &str| key.pseudonym(&number(p));
    let out = tempfile::tempdir().expect("tempdir");
    publish_history(out.path(), &mut history_with(&pseudonym));
    let input = extract_with(&number);
    let exact = DisclosureProfile::Custom {
        redact_at_or_below: 0,
        round_to: 1,
    };
    let mut with_key = plan(out.path(), input.path(), exact);
    with_key.pseudonym_key = Some(key.clone());
    let report = analyse(&with_key).expect("impact");
    // The same people and admissions as the hand-worked test at 12 months.
    let twelve = &report.cohorts[0].horizons[2];
    assert_eq!(twelve.flagged.admissions, Some(3));
    assert_eq!(twelve.comparison.admissions, Some(2));
    assert_eq!(report.cohorts[0].opted_out, Some(1));
    // Without the key: refused, naming the patients table and no number.
    let refused = analyse(&plan(out.path(), input.path(), exact)).expect_err("refused");
    let message = refused.to_string();
    assert!(
        message.contains("patients") && message.contains("STRATA_PSEUDONYM_KEY"),
        "{message}"
    );
    assert!(
        numbers.iter().all(|(_, n)| !message.contains(n)),
        "{message}"
    );
}

#[test]
fn an_output_folder_without_runs_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sample = root().join("sample-data");
    let result = strata(
        dir.path(),
        &[
            "impact",
            "--out",
            "empty",
            "--input",
            sample.to_str().expect("utf-8 path"),
            "--since",
            "2025-01-01",
        ],
    );
    assert_eq!(result.status.code(), Some(2), "{}", stderr(&result));
    assert!(
        stderr(&result).contains("no flag history"),
        "{}",
        stderr(&result)
    );
}

/// The generated population, the run at the intervention date and
/// `strata impact`, through the binary; returns the 12-month horizon.
fn estimate(dir: &Path, name: &str, effect: Option<&str>) -> serde_json::Value {
    let model = root().join("models/emergency_admission.json");
    let model = model.to_str().expect("utf-8 path");
    let extract = format!("{name}-extract");
    let out = format!("{name}-out");
    let mut generate = vec![
        "generate",
        "--patients",
        "20000",
        "--seed",
        "7",
        "--as-of",
        "2026-03-31",
        "--out",
        &extract,
    ];
    if let Some(x) = effect {
        generate.extend([
            "--intervention-effect",
            x,
            "--intervention-date",
            "2025-03-31",
            "--intervention-model",
            model,
        ]);
    }
    for args in [
        generate,
        vec![
            "run",
            "--input",
            &extract,
            "--out",
            &out,
            "--as-of",
            "2025-03-31",
            "--model",
            model,
        ],
        vec![
            "impact",
            "--out",
            &out,
            "--input",
            &extract,
            "--since",
            "2025-03-31",
        ],
    ] {
        let result = strata(dir, &args);
        assert!(result.status.success(), "{args:?}: {}", stderr(&result));
        if args[0] == "impact" {
            assert!(stdout(&result).contains("12 months: analysed"));
        }
    }
    let json = std::fs::read_to_string(dir.join(&out).join("impact/impact.json")).expect("json");
    let report: serde_json::Value = serde_json::from_str(&json).expect("parse");
    report["cohorts"][0]["horizons"][2].clone()
}

fn reduction(horizon: &serde_json::Value) -> (f64, f64, f64) {
    let r = &horizon["near_threshold"]["reduction"];
    let get = |k: &str| r[k].as_f64().unwrap_or_else(|| panic!("{k} in {horizon}"));
    (get("estimate"), get("lower"), get("upper"))
}

#[test]
fn a_simulated_effect_is_recovered_within_its_interval() {
    // 20,000 people, the default model at 2025-03-31: about 950 flagged and
    // 950 in the band; about 350 first-flagged people within the bandwidth.
    // Without an effect, the interval of the reduction must cover 0; with a
    // 30% hazard reduction it must cover 0.3. The same population and the
    // same flagged people in both (the effect only removes admissions after
    // the run), so the ratio of the two rate ratios isolates the effect: it
    // should be near 1 − 0.3 = 0.7. Its noise is that of thinning about 110
    // admissions (sd of the log about √(0.3/(0.7·110)) ≈ 0.06) plus the
    // refitted slope; 0.55–0.85 is about ±2.5 sd.
    let dir = tempfile::tempdir().expect("tempdir");
    let none = estimate(dir.path(), "none", None);
    let some = estimate(dir.path(), "some", Some("0.3"));
    let (e0, lo0, hi0) = reduction(&none);
    let (e3, lo3, hi3) = reduction(&some);
    assert!(lo0 <= 0.0 && 0.0 <= hi0, "no effect: {e0} ({lo0} to {hi0})");
    assert!(
        lo3 <= 0.3 && 0.3 <= hi3,
        "effect 0.3: {e3} ({lo3} to {hi3})"
    );
    let paired = (1.0 - e3) / (1.0 - e0);
    assert!((0.55..=0.85).contains(&paired), "{paired}");
    // The first-flagged group's people are the same in both; their
    // admissions fall.
    assert_eq!(none["flagged"]["people"], some["flagged"]["people"]);
    let admissions = |h: &serde_json::Value| h["flagged"]["admissions"].as_u64().expect("count");
    assert!(admissions(&some) < admissions(&none));
    // The comparison band is untouched by the effect.
    assert_eq!(none["comparison"], some["comparison"]);
}
