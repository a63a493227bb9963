//! Feature definitions checked on hand-worked tiny extracts. Expected values
//! are worked out from the definitions in docs/feature-catalogue.md, with the
//! working shown.

// Sums such as `0 + 1 + 6` spell out each component, zeros included.
#![allow(clippy::identity_op)]

use chrono::NaiveDate;
use polars::prelude::*;
use strata::features::{FeatureSet, derive_features, outcomes};
use strata::ingest::{Extract, ValidateOptions, load_extract};

use crate::support::{ENCOUNTERS_HEADER, PATIENTS_HEADER, csv_extract};

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn builtin() -> FeatureSet {
    FeatureSet::builtin().expect("built-in catalogue")
}

fn options() -> ValidateOptions {
    ValidateOptions {
        today: d("2026-11-23"),
        max_reject_fraction: 0.05,
        dmd_bnf: None,
    }
}

/// Index date for every case here: 2025-03-31; the 12-month window is 2024-04-01 … 2025-03-31.
const INDEX: &str = "2025-03-31";

fn extract() -> (tempfile::TempDir, Extract) {
    let patients = format!(
        "{PATIENTS_HEADER}
        P1,,1950-06-15,F,A,E01000001,A81001,PCN1,2000-01-01,,false,false
        P2,,1990-01-01,M,Z,,A81001,PCN1,2020-01-01,,false,false
        P3,,1940-01-01,F,A,,A81002,PCN1,2000-01-01,2025-01-01,false,false
        P4,,1960-01-01,M,A,,A81002,PCN1,2025-06-01,,false,false
        P5,,1980-01-01,F,B,,A81002,PCN1,2010-01-01,,true,false"
    );
    let encounters = format!(
        "{ENCOUNTERS_HEADER}
        P1,e1,inpatient,2025-03-31,2025-04-02,true,2500
        P1,e2,inpatient,2024-04-01,2024-04-03,true,1000.5
        P1,e3,inpatient,2024-03-31,2024-04-01,true,
        P1,e4,inpatient,2025-01-10,2025-01-11,false,
        P1,e5,emergency_department,2025-02-01,,false,
        P1,e6,inpatient,2025-04-01,2025-04-05,true,
        P2,e7,emergency_department,2024-12-25,,false,
        P2,e8,emergency_department,2025-03-30,,false,
        P2,e9,inpatient,2026-03-31,2026-04-01,true,
        P5,e10,inpatient,2026-04-01,2026-04-02,true,"
    );
    let diagnoses = "person_id,date,code_system,code,encounter_id
        P1,2020-05-01,icd10,I21,
        P1,2021-05-01,icd10,E11.2,
        P1,2022-05-01,icd10,C78,
        P1,2025-04-02,icd10,I50,
        P1,2022-05-01,snomed,22298006,
        P2,2023-01-01,icd10,j45.9,";
    let medications = "person_id,date,bnf_code
        P1,2024-06-01,0501013B0AAABAB
        P1,2024-09-01,0501013B0AAABAB
        P1,2025-03-31,0212000B0AAABAB
        P1,2024-03-31,0401020K0AAAHAH";
    let social_care = "person_id,start_date,end_date,service_type,weekly_cost_gbp
        P1,2025-03-01,,residential,900
        P2,2024-01-01,2024-06-30,home_care,150
        P5,2025-03-31,2025-03-31,reablement,";
    let dir = csv_extract(&[
        ("social_care", social_care),
        ("patients", &patients),
        ("encounters", &encounters),
        ("diagnoses", diagnoses),
        ("medications", medications),
    ]);
    let extract = load_extract(dir.path(), &options()).expect("valid extract");
    (dir, extract)
}

/// The feature table as (person_id → row) for easy lookup.
fn value<T: Clone>(
    frame: &DataFrame,
    person: &str,
    column: &str,
    get: impl Fn(&Column, usize) -> T,
) -> T {
    let ids = frame
        .column("person_id")
        .expect("ids")
        .str()
        .expect("str")
        .clone();
    let row = ids
        .iter()
        .position(|v| v == Some(person))
        .unwrap_or_else(|| panic!("{person} not in table"));
    get(frame.column(column).expect("column"), row)
}

fn count_of(frame: &DataFrame, person: &str, column: &str) -> i32 {
    value(frame, person, column, |c, r| {
        c.i32().expect("i32").get(r).expect("not null")
    })
}

