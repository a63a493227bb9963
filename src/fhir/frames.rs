//! Contract rows → Polars data frames, with the contract's column names and
//! types, and appending one chunk's rows to another's.

use polars::prelude::*;

use super::map::{CodedRows, EncounterRows, MedicationRows, PatientRows, Rows};
use crate::contract::{DIAGNOSES, ENCOUNTERS, MEDICATIONS, OBSERVATIONS, PATIENTS};

fn date_col(name: &str, days: impl IntoIterator<Item = Option<i32>>) -> Column {
    Int32Chunked::from_iter_options(name.into(), days.into_iter())
        .into_date()
        .into_column()
}

fn names(t: &crate::contract::TableSpec) -> Vec<&'static str> {
    t.columns.iter().map(|c| c.name).collect()
}

impl Rows {
    /// Appends `other`'s rows after this one's.
    pub fn append(&mut self, other: Rows) {
        let Rows {
            patients: p,
            encounters: e,
            diagnoses: d,
            medications: m,
            observations: o,
        } = other;
        let q = &mut self.patients;
        q.person_id.extend(p.person_id);
        q.nhs_number.extend(p.nhs_number);
        q.date_of_birth.extend(p.date_of_birth);
        q.sex.extend(p.sex);
        q.ethnicity.extend(p.ethnicity);
        q.lsoa.extend(p.lsoa);
        q.practice_code.extend(p.practice_code);
        q.pcn_code.extend(p.pcn_code);
        q.date_of_death.extend(p.date_of_death);
        q.opt_out_national.extend(p.opt_out_national);
        q.opt_out_type1.extend(p.opt_out_type1);
        let f = &mut self.encounters;
        f.person_id.extend(e.person_id);
        f.encounter_id.extend(e.encounter_id);
        f.setting.extend(e.setting);
        f.start_date.extend(e.start_date);
        f.end_date.extend(e.end_date);
        f.emergency.extend(e.emergency);
        append_coded(&mut self.diagnoses, d);
        append_coded(&mut self.observations, o);
        let n = &mut self.medications;
        n.person_id.extend(m.person_id);
        n.date.extend(m.date);
        n.bnf_code.extend(m.bnf_code);
        n.code_system.extend(m.code_system);
        n.code.extend(m.code);
    }

    /// Each non-empty table as a data frame, by contract table name.
    pub fn frames(self) -> PolarsResult<Vec<(&'static str, DataFrame)>> {
        let mut out = Vec::new();
        if !self.patients.person_id.is_empty() {
            out.push((PATIENTS.name, patients(self.patients)?));
        }
        if !self.encounters.person_id.is_empty() {
            out.push((ENCOUNTERS.name, encounters(self.encounters)?));
        }
        if !self.diagnoses.person_id.is_empty() {
            out.push((DIAGNOSES.name, diagnoses(self.diagnoses)?));
        }
        if !self.medications.person_id.is_empty() {
            out.push((MEDICATIONS.name, medications(self.medications)?));
        }
        if !self.observations.person_id.is_empty() {
            out.push((OBSERVATIONS.name, observations(self.observations)?));
        }
        Ok(out)
    }
}

fn append_coded(a: &mut CodedRows, b: CodedRows) {
    a.person_id.extend(b.person_id);
    a.date.extend(b.date);
    a.code_system.extend(b.code_system);
    a.code.extend(b.code);
    a.encounter_id.extend(b.encounter_id);
    a.value.extend(b.value);
    a.unit.extend(b.unit);
}

/// Every mapped row is registered from birth (FHIR has no registration
/// date); opt-outs come only from the user's list (FHIR carries none): see
/// docs/fhir.md.
fn patients(p: PatientRows) -> PolarsResult<DataFrame> {
    let n = names(&PATIENTS);
    let rows = p.person_id.len();
    DataFrame::new(
        rows,
        vec![
            Column::new(n[0].into(), p.person_id),
            Column::new(n[1].into(), p.nhs_number),
            date_col(n[2], p.date_of_birth.iter().copied().map(Some)),
            Column::new(n[3].into(), p.sex),
            Column::new(n[4].into(), p.ethnicity),
            Column::new(n[5].into(), p.lsoa),
            Column::new(n[6].into(), p.practice_code),
            Column::new(n[7].into(), p.pcn_code),
            date_col(n[8], p.date_of_birth.iter().copied().map(Some)),
            date_col(n[9], p.date_of_death),
            Column::new(n[10].into(), p.opt_out_national),
            Column::new(n[11].into(), p.opt_out_type1),
        ],
    )
}

fn encounters(e: EncounterRows) -> PolarsResult<DataFrame> {
    let n = names(&ENCOUNTERS);
    let rows = e.person_id.len();
    DataFrame::new(
        rows,
        vec![
            Column::new(n[0].into(), e.person_id),
            Column::new(n[1].into(), e.encounter_id),
            Column::new(n[2].into(), e.setting),
            date_col(n[3], e.start_date.into_iter().map(Some)),
            date_col(n[4], e.end_date),
            Column::new(n[5].into(), e.emergency),
            Column::new(n[6].into(), vec![None::<f64>; rows]),
        ],
    )
}

fn diagnoses(d: CodedRows) -> PolarsResult<DataFrame> {
    let n = names(&DIAGNOSES);
    DataFrame::new(
        d.person_id.len(),
        vec![
            Column::new(n[0].into(), d.person_id),
            date_col(n[1], d.date.into_iter().map(Some)),
            Column::new(n[2].into(), d.code_system),
            Column::new(n[3].into(), d.code),
            Column::new(n[4].into(), d.encounter_id),
        ],
    )
}

fn medications(m: MedicationRows) -> PolarsResult<DataFrame> {
    let n = names(&MEDICATIONS);
    DataFrame::new(
        m.person_id.len(),
        vec![
            Column::new(n[0].into(), m.person_id),
            date_col(n[1], m.date.into_iter().map(Some)),
            Column::new(n[2].into(), m.bnf_code),
            Column::new(n[3].into(), m.code_system),
            Column::new(n[4].into(), m.code),
        ],
    )
}

fn observations(o: CodedRows) -> PolarsResult<DataFrame> {
    let n = names(&OBSERVATIONS);
    DataFrame::new(
        o.person_id.len(),
        vec![
            Column::new(n[0].into(), o.person_id),
            date_col(n[1], o.date.into_iter().map(Some)),
            Column::new(n[2].into(), o.code_system),
            Column::new(n[3].into(), o.code),
            Column::new(n[4].into(), o.value),
            Column::new(n[5].into(), o.unit),
        ],
    )
}

/// An empty frame of `table` (patients or encounters), with the contract's columns.
pub fn empty(table: &str) -> PolarsResult<DataFrame> {
    if table == PATIENTS.name {
        patients(PatientRows::default())
    } else {
        encounters(EncounterRows::default())
    }
}
