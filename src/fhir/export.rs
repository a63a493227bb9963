//! A contract extract written as a FHIR R4 Bulk Data export (UK Core), the
//! reverse of `map`: `strata generate --format fhir` writes the synthetic
//! population this way. It uses the same systems, extensions and codes as
//! `map`, so converting the export back gives the same rows except where
//! FHIR has no place for a column (docs/fhir.md, "Round trip").

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use polars::prelude::*;
use serde_json::{Value, json};

use super::FhirError;
use super::map::{
    ADMISSION_METHOD_ENGLAND, ADMISSION_METHOD_URL, ETHNIC_CATEGORY_ENGLAND, ETHNIC_CATEGORY_URL,
    ICD10_WHO, NHS_NUMBER_SYSTEM, ODS_SYSTEM, SNOMED, SNOMED_GENERAL_PRACTICE, SNOMED_PSYCHIATRY,
};
use crate::contract;

const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

fn read(dir: &Path, table: &str) -> Result<Option<DataFrame>, FhirError> {
    let path = dir.join(format!("{table}.parquet"));
    if !path.is_file() {
        return Ok(None);
    }
    let unreadable = |e: PolarsError| FhirError::Unreadable {
        path: path.clone(),
        reason: e.to_string(),
    };
    let lf = LazyFrame::scan_parquet(
        PlRefPath::new(path.to_string_lossy().as_ref()),
        ScanArgsParquet::default(),
    )
    .map_err(unreadable)?;
    lf.collect().map(Some).map_err(unreadable)
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

fn dates(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<String>>> {
    Ok(df
        .column(name)?
        .cast(&DataType::Date)?
        .date()?
        .physical()
        .iter()
        .map(|d| {
            d.and_then(contract::date_from_epoch_days)
                .map(|d| d.to_string())
        })
        .collect())
}

struct Ndjson {
    path: std::path::PathBuf,
    out: BufWriter<File>,
    lines: u64,
}

impl Ndjson {
    fn create(dir: &Path, resource_type: &str) -> Result<Ndjson, FhirError> {
        let path = dir.join(format!("{resource_type}.ndjson"));
        let file = File::create(&path).map_err(|e| FhirError::Write {
            path: path.clone(),
            reason: e.kind().to_string(),
        })?;
        Ok(Ndjson {
            path,
            out: BufWriter::with_capacity(1 << 20, file),
            lines: 0,
        })
    }

    fn put(&mut self, v: &Value) -> Result<(), FhirError> {
        let error = |reason: String| FhirError::Write {
            path: self.path.clone(),
            reason,
        };
        serde_json::to_writer(&mut self.out, v).map_err(|e| error(e.to_string()))?;
        self.out
            .write_all(b"\n")
            .map_err(|e| error(e.kind().to_string()))?;
        self.lines += 1;
        Ok(())
    }

    fn finish(mut self) -> Result<u64, FhirError> {
        self.out.flush().map_err(|e| FhirError::Write {
            path: self.path.clone(),
            reason: e.kind().to_string(),
        })?;
        Ok(self.lines)
    }
}

fn coding(system: &str, code: &str) -> Value {
    json!({"coding": [{"system": system, "code": code}]})
}

/// Writes the contract extract in `contract_dir` (`NAME.parquet` files) as
/// NDJSON files in `out`; returns the resources written by type.
/// Medications and social care are not written (see docs/fhir.md).
pub fn write_export(
    contract_dir: &Path,
    out: &Path,
) -> Result<std::collections::BTreeMap<String, u64>, FhirError> {
    let frame_error = |e: PolarsError| FhirError::Unreadable {
        path: contract_dir.to_path_buf(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(out).map_err(|e| FhirError::Write {
        path: out.to_path_buf(),
        reason: e.kind().to_string(),
    })?;
    let mut counts = std::collections::BTreeMap::new();
    let patients = read(contract_dir, "patients")?.ok_or_else(|| FhirError::NoExport {
        dir: contract_dir.to_path_buf(),
    })?;

    // Organizations: one per practice, referenced literally by Patients.
    let practices = strings(&patients, "practice_code").map_err(frame_error)?;
    let mut distinct: Vec<&String> = practices.iter().flatten().collect();
    distinct.sort();
    distinct.dedup();
    let mut orgs = Ndjson::create(out, "Organization")?;
    for code in &distinct {
        orgs.put(&json!({
            "resourceType": "Organization",
            "id": code,
            "identifier": [{"system": ODS_SYSTEM, "value": code}],
        }))?;
    }
    counts.insert("Organization".to_string(), orgs.finish()?);

    let ids = strings(&patients, "person_id").map_err(frame_error)?;
    let nhs = strings(&patients, "nhs_number").map_err(frame_error)?;
    let birth = dates(&patients, "date_of_birth").map_err(frame_error)?;
    let sex = strings(&patients, "sex").map_err(frame_error)?;
    let ethnicity = strings(&patients, "ethnicity").map_err(frame_error)?;
    let death = dates(&patients, "date_of_death").map_err(frame_error)?;
    let mut w = Ndjson::create(out, "Patient")?;
    for i in 0..patients.height() {
        let mut p = json!({"resourceType": "Patient", "id": ids[i]});
        if let Some(n) = &nhs[i] {
            p["identifier"] = json!([{"system": NHS_NUMBER_SYSTEM, "value": n}]);
        }
        if let Some(e) = &ethnicity[i] {
            p["extension"] = json!([{
                "url": ETHNIC_CATEGORY_URL,
                "valueCodeableConcept": coding(ETHNIC_CATEGORY_ENGLAND, e),
            }]);
        }
        p["gender"] = json!(match sex[i].as_deref() {
            Some("M") => "male",
            Some("F") => "female",
            Some("I") => "other",
            _ => "unknown",
        });
        p["birthDate"] = json!(birth[i]);
        if let Some(d) = &death[i] {
            p["deceasedDateTime"] = json!(d);
        }
        if let Some(code) = &practices[i] {
            p["generalPractitioner"] = json!([{"reference": format!("Organization/{code}")}]);
        }
        w.put(&p)?;
    }
    counts.insert("Patient".to_string(), w.finish()?);

    if let Some(e) = read(contract_dir, "encounters")? {
        let person = strings(&e, "person_id").map_err(frame_error)?;
        let id = strings(&e, "encounter_id").map_err(frame_error)?;
        let setting = strings(&e, "setting").map_err(frame_error)?;
        let start = dates(&e, "start_date").map_err(frame_error)?;
        let end = dates(&e, "end_date").map_err(frame_error)?;
        let emergency = e
            .column("emergency")
            .and_then(|c| c.bool().cloned())
            .map_err(frame_error)?;
        let mut w = Ndjson::create(out, "Encounter")?;
        for i in 0..e.height() {
            let (class, service) = match setting[i].as_deref() {
                Some("gp") => ("AMB", Some(SNOMED_GENERAL_PRACTICE)),
                Some("inpatient") => ("IMP", None),
                Some("emergency_department") => ("EMER", None),
                Some("community") => ("HH", None),
                Some("mental_health") => ("AMB", Some(SNOMED_PSYCHIATRY)),
                _ => ("AMB", None),
            };
            let mut r = json!({
                "resourceType": "Encounter",
                "id": id[i],
                "status": "finished",
                "class": {"system": ACT_CODE, "code": class},
                "subject": {"reference": format!("Patient/{}", person[i].as_deref().unwrap_or(""))},
                "period": {"start": start[i]},
            });
            if let Some(end) = &end[i] {
                r["period"]["end"] = json!(end);
            }
            if let Some(s) = service {
                r["serviceType"] = coding(SNOMED, s);
            }
            if class == "IMP" {
                // 21: emergency via A&E; 11: elective from a waiting list.
                let method = if emergency.get(i) == Some(true) {
                    "21"
                } else {
                    "11"
                };
                r["hospitalization"] = json!({"extension": [{
                    "url": ADMISSION_METHOD_URL,
                    "valueCodeableConcept": coding(ADMISSION_METHOD_ENGLAND, method),
                }]});
            }
            w.put(&r)?;
        }
        counts.insert("Encounter".to_string(), w.finish()?);
    }

    if let Some(d) = read(contract_dir, "diagnoses")? {
        let person = strings(&d, "person_id").map_err(frame_error)?;
        let date = dates(&d, "date").map_err(frame_error)?;
        let system = strings(&d, "code_system").map_err(frame_error)?;
        let code = strings(&d, "code").map_err(frame_error)?;
        let enc = strings(&d, "encounter_id").map_err(frame_error)?;
        let mut w = Ndjson::create(out, "Condition")?;
        for i in 0..d.height() {
            let system = match system[i].as_deref() {
                Some("icd10") => ICD10_WHO,
                _ => SNOMED,
            };
            let mut r = json!({
                "resourceType": "Condition",
                "id": format!("c{}", i + 1),
                "code": coding(system, code[i].as_deref().unwrap_or("")),
                "subject": {"reference": format!("Patient/{}", person[i].as_deref().unwrap_or(""))},
                "onsetDateTime": date[i],
            });
            if let Some(e) = &enc[i] {
                r["encounter"] = json!({"reference": format!("Encounter/{e}")});
            }
            w.put(&r)?;
        }
        counts.insert("Condition".to_string(), w.finish()?);
    }

    if let Some(o) = read(contract_dir, "observations")? {
        let person = strings(&o, "person_id").map_err(frame_error)?;
        let date = dates(&o, "date").map_err(frame_error)?;
        let code = strings(&o, "code").map_err(frame_error)?;
        let value = o
            .column("value")
            .and_then(|c| c.cast(&DataType::Float64))
            .and_then(|c| c.f64().cloned())
            .map_err(frame_error)?;
        let unit = strings(&o, "unit").map_err(frame_error)?;
        let mut w = Ndjson::create(out, "Observation")?;
        for i in 0..o.height() {
            let mut r = json!({
                "resourceType": "Observation",
                "id": format!("o{}", i + 1),
                "status": "final",
                "code": coding(SNOMED, code[i].as_deref().unwrap_or("")),
                "subject": {"reference": format!("Patient/{}", person[i].as_deref().unwrap_or(""))},
                "effectiveDateTime": date[i],
            });
            if let Some(v) = value.get(i) {
                r["valueQuantity"] = json!({"value": v});
                if let Some(u) = &unit[i] {
                    r["valueQuantity"]["unit"] = json!(u);
                }
            }
            w.put(&r)?;
        }
        counts.insert("Observation".to_string(), w.finish()?);
    }
    Ok(counts)
}
