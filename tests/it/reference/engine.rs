//! The naive reference engine: every built-in feature computed per person
//! with plain loops over the rows, from the published definitions
//! (src/features/builtin.toml descriptions, docs/feature-catalogue.md,
//! docs/codelists.md). Written to be obviously right, not fast: no Polars,
//! no tally, no code shared with the production engine.
//!
//! Windows, as the catalogue's header states: `-Nd..-Md` is days
//! index−N+1 … index−M, both inclusive, so with `rel` = date − index in days
//! a row is in the window when −(N−1) ≤ rel ≤ −M.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};

use super::codes::{LTC_KEYS, lists};
use super::rows::{Patient, Rows};

/// One cell of a feature table.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Bool(bool),
    Float(f64),
    Text(String),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Null => write!(f, "null"),
            Value::Int(v) => write!(f, "{v}"),
            Value::Bool(v) => write!(f, "{v}"),
            Value::Float(v) => write!(f, "{v}"),
            Value::Text(v) => write!(f, "{v:?}"),
        }
    }
}

/// A feature window `-Nd..-Md` as (N, M).
#[derive(Clone, Copy)]
struct Days(i64, i64);

const W12: Days = Days(365, 0);
const W0_6: Days = Days(182, 0);
const W6_12: Days = Days(365, 182);
const W12_24: Days = Days(730, 365);

impl Days {
    /// Is day `rel` (date − index) inside the window?
    fn holds(self, rel: i64) -> bool {
        -(self.0 - 1) <= rel && rel <= -self.1
    }
}

/// Whole years from `birth` to `on`; a 29 February birthday falls on 1 March in other years.
fn age(birth: NaiveDate, on: NaiveDate) -> i64 {
    let mut years = i64::from(on.year() - birth.year());
    let birthday_passed =
        on.month() > birth.month() || (on.month() == birth.month() && on.day() >= birth.day());
    if !birthday_passed {
        years -= 1;
    }
    years
}

fn age_band(age: i64) -> &'static str {
    match age {
        ..=4 => "0-4",
        5..=17 => "5-17",
        18..=29 => "18-29",
        30..=44 => "30-44",
        45..=64 => "45-64",
        65..=74 => "65-74",
        75..=84 => "75-84",
        _ => "85+",
    }
}

fn ethnicity_group(code: Option<&str>) -> &'static str {
    match code {
        Some("A") | Some("B") | Some("C") => "White",
        Some("D") | Some("E") | Some("F") | Some("G") => "Mixed",
        Some("H") | Some("J") | Some("K") | Some("L") => "Asian",
        Some("M") | Some("N") | Some("P") => "Black",
        Some("R") | Some("S") => "Other",
        _ => "Not stated",
    }
}

/// Born, registered and alive on the index date (docs/feature-catalogue.md).
pub fn in_scope(p: &Patient, index: NaiveDate) -> bool {
    p.date_of_birth <= index
        && p.registered_from <= index
        && p.date_of_death.is_none_or(|d| d > index)
}

/// Every column of the feature table (keys and features) for each person in scope.
pub fn features(rows: &Rows, index: NaiveDate) -> BTreeMap<String, BTreeMap<String, Value>> {
    rows.patients
        .iter()
        .filter(|p| in_scope(p, index))
        .map(|p| (p.person_id.clone(), person(rows, p, index)))
        .collect()
}