#[test]
fn population_is_people_born_registered_and_alive_on_the_index_date() {
    let (_dir, extract) = extract();
    let table = derive_features(&extract, d(INDEX), &builtin()).expect("features");
    let mut ids: Vec<String> = table
        .frame
        .column("person_id")
        .expect("ids")
        .str()
        .expect("str")
        .iter()
        .flatten()
        .map(String::from)
        .collect();
    ids.sort();
    // P3 died 2025-01-01 (before the index date); P4 registered 2025-06-01 (after it).
    assert_eq!(ids, ["P1", "P2", "P5"]);
}

#[test]
fn emergency_admissions_count_the_index_date_and_364_days_before_but_not_365() {
    let (_dir, extract) = extract();
    let f = derive_features(&extract, d(INDEX), &builtin())
        .expect("features")
        .frame;
    // P1: e1 on the index date (counts) + e2 on 2024-04-01, 364 days before (counts);
    // e3 on 2024-03-31, 365 days before (outside); e4 elective; e6 after the index date.
    assert_eq!(count_of(&f, "P1", "emergency_admissions_12m"), 1 + 1);
    assert_eq!(count_of(&f, "P2", "emergency_admissions_12m"), 0);
}

#[test]
fn ae_attendances_count_emergency_department_encounters_in_the_window() {
    let (_dir, extract) = extract();
    let f = derive_features(&extract, d(INDEX), &builtin())
        .expect("features")
        .frame;
    assert_eq!(count_of(&f, "P1", "ae_attendances_12m"), 1);
    assert_eq!(count_of(&f, "P2", "ae_attendances_12m"), 1 + 1);
    assert_eq!(
        count_of(&f, "P5", "ae_attendances_12m"),
        0,
        "no events means 0, not null"
    );
}

#[test]
fn medicines_count_distinct_chemical_substances_in_the_window() {
    let (_dir, extract) = extract();
    let f = derive_features(&extract, d(INDEX), &builtin())
        .expect("features")
        .frame;
    // 0501013B0 (twice: one substance) + 0212000B0 = 2; 0401020K0 was 365 days before.
    assert_eq!(count_of(&f, "P1", "medicines_12m"), 2);
}

#[test]
fn charlson_uses_normalised_icd10_up_to_the_index_date() {
    let (_dir, extract) = extract();
    let f = derive_features(&extract, d(INDEX), &builtin())
        .expect("features")
        .frame;
    // P1: I21 (MI, 1) + E11.2 (diabetes with complication, 2) + C78 (metastatic, 6) = 9;
    // I50 is after the index date and the SNOMED code is not ICD-10.
    assert_eq!(count_of(&f, "P1", "charlson_index"), 1 + 2 + 6);
    // P2: j45.9 → J459, chronic pulmonary disease = 1.
    assert_eq!(count_of(&f, "P2", "charlson_index"), 1);
}

#[test]
fn demographics_age_sex_and_imd() {
    let (_dir, extract) = extract();
    let f = derive_features(&extract, d(INDEX), &builtin())
        .expect("features")
        .frame;
    let age = |p| value(&f, p, "age", |c, r| c.i32().expect("i32").get(r));
    // Born 1950-06-15: 74 on 2025-03-31 (birthday not yet reached).
    assert_eq!(age("P1"), Some(74));
    assert_eq!(age("P2"), Some(35));
    let imd = |p| value(&f, p, "imd_decile", |c, r| c.i32().expect("i32").get(r));
    // E01000001 is decile 8 in IMD 2025; P2 has no LSOA.
    assert_eq!(imd("P1"), Some(8));
    assert_eq!(imd("P2"), None);
}

#[test]
fn outcome_counts_days_1_to_365_after_the_index_date() {
    let (_dir, extract) = extract();
    let o = outcomes::emergency_admission_12m(&extract, d(INDEX)).expect("outcome");
    let pids: Vec<u32> = o
        .column(strata::ingest::PID)
        .expect("pid")
        .u32()
        .expect("u32")
        .into_no_null_iter()
        .collect();
    let patients = &extract.patients;
    let id_of = |pid: u32| {
        let pids = patients
            .column(strata::ingest::PID)
            .expect("pid")
            .u32()
            .expect("u32")
            .clone();
        let row = pids
            .into_no_null_iter()
            .position(|p| p == pid)
            .expect("pid in patients");
        patients
            .column("person_id")
            .expect("ids")
            .str()
            .expect("str")
            .get(row)
            .expect("id")
            .to_string()
    };
    let mut people: Vec<String> = pids.into_iter().map(id_of).collect();
    people.sort();
    // P1: e6 on day 1 (2025-04-01). P2: e9 on day 365 (2026-03-31). P5: e10 on day 366 (outside).
    // e1 on the index date itself is a feature, not an outcome.
    assert_eq!(people, ["P1", "P2"]);
}

