//! A contract extract written as an OMOP CDM 5.4 folder (CSV), the reverse
//! of `map`: `strata generate --format omop` writes the synthetic
//! population this way, with a small `concept` table covering the codes
//! used. Converting it back gives the same rows except where the CDM has no
//! place for a column (docs/omop.md, "Round trip").

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use polars::prelude::*;

use super::OmopError;
use super::map::{
    ER_AND_INPATIENT_VISIT, ER_VISIT, FEMALE, HOME_VISIT, INPATIENT_VISIT, MALE, OFFICE_VISIT,
    OUTPATIENT_VISIT,
};

/// OMOP reserves concept ids above two billion for local concepts: the
/// export's concept table numbers the codes it uses from here.
pub const LOCAL_CONCEPTS: i64 = 2_000_000_001;
/// Type concept "EHR" (Type Concept vocabulary).
const EHR: i64 = 32817;

fn read(dir: &Path, table: &str) -> Result<Option<DataFrame>, OmopError> {
    let path = dir.join(format!("{table}.parquet"));
    if !path.is_file() {
        return Ok(None);
    }
    let unreadable = |e: PolarsError| OmopError::Unreadable {
        path: path.clone(),
        reason: e.to_string(),
    };
    LazyFrame::scan_parquet(
        PlRefPath::new(path.to_string_lossy().as_ref()),
        ScanArgsParquet::default(),
    )
    .and_then(LazyFrame::collect)
    .map(Some)
    .map_err(unreadable)
}