fn person(rows: &Rows, p: &Patient, index: NaiveDate) -> BTreeMap<String, Value> {
    let rel = |d: NaiveDate| (d - index).num_days();
    let id = &p.person_id;
    let mut out: BTreeMap<String, Value> = BTreeMap::new();
    let text = |s: Option<&str>| s.map_or(Value::Null, |s| Value::Text(s.to_string()));
    let mut put = |name: &str, v: Value| {
        assert!(out.insert(name.to_string(), v).is_none(), "{name} twice");
    };

    // Keys.
    put("person_id", Value::Text(id.clone()));
    put("practice_code", Value::Text(p.practice_code.to_string()));
    put("pcn_code", text(p.pcn_code));
    put("lsoa", text(p.lsoa));

    // Demographics.
    let years = age(p.date_of_birth, index);
    put("age", Value::Int(years));
    put("age_band", Value::Text(age_band(years).into()));
    put("sex", Value::Text(p.sex.into()));
    let decile = p
        .lsoa
        .and_then(|l| rows.lsoa_imd.iter().find(|r| r.lsoa == l))
        .map(|r| i64::from(r.imd_decile));
    put("imd_decile", decile.map_or(Value::Null, Value::Int));
    // Deciles 1-2 are quintile 1, 3-4 quintile 2, …
    put(
        "imd_quintile",
        decile.map_or(Value::Null, |d| Value::Int((d + 1) / 2)),
    );
    put(
        "ethnicity_group",
        Value::Text(ethnicity_group(p.ethnicity).into()),
    );

    // Utilisation: counts of encounters by the day they start.
    let encounters: Vec<_> = rows
        .encounters
        .iter()
        .filter(|e| &e.person_id == id)
        .collect();
    type Select = fn(&super::rows::Encounter) -> bool;
    let kinds: [(&str, Select); 5] = [
        ("emergency_admissions", |e| {
            e.setting == "inpatient" && e.emergency
        }),
        ("elective_admissions", |e| {
            e.setting == "inpatient" && !e.emergency
        }),
        ("ae_attendances", |e| e.setting == "emergency_department"),
        ("outpatient_attendances", |e| e.setting == "outpatient"),
        ("gp_contacts", |e| e.setting == "gp"),
    ];
    for (kind, select) in kinds {
        for (suffix, window) in [
            ("12m", W12),
            ("0_6m", W0_6),
            ("6_12m", W6_12),
            ("12_24m", W12_24),
        ] {
            let mut n = 0;
            for e in &encounters {
                if select(e) && window.holds(rel(e.start_date)) {
                    n += 1;
                }
            }
            put(&format!("{kind}_{suffix}"), Value::Int(n));
        }
    }

    // Bed days: each night of a spell is the night of a day from start_date
    // up to the day before end_date; it counts when that day is in the
    // window. An open spell is still in hospital: its nights run to the
    // index date's (the description said nothing of open ends until the
    // reference engine asked; this is what production did).
    let mut bed_days = 0;
    for e in encounters.iter().filter(|e| e.setting == "inpatient") {
        let last_night = e.end_date.map_or(0, |end| rel(end) - 1);
        for night in rel(e.start_date)..=last_night {
            if W12.holds(night) {
                bed_days += 1;
            }
        }
    }
    put("bed_days_12m", Value::Int(bed_days));

    let mut latest: Option<i64> = None;
    for e in &encounters {
        if e.setting == "inpatient" && e.emergency && rel(e.start_date) <= 0 {
            latest = Some(latest.map_or(rel(e.start_date), |l: i64| l.max(rel(e.start_date))));
        }
    }
    put(
        "days_since_emergency_admission",
        latest.map_or(Value::Null, |l| Value::Int(-l)),
    );

    let mut cost: Option<i64> = None;
    for e in &encounters {
        if let Some(pence) = e.cost_pence
            && W12.holds(rel(e.start_date))
        {
            cost = Some(cost.unwrap_or(0) + pence);
        }
    }
    put(
        "cost_12m",
        cost.map_or(Value::Null, |c| Value::Float(c as f64 / 100.0)),
    );

    // Medicines: distinct medicines, by ingredient at the finest level each row allows
    // (docs/data-contract.md, "medications"): a bnf_code's chemical substance
    // (first 9 characters); else a BNF `code`'s; else a dm+d code's through
    // the map; else the product code itself, named with its system.
    let substance = |bnf: &str| -> String { bnf.chars().take(9).collect() };
    let mut ingredients: BTreeSet<String> = BTreeSet::new();
    for m in rows.medications.iter().flatten() {
        if &m.person_id != id || !W12.holds(rel(m.date)) {
            continue;
        }
        let mapped = |code: &str| {
            rows.dmd_bnf
                .iter()
                .find(|(dmd, _)| dmd == code)
                .map(|(_, bnf)| substance(bnf))
        };
        let ingredient = match (&m.bnf_code, m.code_system, &m.code) {
            (Some(bnf), _, _) => substance(bnf),
            (None, Some("bnf"), Some(code)) => substance(code),
            (None, Some("dmd"), Some(code)) => {
                mapped(code).unwrap_or_else(|| format!("dmd product {code}"))
            }
            (None, Some(system), Some(code)) => format!("{system} product {code}"),
            other => panic!("the generator wrote a medications row without a code: {other:?}"),
        };
        // Medicines only (BNF chapters 1-15): a BNF code, given or mapped,
        // in chapters 18-23 is a diagnostic agent, other preparation,
        // dressing or appliance. A product with no BNF code has no chapter
        // and counts.
        let chapter: String = ingredient.chars().take(2).collect();
        if ["18", "19", "20", "21", "22", "23"].contains(&chapter.as_str()) {
            continue;
        }
        ingredients.insert(ingredient);
    }
    let medicines = ingredients.len() as i64;
    put("medicines_12m", Value::Int(medicines));
    put("polypharmacy_5", Value::Bool(medicines >= 5));
    put("polypharmacy_10", Value::Bool(medicines >= 10));

    // Social care.
    let packages: Vec<_> = rows
        .social_care
        .iter()
        .flatten()
        .filter(|s| &s.person_id == id)
        .collect();
    let active = |s: &&&super::rows::SocialCare| {
        rel(s.start_date) <= 0 && s.end_date.is_none_or(|e| rel(e) >= 0)
    };
    put(
        "social_care_active",
        Value::Bool(packages.iter().any(|s| active(&s))),
    );
    put(
        "care_home_resident",
        Value::Bool(
            packages
                .iter()
                .filter(|s| matches!(s.service_type, "residential" | "nursing"))
                .any(|s| active(&s)),
        ),
    );
    // The latest-starting package up to the index date; on a tie of days the
    // alphabetically last service type (the description, and the tally's `Last`).
    let mut last: Option<(i64, &str)> = None;
    for s in &packages {
        let key = (rel(s.start_date), s.service_type);
        if key.0 <= 0 && last.is_none_or(|l| key > l) {
            last = Some(key);
        }
    }
    put("social_care_type", text(last.map(|l| l.1)));
    // Each day from start_date to end_date inclusive (open: to the index
    // date) that falls in the window, once per package.
    let mut care_days = 0;
    for s in &packages {
        let end = s.end_date.map_or(0, rel);
        for day in rel(s.start_date)..=end {
            if W12.holds(day) {
                care_days += 1;
            }
        }
    }
    put("social_care_days_12m", Value::Int(care_days));

    // Code-list scores.
    let lists = lists();
    let diagnoses: Vec<_> = rows
        .diagnoses
        .iter()
        .flatten()
        .filter(|d| &d.person_id == id && rel(d.date) <= 0)
        .collect();
    let icd10: Vec<&str> = diagnoses
        .iter()
        .filter(|d| d.code_system == "icd10")
        .map(|d| d.code.as_str())
        .collect();

    let snomed: Vec<&str> = diagnoses
        .iter()
        .filter(|d| d.code_system == "snomed")
        .map(|d| d.code.as_str())
        .collect();

    // Charlson and Elixhauser: the union of the ICD-10 and SNOMED CT
    // categories, then the hierarchy.
    let mut charlson: BTreeSet<usize> = BTreeSet::new();
    for code in &icd10 {
        charlson.extend(lists.charlson.of(code));
    }
    for code in &snomed {
        charlson.extend(lists.charlson_of_snomed(code));
    }
    // Hierarchy: the severe form replaces the mild one.
    for (mild, severe) in [(9, 15), (10, 11), (14, 16)] {
        if charlson.contains(&severe) {
            charlson.remove(&mild);
        }
    }
    let charlson_1987: i64 = charlson.iter().map(|&c| lists.charlson_weights[c].0).sum();
    let quan_2011: i64 = charlson.iter().map(|&c| lists.charlson_weights[c].1).sum();
    put("charlson_index", Value::Int(charlson_1987));
    put("charlson_quan_2011", Value::Int(quan_2011));
    put("metastatic_cancer", Value::Bool(charlson.contains(&16)));

    let mut elixhauser: BTreeSet<usize> = BTreeSet::new();
    for code in &icd10 {
        elixhauser.extend(lists.elixhauser.of(code));
    }
    for code in &snomed {
        elixhauser.extend(lists.elixhauser_of_snomed(code));
    }
    // Hypertension, diabetes, cancer: the complicated form replaces the other.
    for (mild, severe) in [(5, 6), (10, 11), (19, 18)] {
        if elixhauser.contains(&severe) {
            elixhauser.remove(&mild);
        }
    }
    put(
        "elixhauser_score",
        Value::Int(elixhauser.iter().map(|&c| lists.van_walraven[c]).sum()),
    );

    let mut hfrs_groups: BTreeSet<usize> = BTreeSet::new();
    for d in &diagnoses {
        if d.code_system == "icd10"
            && Days(730, 0).holds(rel(d.date))
            && let Some(g) = lists.hfrs_of(&d.code)
        {
            hfrs_groups.insert(g);
        }
    }
    let tenths: i64 = hfrs_groups.iter().map(|&g| lists.hfrs[g].1).sum();
    // HFRS is defined on ICD-10 only: an extract with no ICD-10 diagnosis up
    // to the index date (anyone's) cannot compute it, so it is null.
    let any_icd10 = rows
        .diagnoses
        .iter()
        .flatten()
        .any(|d| d.code_system == "icd10" && rel(d.date) <= 0);
    put(
        "hfrs",
        if any_icd10 {
            Value::Float(tenths as f64 / 10.0)
        } else {
            Value::Null
        },
    );

    let mut ltcs: BTreeSet<String> = BTreeSet::new();
    for d in &diagnoses {
        match d.code_system {
            "icd10" => ltcs.extend(lists.ltc_of_icd10(&d.code)),
            _ => ltcs.extend(lists.ltc_of_snomed(&d.code)),
        }
    }
    for key in LTC_KEYS {
        put(&format!("ltc_{key}"), Value::Bool(ltcs.contains(key)));
    }
    put(
        "ltc_count",
        Value::Int(LTC_KEYS.iter().filter(|k| ltcs.contains(**k)).count() as i64),
    );

    // eFI: SNOMED CT diagnoses and observations, plus polypharmacy.
    let mut deficits: BTreeSet<String> = BTreeSet::new();
    for d in &diagnoses {
        if d.code_system == "snomed" {
            deficits.extend(lists.efi_of_snomed(&d.code));
        }
    }
    for o in rows.observations.iter().flatten() {
        if &o.person_id == id && o.code_system == "snomed" && rel(o.date) <= 0 {
            deficits.extend(lists.efi_of_snomed(&o.code));
        }
    }
    // Reported only for people aged 65 and over on the index date (the
    // population Clegg et al. 2016 validated it in): null below.
    let k = deficits.len() as i64 + i64::from(medicines >= 5);
    // fit <= 0.12 (0-4 of 36), mild <= 0.24 (5-8), moderate <= 0.36 (9-12), severe (13+).
    let category = match k {
        0..=4 => "fit",
        5..=8 => "mild frailty",
        9..=12 => "moderate frailty",
        _ => "severe frailty",
    };
    if years >= 65 {
        put("efi", Value::Float(k as f64 / 36.0));
        put("efi_category", Value::Text(category.into()));
    } else {
        put("efi", Value::Null);
        put("efi_category", Value::Null);
    }
    out
}