fn flag_of(frame: &DataFrame, person: &str, column: &str) -> bool {
    value(frame, person, column, |c, r| {
        c.bool().expect("bool").get(r).expect("not null")
    })
}

#[test]
fn six_month_windows_split_at_182_days() {
    let (_dir, extract) = extract();
    let f = derive_features(&extract, d(INDEX), &builtin())
        .expect("features")
        .frame;
    // P1's emergency admissions: e1 on the index date is in 0–6 months; e2 on 2024-04-01
    // (364 days before) is in 6–12 months; e3 on 2024-03-31 (365 days before) is in 12–24 months.
    assert_eq!(count_of(&f, "P1", "emergency_admissions_0_6m"), 1);
    assert_eq!(count_of(&f, "P1", "emergency_admissions_6_12m"), 1);
    assert_eq!(count_of(&f, "P1", "emergency_admissions_12_24m"), 1);
    assert_eq!(
        count_of(&f, "P1", "elective_admissions_12m"),
        1,
        "e4 is elective"
    );
}

#[test]
fn bed_days_count_nights_inside_the_window() {
    let (_dir, extract) = extract();
    let f = derive_features(&extract, d(INDEX), &builtin())
        .expect("features")
        .frame;
    // Inpatient spells of P1 overlapping 2024-04-01 … 2025-03-31 (nights from start to end):
    // e1 2025-03-31→04-02: 1 night inside (the 31st); e2 2024-04-01→04-03: 2;
    // e3 2024-03-31→04-01: the night of 31 March falls before the window: 0; e4 2025-01-10→11: 1.
    assert_eq!(count_of(&f, "P1", "bed_days_12m"), 1 + 2 + 0 + 1);
}

#[test]
fn days_since_last_emergency_admission_and_cost() {
    let (_dir, extract) = extract();
    let f = derive_features(&extract, d(INDEX), &builtin())
        .expect("features")
        .frame;
    let days = |p| {
        value(&f, p, "days_since_emergency_admission", |c, r| {
            c.i32().expect("i32").get(r)
        })
    };
    assert_eq!(days("P1"), Some(0), "e1 is on the index date");
    assert_eq!(
        days("P2"),
        None,
        "no emergency admission up to the index date"
    );
    let cost = |p| value(&f, p, "cost_12m", |c, r| c.f64().expect("f64").get(r));
    // e1 2500 + e2 1000.5 (e4 and e5 have no cost).
    assert_eq!(cost("P1"), Some(2500.0 + 1000.5));
    assert_eq!(cost("P2"), None, "no costs recorded means unknown, not 0");
}

#[test]
fn social_care_active_on_the_index_date_and_days_of_care() {
    let (_dir, extract) = extract();
    let f = derive_features(&extract, d(INDEX), &builtin())
        .expect("features")
        .frame;
    assert!(flag_of(&f, "P1", "social_care_active"));
    assert!(
        flag_of(&f, "P1", "care_home_resident"),
        "an open residential package"
    );
    assert!(!flag_of(&f, "P2", "social_care_active"), "ended 2024-06-30");
    assert!(
        flag_of(&f, "P5", "social_care_active"),
        "starts and ends on the index date"
    );
    assert!(!flag_of(&f, "P5", "care_home_resident"));
    // P1: 2025-03-01 … open, counted to the index date: 31 days of March.
    assert_eq!(count_of(&f, "P1", "social_care_days_12m"), 31);
    // P2: 2024-04-01 (window start) … 2024-06-30 (end date, inclusive) = 30 + 31 + 30 days.
    assert_eq!(count_of(&f, "P2", "social_care_days_12m"), 30 + 31 + 30);
    // P5: one day, the index date (issue #18: this was 0).
    assert_eq!(count_of(&f, "P5", "social_care_days_12m"), 1);
    let kind = |p| {
        value(&f, p, "social_care_type", |c, r| {
            c.str().expect("str").get(r).map(String::from)
        })
    };
    assert_eq!(kind("P1").as_deref(), Some("residential"));
}