fn strings(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<String>>> {
    Ok(df
        .column(name)?
        .cast(&DataType::String)?
        .str()?
        .iter()
        .map(|v| v.map(str::to_string))
        .collect())
}

/// Integer ids for text ids: digits as they are, a letter and hex digits
/// (the generator's `P…` and `E…` pseudonyms) as the hex value, anything
/// else numbered in order of first appearance after the largest of those.
#[derive(Default)]
struct Ids {
    others: HashMap<String, i64>,
}

impl Ids {
    fn id(&mut self, v: &str) -> i64 {
        if let Ok(n) = v.parse::<i64>() {
            return n;
        }
        let mut chars = v.chars();
        if chars.next().is_some_and(|c| c.is_ascii_alphabetic()) {
            let rest = chars.as_str();
            if let Some(n) = (!rest.is_empty() && rest.len() <= 15)
                .then(|| i64::from_str_radix(rest, 16).ok())
                .flatten()
            {
                return n;
            }
        }
        let next = (1i64 << 61) + self.others.len() as i64;
        *self.others.entry(v.to_string()).or_insert(next)
    }

    fn column(&mut self, df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<i64>>> {
        Ok(strings(df, name)?
            .iter()
            .map(|v| v.as_deref().map(|v| self.id(v)))
            .collect())
    }
}

/// The codes used, as local concepts: (vocabulary, code) → concept id and
/// the domain of its first use.
#[derive(Default)]
struct Concepts {
    ids: BTreeMap<(&'static str, String), (i64, &'static str)>,
}

impl Concepts {
    fn id(&mut self, vocabulary: &'static str, code: &str, domain: &'static str) -> i64 {
        let next = LOCAL_CONCEPTS + self.ids.len() as i64;
        self.ids
            .entry((vocabulary, code.to_string()))
            .or_insert((next, domain))
            .0
    }

    fn frame(&self) -> PolarsResult<DataFrame> {
        // (concept id, domain, vocabulary, code), by concept id.
        let mut rows: Vec<(i64, &str, &str, &str)> = self
            .ids
            .iter()
            .map(|((v, c), (id, d))| (*id, *d, *v, c.as_str()))
            .collect();
        rows.sort();
        let n = rows.len();
        df!(
            "concept_id" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            "concept_name" => rows.iter().map(|r| format!("{} {}", r.2, r.3)).collect::<Vec<_>>(),
            "domain_id" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            "vocabulary_id" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            "concept_class_id" => rows.iter().map(|r| match (r.2, r.1) {
                ("SNOMED", "Condition") => "Clinical Finding",
                ("SNOMED", _) => "Observable Entity",
                _ => "ICD10 code",
            }).collect::<Vec<_>>(),
            "standard_concept" => rows.iter().map(|r| (r.2 == "SNOMED").then_some("S")).collect::<Vec<_>>(),
            "concept_code" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            "valid_start_date" => vec!["1970-01-01"; n],
            "valid_end_date" => vec!["2099-12-31"; n],
            "invalid_reason" => vec![None::<&str>; n],
        )
    }
}

fn write_csv(out: &Path, table: &str, mut df: DataFrame) -> Result<u64, OmopError> {
    let path = out.join(format!("{table}.csv"));
    let error = |reason: String| OmopError::Write {
        path: path.clone(),
        reason,
    };
    let file = std::fs::File::create(&path).map_err(|e| error(e.kind().to_string()))?;
    CsvWriter::new(std::io::BufWriter::new(file))
        .include_header(true)
        .finish(&mut df)
        .map_err(|e| error(e.to_string()))?;
    Ok(df.height() as u64)
}

fn date_text(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<String>>> {
    strings(df, name)
}

/// Writes the contract extract in `contract_dir` (`NAME.parquet` files) as
/// CDM CSV files in `out`; returns the rows written by CDM table.
/// Social care, opt-outs and PCNs have no place in the CDM (docs/omop.md).
pub fn write_export(contract_dir: &Path, out: &Path) -> Result<BTreeMap<String, u64>, OmopError> {
    let frame_error = |e: PolarsError| OmopError::Write {
        path: out.to_path_buf(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(out).map_err(|e| OmopError::Write {
        path: out.to_path_buf(),
        reason: e.kind().to_string(),
    })?;
    let mut counts = BTreeMap::new();
    let patients = read(contract_dir, "patients")?.ok_or_else(|| OmopError::NoCdm {
        dir: contract_dir.to_path_buf(),
    })?;
    let mut people = Ids::default();
    let mut visits = Ids::default();
    let mut concepts = Concepts::default();

    // location (one per LSOA) and care_site (one per practice).
    let lsoas = strings(&patients, "lsoa").map_err(frame_error)?;
    let practices = strings(&patients, "practice_code").map_err(frame_error)?;
    let number = |values: &[Option<String>]| {
        let mut distinct: Vec<&String> = values.iter().flatten().collect();
        distinct.sort();
        distinct.dedup();
        distinct
            .into_iter()
            .enumerate()
            .map(|(i, v)| (v.clone(), i as i64 + 1))
            .collect::<BTreeMap<String, i64>>()
    };
    let location_ids = number(&lsoas);
    let care_site_ids = number(&practices);
    let location = df!(
        "location_id" => location_ids.values().copied().collect::<Vec<_>>(),
        "location_source_value" => location_ids.keys().cloned().collect::<Vec<_>>(),
    )
    .map_err(frame_error)?;
    counts.insert("location".into(), write_csv(out, "location", location)?);
    let care_site = df!(
        "care_site_id" => care_site_ids.values().copied().collect::<Vec<_>>(),
        "care_site_name" => care_site_ids.keys().cloned().collect::<Vec<_>>(),
        "care_site_source_value" => care_site_ids.keys().cloned().collect::<Vec<_>>(),
    )
    .map_err(frame_error)?;
    counts.insert("care_site".into(), write_csv(out, "care_site", care_site)?);

    // person, observation_period, death.
    let person_id = people.column(&patients, "person_id").map_err(frame_error)?;
    let birth = patients
        .column("date_of_birth")
        .and_then(|c| c.cast(&DataType::Date))
        .map_err(frame_error)?;
    let birth = birth.date().map_err(frame_error)?;
    let birth_dates: Vec<Option<chrono::NaiveDate>> = birth
        .physical()
        .iter()
        .map(|d| d.and_then(crate::contract::date_from_epoch_days))
        .collect();
    use chrono::Datelike;
    let sex = strings(&patients, "sex").map_err(frame_error)?;
    let gender: Vec<i64> = sex
        .iter()
        .map(|s| match s.as_deref() {
            Some("M") => MALE.parse().unwrap_or(0),
            Some("F") => FEMALE.parse().unwrap_or(0),
            _ => 0,
        })
        .collect();
    let person = df!(
        "person_id" => &person_id,
        "gender_concept_id" => gender,
        "year_of_birth" => birth_dates.iter().map(|d| d.map(|d| d.year())).collect::<Vec<_>>(),
        "month_of_birth" => birth_dates.iter().map(|d| d.map(|d| d.month())).collect::<Vec<_>>(),
        "day_of_birth" => birth_dates.iter().map(|d| d.map(|d| d.day())).collect::<Vec<_>>(),
        "birth_datetime" => birth_dates.iter().map(|d| d.map(|d| format!("{d} 00:00:00"))).collect::<Vec<_>>(),
        "race_concept_id" => vec![0i64; patients.height()],
        "ethnicity_concept_id" => vec![0i64; patients.height()],
        "location_id" => lsoas.iter().map(|l| l.as_ref().and_then(|l| location_ids.get(l).copied())).collect::<Vec<_>>(),
        "provider_id" => vec![None::<i64>; patients.height()],
        "care_site_id" => practices.iter().map(|p| p.as_ref().and_then(|p| care_site_ids.get(p).copied())).collect::<Vec<_>>(),
        "person_source_value" => strings(&patients, "nhs_number").map_err(frame_error)?,
        "gender_source_value" => sex,
        "race_source_value" => vec![None::<&str>; patients.height()],
        "ethnicity_source_value" => strings(&patients, "ethnicity").map_err(frame_error)?,
    )
    .map_err(frame_error)?;
    counts.insert("person".into(), write_csv(out, "person", person)?);

    let encounters = read(contract_dir, "encounters")?;
    // The extract's last day: the latest encounter start (registration
    // periods end there, or at death).
    let last_day = match &encounters {
        Some(e) => e
            .column("start_date")
            .and_then(|c| c.cast(&DataType::String))
            .map_err(frame_error)?
            .str()
            .map_err(frame_error)?
            .iter()
            .flatten()
            .max()
            .map(str::to_string),
        None => None,
    };
    let registered = date_text(&patients, "registered_from").map_err(frame_error)?;
    let death = date_text(&patients, "date_of_death").map_err(frame_error)?;
    let ends: Vec<Option<String>> = death
        .iter()
        .zip(&registered)
        .map(|(d, r)| {
            let end = d.clone().or_else(|| last_day.clone());
            // An end before the start (a death on the registration day) is the start.
            match (end, r) {
                (Some(e), Some(r)) if e < *r => Some(r.clone()),
                (e, _) => e.or_else(|| r.clone()),
            }
        })
        .collect();
    let observation_period = df!(
        "observation_period_id" => (1..=patients.height() as i64).collect::<Vec<_>>(),
        "person_id" => &person_id,
        "observation_period_start_date" => registered,
        "observation_period_end_date" => ends,
        "period_type_concept_id" => vec![EHR; patients.height()],
    )
    .map_err(frame_error)?;
    counts.insert(
        "observation_period".into(),
        write_csv(out, "observation_period", observation_period)?,
    );
    let dead: Vec<usize> = death
        .iter()
        .enumerate()
        .filter_map(|(i, d)| d.is_some().then_some(i))
        .collect();
    let death_frame = df!(
        "person_id" => dead.iter().map(|&i| person_id[i]).collect::<Vec<_>>(),
        "death_date" => dead.iter().map(|&i| death[i].clone()).collect::<Vec<_>>(),
        "death_type_concept_id" => vec![EHR; dead.len()],
    )
    .map_err(frame_error)?;
    counts.insert("death".into(), write_csv(out, "death", death_frame)?);

    // visit_occurrence and cost.
    if let Some(e) = &encounters {
        let pid = people.column(e, "person_id").map_err(frame_error)?;
        let vid = visits.column(e, "encounter_id").map_err(frame_error)?;
        let setting = strings(e, "setting").map_err(frame_error)?;
        let emergency: Vec<Option<bool>> = e
            .column("emergency")
            .and_then(|c| c.cast(&DataType::Boolean))
            .map_err(frame_error)?
            .bool()
            .map_err(frame_error)?
            .iter()
            .collect();
        let concept: Vec<i64> = setting
            .iter()
            .zip(&emergency)
            .map(|(s, em)| {
                let c = match (s.as_deref(), em.unwrap_or(false)) {
                    (Some("inpatient"), true) => ER_AND_INPATIENT_VISIT,
                    (Some("inpatient"), false) => INPATIENT_VISIT,
                    (Some("emergency_department"), _) => ER_VISIT,
                    (Some("outpatient"), _) => OUTPATIENT_VISIT,
                    (Some("gp"), _) => OFFICE_VISIT,
                    (Some("community"), _) => HOME_VISIT,
                    _ => "0",
                };
                c.parse().unwrap_or(0)
            })
            .collect();
        // A setting with no standard visit concept keeps its name as the
        // source value (mental_health).
        let source: Vec<Option<String>> = setting
            .iter()
            .zip(&concept)
            .map(|(s, c)| if *c == 0 { s.clone() } else { None })
            .collect();
        let visit = df!(
            "visit_occurrence_id" => &vid,
            "person_id" => pid,
            "visit_concept_id" => concept,
            "visit_start_date" => date_text(e, "start_date").map_err(frame_error)?,
            "visit_end_date" => date_text(e, "end_date").map_err(frame_error)?,
            "visit_type_concept_id" => vec![EHR; e.height()],
            "visit_source_value" => source,
        )
        .map_err(frame_error)?;
        counts.insert(
            "visit_occurrence".into(),
            write_csv(out, "visit_occurrence", visit)?,
        );
        let cost: Vec<Option<f64>> = e
            .column("cost_gbp")
            .and_then(|c| c.cast(&DataType::Float64))
            .map_err(frame_error)?
            .f64()
            .map_err(frame_error)?
            .iter()
            .collect();
        let costed: Vec<usize> = cost
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.is_some().then_some(i))
            .collect();
        let cost_frame = df!(
            "cost_id" => (1..=costed.len() as i64).collect::<Vec<_>>(),
            "cost_event_id" => costed.iter().map(|&i| vid[i]).collect::<Vec<_>>(),
            "cost_domain_id" => vec!["Visit"; costed.len()],
            "cost_type_concept_id" => vec![EHR; costed.len()],
            "currency_concept_id" => vec![0i64; costed.len()],
            "total_cost" => costed.iter().map(|&i| cost[i]).collect::<Vec<_>>(),
        )
        .map_err(frame_error)?;
        counts.insert("cost".into(), write_csv(out, "cost", cost_frame)?);
    }

    // condition_occurrence: ICD-10 as the source concept (standard concept
    // 0, as an unmapped hospital code), SNOMED CT as both.
    if let Some(d) = read(contract_dir, "diagnoses")? {
        let system = strings(&d, "code_system").map_err(frame_error)?;
        let code = strings(&d, "code").map_err(frame_error)?;
        let (mut standard, mut source) = (Vec::new(), Vec::new());
        for (s, c) in system.iter().zip(&code) {
            let c = c.as_deref().unwrap_or("");
            match s.as_deref() {
                Some("snomed") => {
                    let id = concepts.id("SNOMED", c, "Condition");
                    standard.push(id);
                    source.push(id);
                }
                _ => {
                    standard.push(0);
                    source.push(concepts.id("ICD10", c, "Condition"));
                }
            }
        }
        let encounter: Vec<Option<i64>> = strings(&d, "encounter_id")
            .map_err(frame_error)?
            .iter()
            .map(|v| v.as_deref().map(|v| visits.id(v)))
            .collect();
        let condition = df!(
            "condition_occurrence_id" => (1..=d.height() as i64).collect::<Vec<_>>(),
            "person_id" => people.column(&d, "person_id").map_err(frame_error)?,
            "condition_concept_id" => standard,
            "condition_start_date" => date_text(&d, "date").map_err(frame_error)?,
            "condition_type_concept_id" => vec![EHR; d.height()],
            "visit_occurrence_id" => encounter,
            "condition_source_value" => code,
            "condition_source_concept_id" => source,
        )
        .map_err(frame_error)?;
        counts.insert(
            "condition_occurrence".into(),
            write_csv(out, "condition_occurrence", condition)?,
        );
    }

    // drug_exposure: the BNF code as the source value (no standard concept).
    if let Some(m) = read(contract_dir, "medications")? {
        let dates = date_text(&m, "date").map_err(frame_error)?;
        let drug = df!(
            "drug_exposure_id" => (1..=m.height() as i64).collect::<Vec<_>>(),
            "person_id" => people.column(&m, "person_id").map_err(frame_error)?,
            "drug_concept_id" => vec![0i64; m.height()],
            "drug_exposure_start_date" => dates.clone(),
            "drug_exposure_end_date" => dates,
            "drug_type_concept_id" => vec![EHR; m.height()],
            "drug_source_value" => strings(&m, "bnf_code").map_err(frame_error)?,
        )
        .map_err(frame_error)?;
        counts.insert(
            "drug_exposure".into(),
            write_csv(out, "drug_exposure", drug)?,
        );
    }

    // measurement (with a value) and observation (without).
    if let Some(o) = read(contract_dir, "observations")? {
        let code = strings(&o, "code").map_err(frame_error)?;
        let value: Vec<Option<f64>> = o
            .column("value")
            .and_then(|c| c.cast(&DataType::Float64))
            .map_err(frame_error)?
            .f64()
            .map_err(frame_error)?
            .iter()
            .collect();
        let pid = people.column(&o, "person_id").map_err(frame_error)?;
        let dates = date_text(&o, "date").map_err(frame_error)?;
        let unit = strings(&o, "unit").map_err(frame_error)?;
        let concept: Vec<i64> = code
            .iter()
            .zip(&value)
            .map(|(c, v)| {
                let domain = if v.is_some() {
                    "Measurement"
                } else {
                    "Observation"
                };
                concepts.id("SNOMED", c.as_deref().unwrap_or(""), domain)
            })
            .collect();
        for (domain, with_value) in [("measurement", true), ("observation", false)] {
            let rows: Vec<usize> = (0..o.height())
                .filter(|&i| value[i].is_some() == with_value)
                .collect();
            let pick =
                |v: &[Option<String>]| rows.iter().map(|&i| v[i].clone()).collect::<Vec<_>>();
            let df = df!(
                &format!("{domain}_id") => (1..=rows.len() as i64).collect::<Vec<_>>(),
                "person_id" => rows.iter().map(|&i| pid[i]).collect::<Vec<_>>(),
                &format!("{domain}_concept_id") => rows.iter().map(|&i| concept[i]).collect::<Vec<_>>(),
                &format!("{domain}_date") => pick(&dates),
                &format!("{domain}_type_concept_id") => vec![EHR; rows.len()],
                "value_as_number" => rows.iter().map(|&i| value[i]).collect::<Vec<_>>(),
                "unit_source_value" => pick(&unit),
                &format!("{domain}_source_value") => pick(&code),
            )
            .map_err(frame_error)?;
            counts.insert(domain.into(), write_csv(out, domain, df)?);
        }
    }

    let concept = concepts.frame().map_err(frame_error)?;
    counts.insert("concept".into(), write_csv(out, "concept", concept)?);
    Ok(counts)
}
