//! One plain struct per contract table (docs/data-contract.md), and a writer
//! that puts a set of them on disk as the contract's CSV files.

use std::fmt::Write as _;
use std::path::Path;

use chrono::NaiveDate;

#[derive(Debug, Clone)]
pub struct Patient {
    pub person_id: String,
    pub date_of_birth: NaiveDate,
    pub sex: &'static str,
    pub ethnicity: Option<&'static str>,
    pub lsoa: Option<&'static str>,
    pub practice_code: &'static str,
    pub pcn_code: Option<&'static str>,
    pub registered_from: NaiveDate,
    pub date_of_death: Option<NaiveDate>,
    pub opt_out_national: bool,
    pub opt_out_type1: bool,
}

#[derive(Debug, Clone)]
pub struct Encounter {
    pub person_id: String,
    pub encounter_id: String,
    pub setting: &'static str,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub emergency: bool,
    /// Pence, so sums are exact; written as pounds with two decimals.
    pub cost_pence: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Diagnosis {
    pub person_id: String,
    pub date: NaiveDate,
    /// `icd10` or `snomed`.
    pub code_system: &'static str,
    pub code: String,
    pub encounter_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Medication {
    pub person_id: String,
    pub date: NaiveDate,
    pub bnf_code: Option<String>,
    /// The coded form: `bnf`, `dmd` or `rxnorm`, with `code`.
    pub code_system: Option<&'static str>,
    pub code: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Observation {
    pub person_id: String,
    pub date: NaiveDate,
    pub code_system: &'static str,
    pub code: String,
    pub value: Option<f64>,
    pub unit: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub struct SocialCare {
    pub person_id: String,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub service_type: &'static str,
    pub weekly_cost_gbp: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct LsoaImd {
    pub lsoa: &'static str,
    pub imd_decile: i32,
}

/// A whole extract as rows. `None` for an optional table means its file is
/// not written at all (a GP-only extract has no `social_care`).
#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub patients: Vec<Patient>,
    pub encounters: Vec<Encounter>,
    pub diagnoses: Option<Vec<Diagnosis>>,
    pub medications: Option<Vec<Medication>>,
    pub observations: Option<Vec<Observation>>,
    pub social_care: Option<Vec<SocialCare>>,
    pub lsoa_imd: Vec<LsoaImd>,
    /// The dm+d → BNF map the run is given (dm+d code, BNF code); empty = none.
    pub dmd_bnf: Vec<(String, String)>,
    /// How values are spelt in the CSV, all valid per the contract: 0 as
    /// written; 1 bools as `1`/`0` and codes padded with spaces; 2 bools as
    /// `Yes`/`no`; 3 bools as `T`/`f` and codes padded.
    pub spelling: u8,
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map_or(String::new(), T::to_string)
}

/// A CSV cell: quoted when it holds a comma, quote or surrounding space.
fn cell(s: &str) -> String {
    if s.contains([',', '"']) || s.trim() != s {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A bool as the contract's CSV accepts it (`true`/`false`, `1`/`0`, `t`/`f`, `yes`/`no`, any case).
fn flag(b: bool, spelling: u8) -> &'static str {
    match (spelling, b) {
        (1, true) => "1",
        (1, false) => "0",
        (2, true) => "Yes",
        (2, false) => "no",
        (3, true) => "T",
        (3, false) => "f",
        (_, true) => "true",
        (_, false) => "false",
    }
}

/// A code column's value: "exact match after trimming spaces", so padding is valid.
fn code(value: &str, spelling: u8) -> String {
    if spelling % 2 == 1 {
        cell(&format!(" {value} "))
    } else {
        value.to_string()
    }
}

fn pounds(pence: i64) -> String {
    let sign = if pence < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", pence.abs() / 100, pence.abs() % 100)
}

/// Writes `rows` as `NAME.csv` files into `dir`.
pub fn write_csv(rows: &Rows, dir: &Path) {
    let sp = rows.spelling;
    let mut files: Vec<(&str, String)> = Vec::new();
    let mut t = String::from(
        "person_id,nhs_number,date_of_birth,sex,ethnicity,lsoa,practice_code,pcn_code,registered_from,date_of_death,opt_out_national,opt_out_type1\n",
    );
    for p in &rows.patients {
        writeln!(
            t,
            "{},,{},{},{},{},{},{},{},{},{},{}",
            cell(&p.person_id),
            p.date_of_birth,
            code(p.sex, sp),
            p.ethnicity.map_or(String::new(), |e| code(e, sp)),
            opt(&p.lsoa),
            p.practice_code,
            opt(&p.pcn_code),
            p.registered_from,
            opt(&p.date_of_death),
            flag(p.opt_out_national, sp),
            flag(p.opt_out_type1, sp)
        )
        .expect("write to string");
    }
    files.push(("patients", t));
    let mut t =
        String::from("person_id,encounter_id,setting,start_date,end_date,emergency,cost_gbp\n");
    for e in &rows.encounters {
        writeln!(
            t,
            "{},{},{},{},{},{},{}",
            cell(&e.person_id),
            cell(&e.encounter_id),
            code(e.setting, sp),
            e.start_date,
            opt(&e.end_date),
            flag(e.emergency, sp),
            e.cost_pence.map_or(String::new(), pounds)
        )
        .expect("write to string");
    }
    files.push(("encounters", t));
    if let Some(diagnoses) = &rows.diagnoses {
        let mut t = String::from("person_id,date,code_system,code,encounter_id\n");
        for r in diagnoses {
            writeln!(
                t,
                "{},{},{},{},{}",
                cell(&r.person_id),
                r.date,
                code(r.code_system, sp),
                cell(&r.code),
                opt(&r.encounter_id)
            )
            .expect("write to string");
        }
        files.push(("diagnoses", t));
    }
    if let Some(medications) = &rows.medications {
        // Without a coded row the file is in the old form: no code_system
        // or code column at all (docs/data-contract.md: both optional).
        let coded = medications.iter().any(|r| r.code.is_some());
        let mut t = String::from(if coded {
            "person_id,date,bnf_code,code_system,code\n"
        } else {
            "person_id,date,bnf_code\n"
        });
        for r in medications {
            let bnf = r.bnf_code.as_deref().map_or(String::new(), cell);
            if coded {
                let system = r.code_system.map_or(String::new(), |s| code(s, sp));
                let value = r.code.as_deref().map_or(String::new(), cell);
                writeln!(
                    t,
                    "{},{},{bnf},{system},{value}",
                    cell(&r.person_id),
                    r.date
                )
            } else {
                writeln!(t, "{},{},{bnf}", cell(&r.person_id), r.date)
            }
            .expect("write to string");
        }
        files.push(("medications", t));
    }
    if let Some(observations) = &rows.observations {
        let mut t = String::from("person_id,date,code_system,code,value,unit\n");
        for r in observations {
            writeln!(
                t,
                "{},{},{},{},{},{}",
                cell(&r.person_id),
                r.date,
                code(r.code_system, sp),
                cell(&r.code),
                opt(&r.value),
                opt(&r.unit)
            )
            .expect("write to string");
        }
        files.push(("observations", t));
    }
    if let Some(social_care) = &rows.social_care {
        let mut t = String::from("person_id,start_date,end_date,service_type,weekly_cost_gbp\n");
        for r in social_care {
            writeln!(
                t,
                "{},{},{},{},{}",
                cell(&r.person_id),
                r.start_date,
                opt(&r.end_date),
                code(r.service_type, sp),
                opt(&r.weekly_cost_gbp)
            )
            .expect("write to string");
        }
        files.push(("social_care", t));
    }
    let mut t = String::from("lsoa,imd_decile\n");
    for r in &rows.lsoa_imd {
        writeln!(t, "{},{}", r.lsoa, r.imd_decile).expect("write to string");
    }
    files.push(("lsoa_imd", t));
    for (name, text) in files {
        std::fs::write(dir.join(format!("{name}.csv")), text).expect("write csv");
    }
}