#[test]
fn polypharmacy_thresholds_and_derived_demographics() {
    let (_dir, extract) = extract();
    let f = derive_features(&extract, d(INDEX), &builtin())
        .expect("features")
        .frame;
    assert!(!flag_of(&f, "P1", "polypharmacy_5"), "2 substances");
    let text = |p, c| {
        value(&f, p, c, |col, r| {
            col.str().expect("str").get(r).map(String::from)
        })
    };
    assert_eq!(text("P1", "age_band").as_deref(), Some("65-74"));
    assert_eq!(text("P1", "ethnicity_group").as_deref(), Some("White"));
    assert_eq!(text("P5", "ethnicity_group").as_deref(), Some("White"));
    assert_eq!(text("P2", "ethnicity_group").as_deref(), Some("Not stated"));
    // Decile 8 → quintile 4.
    assert_eq!(
        value(&f, "P1", "imd_quintile", |c, r| c
            .i32()
            .expect("i32")
            .get(r)),
        Some(4)
    );
    // Quan 2011: MI 0 + diabetes with complication 1 + metastatic 6 = 7.
    assert_eq!(count_of(&f, "P1", "charlson_quan_2011"), 0 + 1 + 6);
}

#[test]
fn a_feature_defined_only_in_toml() {
    let (dir, extract) = extract();
    let file = dir.path().join("extra.toml");
    std::fs::write(
        &file,
        r#"
[[feature]]
name = "ae_or_emergency_30d"
kind = "events"
table = "encounters"
where = { setting = ["emergency_department", "inpatient"], emergency = false }
window = "-30d..0d"
aggregate = "count"
description = "Non-emergency-flagged A&E or inpatient encounters in the 30 days ending on the index date."
"#,
    )
    .expect("write toml");
    let set = FeatureSet::with_file(&file).expect("valid declarations");
    let f = derive_features(&extract, d(INDEX), &set)
        .expect("features")
        .frame;
    // P1: e5 (A&E, 2025-02-01) is 58 days before: outside; e4 (2025-01-10) too. P2: e8 A&E on 2025-03-30: inside.
    assert_eq!(count_of(&f, "P1", "ae_or_emergency_30d"), 0);
    assert_eq!(count_of(&f, "P2", "ae_or_emergency_30d"), 1);
}

#[test]
fn a_gp_only_extract_without_optional_tables_gets_zero_features_not_errors() {
    let patients = format!(
        "{PATIENTS_HEADER}\n        P1,,1950-06-15,F,A,,A81001,PCN1,2000-01-01,,false,false"
    );
    let encounters = format!("{ENCOUNTERS_HEADER}\n        P1,e1,gp,2025-03-01,,false,");
    let dir = csv_extract(&[("patients", &patients), ("encounters", &encounters)]);
    let extract = load_extract(dir.path(), &options()).expect("valid extract");
    let f = derive_features(&extract, d(INDEX), &builtin())
        .expect("features")
        .frame;
    assert_eq!(
        count_of(&f, "P1", "medicines_12m"),
        0,
        "no medications table: 0 medicines"
    );
    assert_eq!(
        count_of(&f, "P1", "charlson_index"),
        0,
        "no diagnoses table: no comorbidity"
    );
    assert_eq!(count_of(&f, "P1", "gp_contacts_12m"), 1);
    assert!(
        !flag_of(&f, "P1", "social_care_active"),
        "no social_care table: no package"
    );
    assert_eq!(
        value(&f, "P1", "efi_category", |c, r| c
            .str()
            .expect("str")
            .get(r)
            .map(String::from))
        .as_deref(),
        Some("fit")
    );
}

#[test]
fn toml_features_can_filter_by_a_users_code_list() {
    let (dir, extract) = extract();
    std::fs::write(
        dir.path().join("cardiac.csv"),
        "code,description\nI21,acute myocardial infarction\nI50,heart failure\n",
    )
    .expect("list");
    std::fs::write(
        dir.path().join("statins.csv"),
        "code,description\n0212000B0,atorvastatin\n",
    )
    .expect("list");
    let file = dir.path().join("extra.toml");
    std::fs::write(
        &file,
        r#"
[[feature]]
name = "cardiac_diagnoses"
kind = "events"
table = "diagnoses"
codelist = "cardiac.csv"
code_system = "icd10"
window = "all"
aggregate = "count"
description = "ICD-10 diagnoses in the cardiac list up to the index date."

[[feature]]
name = "statin_issues_12m"
kind = "events"
table = "medications"
codelist = "statins.csv"
window = "-365d..0d"
aggregate = "count"
description = "Statin prescriptions (BNF prefix) in the last 12 months."
"#,
    )
    .expect("write toml");
    let set = FeatureSet::with_file(&file).expect("valid declarations");
    let f = derive_features(&extract, d(INDEX), &set)
        .expect("features")
        .frame;
    // P1: I21 (2020) is in the list; I50 is dated after the index date; E11.2 and C78 are not listed.
    assert_eq!(count_of(&f, "P1", "cardiac_diagnoses"), 1);
    // P2: J45.9 only.
    assert_eq!(count_of(&f, "P2", "cardiac_diagnoses"), 0);
    // P1: 0212000B0AAABAB on the index date matches the 9-character prefix; the others do not.
    assert_eq!(count_of(&f, "P1", "statin_issues_12m"), 1);
}

#[test]
fn a_code_list_must_suit_its_table() {
    let (dir, _extract) = extract();
    std::fs::write(dir.path().join("l.csv"), "code,description\nI21,x\n").expect("list");
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "[[feature]]\nname = \"x\"\nkind = \"events\"\ntable = \"diagnoses\"\ncodelist = \"l.csv\"\nwindow = \"all\"\naggregate = \"count\"\ndescription = \"\"\n",
    )
    .expect("write");
    let Err(e) = FeatureSet::with_file(&file) else {
        panic!("code_system is required for diagnoses")
    };
    assert!(
        e.to_string()
            .contains("`code_system` (icd10 or snomed) is required"),
        "{e}"
    );
}

/// Person ids with `outcome` in days 1–365 after 2025-03-31, sorted.
fn people_with(extract: &Extract, outcome: outcomes::Outcome) -> Vec<String> {
    let events = outcome.events(extract, d(INDEX)).expect("outcome");
    let joined = extract
        .patients
        .clone()
        .lazy()
        .join(
            events.lazy(),
            [col(strata::ingest::PID)],
            [col(strata::ingest::PID)],
            JoinArgs::new(JoinType::Inner),
        )
        .sort(["person_id"], Default::default())
        .collect()
        .expect("join");
    joined
        .column("person_id")
        .expect("ids")
        .str()
        .expect("str")
        .iter()
        .map(|v| v.unwrap_or_default().to_string())
        .collect()
}

#[test]
fn mortality_and_care_home_entry_count_days_1_to_365_after_the_index_date() {
    // Deaths: D0 on the index date (not an outcome: dead at the index date),
    // D1 on day 1, D365 on day 365, D366 on day 366 (outside).
    // Care: C1 residential from day 1; C2 nursing from day 365; C3 home care
    // from day 10 (not a care home); C4 residential from day 366 (outside);
    // C5 nursing from the index date itself (already resident, not an entry).
    let patients = format!(
        "{PATIENTS_HEADER}
        D0,,1930-01-01,F,A,,A81001,PCN1,2000-01-01,2025-03-31,false,false
        D1,,1930-01-01,F,A,,A81001,PCN1,2000-01-01,2025-04-01,false,false
        D365,,1930-01-01,M,A,,A81001,PCN1,2000-01-01,2026-03-31,false,false
        D366,,1930-01-01,M,A,,A81001,PCN1,2000-01-01,2026-04-01,false,false
        C1,,1930-01-01,F,A,,A81001,PCN1,2000-01-01,,false,false
        C2,,1930-01-01,F,A,,A81001,PCN1,2000-01-01,,false,false
        C3,,1930-01-01,F,A,,A81001,PCN1,2000-01-01,,false,false
        C4,,1930-01-01,F,A,,A81001,PCN1,2000-01-01,,false,false
        C5,,1930-01-01,F,A,,A81001,PCN1,2000-01-01,,false,false"
    );
    let social_care = "person_id,start_date,end_date,service_type,weekly_cost_gbp
        C1,2025-04-01,,residential,900
        C2,2026-03-31,,nursing,1200
        C3,2025-04-10,,home_care,300
        C4,2026-04-01,,residential,900
        C5,2025-03-31,,nursing,1200";
    let dir = csv_extract(&[("patients", &patients), ("social_care", social_care)]);
    let options = ValidateOptions {
        today: d("2026-11-23"),
        max_reject_fraction: 0.05,
        dmd_bnf: None,
    };
    let extract = load_extract(dir.path(), &options).expect("valid extract");
    assert_eq!(
        people_with(&extract, outcomes::Outcome::Mortality),
        ["D1", "D365"]
    );
    assert_eq!(
        people_with(&extract, outcomes::Outcome::CareHomeEntry),
        ["C1", "C2"]
    );
    // C5 is in a care home on the index date, so the care-home-entry cohort leaves them out.
    let f = derive_features(&extract, d(INDEX), &builtin())
        .expect("features")
        .frame;
    let resident = |p| {
        value(&f, p, "care_home_resident", |c, r| {
            c.bool().expect("bool").get(r)
        })
    };
    assert_eq!(resident("C5"), Some(true));
    assert_eq!(resident("C1"), Some(false));
}

#[test]
fn the_last_event_date_is_the_latest_valid_main_date_found_by_validation() {
    let (_dir, extract) = extract();
    // Encounter e10 starts 2026-04-01, the latest main date of any table
    // (e9's end date 2026-04-01 is not a main date; social care ends earlier).
    assert_eq!(extract.last_event_date(), Some(d("2026-04-01")));
    let encounters = extract.report.table("encounters").expect("encounters");
    assert_eq!(encounters.last_event_date, Some(d("2026-04-01")));
    let medications = extract.report.table("medications").expect("medications");
    assert_eq!(medications.last_event_date, Some(d("2025-03-31")));
    assert_eq!(
        extract
            .report
            .table("patients")
            .expect("patients")
            .last_event_date,
        None
    );
}

#[test]
fn sums_and_latest_values_do_not_depend_on_row_order() {
    // In floating point (0.1 + 0.2) + 0.3 = 0.6000000000000001 but
    // 0.3 + (0.2 + 0.1) = 0.6: sums are taken in integer millionths, so both
    // orders give 0.6 exactly. Two packages start on the same latest date:
    // the greater value ("residential" > "home_care") is the latest in
    // either order.
    let patients = format!(
        "{PATIENTS_HEADER}
        A,,1950-01-01,F,A,,A81001,PCN1,2000-01-01,,false,false
        B,,1950-01-01,F,A,,A81001,PCN1,2000-01-01,,false,false"
    );
    let encounters = format!(
        "{ENCOUNTERS_HEADER}
        A,a1,outpatient,2025-01-01,,false,0.1
        A,a2,outpatient,2025-01-02,,false,0.2
        A,a3,outpatient,2025-01-03,,false,0.3
        B,b3,outpatient,2025-01-03,,false,0.3
        B,b2,outpatient,2025-01-02,,false,0.2
        B,b1,outpatient,2025-01-01,,false,0.1"
    );
    let social_care = "person_id,start_date,end_date,service_type,weekly_cost_gbp
        A,2025-02-01,,home_care,100
        A,2025-02-01,,residential,900
        B,2025-02-01,,residential,900
        B,2025-02-01,,home_care,100";
    let dir = csv_extract(&[
        ("patients", &patients),
        ("encounters", &encounters),
        ("social_care", social_care),
    ]);
    let extract = load_extract(dir.path(), &options()).expect("valid extract");
    let f = derive_features(&extract, d(INDEX), &builtin())
        .expect("features")
        .frame;
    for p in ["A", "B"] {
        let cost = value(&f, p, "cost_12m", |c, r| c.f64().expect("f64").get(r));
        assert_eq!(cost, Some(0.6), "{p}");
        let kind = value(&f, p, "social_care_type", |c, r| {
            c.str().expect("str").get(r).map(String::from)
        });
        assert_eq!(kind.as_deref(), Some("residential"), "{p}");
    }
}

/// Issue #18: `social_care_days_12m` stopped the day before a package's
/// `end_date` while `social_care_active` counts the package on that day.
/// A package covers start_date … end_date, both inclusive; an open package
/// runs to the index date; the window is 2024-04-01 … 2025-03-31.
#[test]
fn social_care_days_count_the_end_date_as_social_care_active_does() {
    let people: String = (1..=10)
        .map(|k| format!("\n        S{k},,1940-01-01,F,A,,A81001,PCN1,2000-01-01,,false,false"))
        .collect();
    let patients = format!("{PATIENTS_HEADER}{people}");
    let social_care = "person_id,start_date,end_date,service_type,weekly_cost_gbp
        S1,2025-03-25,2025-03-31,home_care,
        S2,2025-01-10,2025-01-10,reablement,
        S3,2025-03-22,,home_care,
        S4,2024-01-01,2024-03-31,home_care,
        S5,2024-04-01,2024-04-10,day_care,
        S6,2025-02-01,2025-02-10,home_care,
        S6,2025-02-05,2025-02-14,day_care,
        S7,2024-03-01,2024-04-01,home_care,
        S8,2025-03-31,2025-03-31,reablement,
        S9,2025-04-01,,residential,
        S10,2024-01-01,,nursing,";
    let dir = csv_extract(&[("patients", &patients), ("social_care", social_care)]);
    let extract = load_extract(dir.path(), &options()).expect("valid extract");
    let f = derive_features(&extract, d(INDEX), &builtin())
        .expect("features")
        .frame;
    let days = |p| count_of(&f, p, "social_care_days_12m");
    let active = |p| flag_of(&f, p, "social_care_active");
    // Ends on the index date: 25 … 31 March = 7 days, and active on the index date.
    assert_eq!(days("S1"), 31 - 25 + 1);
    assert!(active("S1"));
    // A one-day package (start = end) is 1 day, not 0.
    assert_eq!(days("S2"), 1);
    assert!(!active("S2"));
    // Open from 22 March: 22 … 31 March (the index date) = 10 days.
    assert_eq!(days("S3"), 31 - 22 + 1);
    assert!(active("S3"));
    // Ends the day before the window starts: nothing inside.
    assert_eq!(days("S4"), 0);
    assert!(!active("S4"));
    // Starts on the window's first day: 1 … 10 April = 10 days.
    assert_eq!(days("S5"), 10);
    // Overlapping packages count each day once per package: 10 + 10.
    assert_eq!(days("S6"), 10 + 10);
    // Ends on the window's first day: that one day counts.
    assert_eq!(days("S7"), 1);
    // One day, on the index date.
    assert_eq!(days("S8"), 1);
    assert!(active("S8"));
    // Starts the day after the index date: not counted, not active.
    assert_eq!(days("S9"), 0);
    assert!(!active("S9"));
    // Open since before the window: every day of it, 365.
    assert_eq!(days("S10"), 365);
    assert!(active("S10"));
}

/// Bed days are a different measure from days of care: nights, each counted
/// on the day it begins (the midnight census), so the discharge day is not a
/// night and a same-day discharge has none. Window 2024-04-01 … 2025-03-31.
#[test]
fn bed_days_are_nights_counted_on_the_day_each_begins() {
    let people: String = (1..=6)
        .map(|k| format!("\n        B{k},,1940-01-01,F,A,,A81001,PCN1,2000-01-01,,false,false"))
        .collect();
    let patients = format!("{PATIENTS_HEADER}{people}");
    let encounters = format!(
        "{ENCOUNTERS_HEADER}
        B1,b1,inpatient,2025-01-10,2025-01-10,true,
        B2,b2,inpatient,2025-01-10,2025-01-13,false,
        B3,b3,inpatient,2025-03-29,,true,
        B4,b4,inpatient,2024-03-30,2024-04-02,true,
        B5,b5,inpatient,2025-03-31,2025-04-03,true,
        B6,b6,outpatient,2025-01-10,2025-01-12,false,"
    );
    let dir = csv_extract(&[("patients", &patients), ("encounters", &encounters)]);
    let extract = load_extract(dir.path(), &options()).expect("valid extract");
    let f = derive_features(&extract, d(INDEX), &builtin())
        .expect("features")
        .frame;
    let nights = |p| count_of(&f, p, "bed_days_12m");
    // Admitted and discharged the same day: no night.
    assert_eq!(nights("B1"), 0);
    // 10 → 13 January: the nights of the 10th, 11th and 12th.
    assert_eq!(nights("B2"), 3);
    // Still in hospital: the nights of 29, 30 and 31 March (the index date's night counts).
    assert_eq!(nights("B3"), 3);
    // 30 March → 2 April 2024: the nights of 30 and 31 March fall before the
    // window; the night of 1 April is inside; 2 April is the discharge day.
    assert_eq!(nights("B4"), 1);
    // Admitted on the index date: that night counts, the later ones are after it.
    assert_eq!(nights("B5"), 1);
    // Not an inpatient spell.
    assert_eq!(nights("B6"), 0);
}
