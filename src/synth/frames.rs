//! Column buffers for one chunk of people, turned into Polars data frames
//! whose names and types follow `contract`.

use polars::prelude::*;

use crate::contract::{DIAGNOSES, ENCOUNTERS, MEDICATIONS, OBSERVATIONS, PATIENTS, SOCIAL_CARE};

/// Builds a Date column from days since 1970-01-01.
fn date_col(name: &str, days: Vec<Option<i32>>) -> Column {
    Int32Chunked::from_iter_options(name.into(), days.into_iter())
        .into_date()
        .into_column()
}

fn str_col(b: StringChunkedBuilder) -> Column {
    b.finish().into_column()
}

fn names(t: &crate::contract::TableSpec) -> Vec<&'static str> {
    t.columns.iter().map(|c| c.name).collect()
}

pub struct PatientsBuf {
    pub person_id: StringChunkedBuilder,
    pub nhs_number: StringChunkedBuilder,
    pub date_of_birth: Vec<Option<i32>>,
    pub sex: StringChunkedBuilder,
    pub ethnicity: StringChunkedBuilder,
    pub lsoa: StringChunkedBuilder,
    pub practice_code: StringChunkedBuilder,
    pub pcn_code: StringChunkedBuilder,
    pub registered_from: Vec<Option<i32>>,
    pub date_of_death: Vec<Option<i32>>,
    pub opt_out_national: Vec<bool>,
    pub opt_out_type1: Vec<bool>,
}

impl PatientsBuf {
    pub fn new(cap: usize) -> Self {
        let n = names(&PATIENTS);
        let s = |i: usize| StringChunkedBuilder::new(n[i].into(), cap);
        PatientsBuf {
            person_id: s(0),
            nhs_number: s(1),
            date_of_birth: Vec::with_capacity(cap),
            sex: s(3),
            ethnicity: s(4),
            lsoa: s(5),
            practice_code: s(6),
            pcn_code: s(7),
            registered_from: Vec::with_capacity(cap),
            date_of_death: Vec::with_capacity(cap),
            opt_out_national: Vec::with_capacity(cap),
            opt_out_type1: Vec::with_capacity(cap),
        }
    }

    pub fn finish(self) -> PolarsResult<DataFrame> {
        let n = names(&PATIENTS);
        let h = self.date_of_birth.len();
        DataFrame::new(
            h,
            vec![
                str_col(self.person_id),
                str_col(self.nhs_number),
                date_col(n[2], self.date_of_birth),
                str_col(self.sex),
                str_col(self.ethnicity),
                str_col(self.lsoa),
                str_col(self.practice_code),
                str_col(self.pcn_code),
                date_col(n[8], self.registered_from),
                date_col(n[9], self.date_of_death),
                Column::new(n[10].into(), self.opt_out_national),
                Column::new(n[11].into(), self.opt_out_type1),
            ],
        )
    }
}

pub struct EncountersBuf {
    pub person_id: StringChunkedBuilder,
    pub encounter_id: StringChunkedBuilder,
    pub setting: StringChunkedBuilder,
    pub start_date: Vec<Option<i32>>,
    pub end_date: Vec<Option<i32>>,
    pub emergency: Vec<bool>,
    pub cost_gbp: Vec<Option<f64>>,
}

impl EncountersBuf {
    pub fn new(cap: usize) -> Self {
        let n = names(&ENCOUNTERS);
        let s = |i: usize| StringChunkedBuilder::new(n[i].into(), cap);
        EncountersBuf {
            person_id: s(0),
            encounter_id: s(1),
            setting: s(2),
            start_date: Vec::with_capacity(cap),
            end_date: Vec::with_capacity(cap),
            emergency: Vec::with_capacity(cap),
            cost_gbp: Vec::with_capacity(cap),
        }
    }

    pub fn finish(self) -> PolarsResult<DataFrame> {
        let n = names(&ENCOUNTERS);
        let h = self.start_date.len();
        DataFrame::new(
            h,
            vec![
                str_col(self.person_id),
                str_col(self.encounter_id),
                str_col(self.setting),
                date_col(n[3], self.start_date),
                date_col(n[4], self.end_date),
                Column::new(n[5].into(), self.emergency),
                Float64Chunked::from_iter_options(n[6].into(), self.cost_gbp.into_iter())
                    .into_column(),
            ],
        )
    }
}

pub struct DiagnosesBuf {
    pub person_id: StringChunkedBuilder,
    pub date: Vec<Option<i32>>,
    pub code_system: StringChunkedBuilder,
    pub code: StringChunkedBuilder,
    pub encounter_id: StringChunkedBuilder,
}

impl DiagnosesBuf {
    pub fn new(cap: usize) -> Self {
        let n = names(&DIAGNOSES);
        let s = |i: usize| StringChunkedBuilder::new(n[i].into(), cap);
        DiagnosesBuf {
            person_id: s(0),
            date: Vec::with_capacity(cap),
            code_system: s(2),
            code: s(3),
            encounter_id: s(4),
        }
    }

    pub fn finish(self) -> PolarsResult<DataFrame> {
        let n = names(&DIAGNOSES);
        let h = self.date.len();
        DataFrame::new(
            h,
            vec![
                str_col(self.person_id),
                date_col(n[1], self.date),
                str_col(self.code_system),
                str_col(self.code),
                str_col(self.encounter_id),
            ],
        )
    }
}

pub struct MedicationsBuf {
    pub person_id: StringChunkedBuilder,
    pub date: Vec<Option<i32>>,
    pub bnf_code: StringChunkedBuilder,
}

impl MedicationsBuf {
    pub fn new(cap: usize) -> Self {
        let n = names(&MEDICATIONS);
        MedicationsBuf {
            person_id: StringChunkedBuilder::new(n[0].into(), cap),
            date: Vec::with_capacity(cap),
            bnf_code: StringChunkedBuilder::new(n[2].into(), cap),
        }
    }

    pub fn finish(self) -> PolarsResult<DataFrame> {
        let n = names(&MEDICATIONS);
        let h = self.date.len();
        DataFrame::new(
            h,
            vec![
                str_col(self.person_id),
                date_col(n[1], self.date),
                str_col(self.bnf_code),
            ],
        )
    }
}

pub struct ObservationsBuf {
    pub person_id: StringChunkedBuilder,
    pub date: Vec<Option<i32>>,
    pub code_system: StringChunkedBuilder,
    pub code: StringChunkedBuilder,
    pub value: Vec<Option<f64>>,
    pub unit: StringChunkedBuilder,
}

impl ObservationsBuf {
    pub fn new(cap: usize) -> Self {
        let n = names(&OBSERVATIONS);
        let s = |i: usize| StringChunkedBuilder::new(n[i].into(), cap);
        ObservationsBuf {
            person_id: s(0),
            date: Vec::with_capacity(cap),
            code_system: s(2),
            code: s(3),
            value: Vec::with_capacity(cap),
            unit: s(5),
        }
    }

    pub fn finish(self) -> PolarsResult<DataFrame> {
        let n = names(&OBSERVATIONS);
        let h = self.date.len();
        DataFrame::new(
            h,
            vec![
                str_col(self.person_id),
                date_col(n[1], self.date),
                str_col(self.code_system),
                str_col(self.code),
                Float64Chunked::from_iter_options(n[4].into(), self.value.into_iter())
                    .into_column(),
                str_col(self.unit),
            ],
        )
    }
}

pub struct SocialCareBuf {
    pub person_id: StringChunkedBuilder,
    pub start_date: Vec<Option<i32>>,
    pub end_date: Vec<Option<i32>>,
    pub service_type: StringChunkedBuilder,
    pub weekly_cost_gbp: Vec<Option<f64>>,
}

impl SocialCareBuf {
    pub fn new(cap: usize) -> Self {
        let n = names(&SOCIAL_CARE);
        SocialCareBuf {
            person_id: StringChunkedBuilder::new(n[0].into(), cap),
            start_date: Vec::with_capacity(cap),
            end_date: Vec::with_capacity(cap),
            service_type: StringChunkedBuilder::new(n[3].into(), cap),
            weekly_cost_gbp: Vec::with_capacity(cap),
        }
    }

    pub fn finish(self) -> PolarsResult<DataFrame> {
        let n = names(&SOCIAL_CARE);
        let h = self.start_date.len();
        DataFrame::new(
            h,
            vec![
                str_col(self.person_id),
                date_col(n[1], self.start_date),
                date_col(n[2], self.end_date),
                str_col(self.service_type),
                Float64Chunked::from_iter_options(n[4].into(), self.weekly_cost_gbp.into_iter())
                    .into_column(),
            ],
        )
    }
}

pub struct TruthBuf {
    pub person_id: StringChunkedBuilder,
    pub true_risk_12m: Vec<f64>,
    /// `true_risk_12m` averaged over the unobserved person effect (hazard::record_risk).
    pub record_risk_12m: Vec<f64>,
    pub emergency_admission_12m: Vec<bool>,
}

impl TruthBuf {
    pub fn new(cap: usize) -> Self {
        TruthBuf {
            person_id: StringChunkedBuilder::new("person_id".into(), cap),
            true_risk_12m: Vec::with_capacity(cap),
            record_risk_12m: Vec::with_capacity(cap),
            emergency_admission_12m: Vec::with_capacity(cap),
        }
    }

    pub fn finish(self) -> PolarsResult<DataFrame> {
        let h = self.true_risk_12m.len();
        DataFrame::new(
            h,
            vec![
                str_col(self.person_id),
                Column::new("true_risk_12m".into(), self.true_risk_12m),
                Column::new("record_risk_12m".into(), self.record_risk_12m),
                Column::new(
                    "emergency_admission_12m".into(),
                    self.emergency_admission_12m,
                ),
            ],
        )
    }
}

/// All buffers of one chunk.
pub struct ChunkBufs {
    pub patients: PatientsBuf,
    pub encounters: EncountersBuf,
    pub diagnoses: DiagnosesBuf,
    pub medications: MedicationsBuf,
    pub observations: ObservationsBuf,
    pub social_care: SocialCareBuf,
    pub truth: TruthBuf,
}

impl ChunkBufs {
    /// Capacities sized from the expected rows per person over 3 years.
    pub fn new(people: usize) -> Self {
        ChunkBufs {
            patients: PatientsBuf::new(people),
            encounters: EncountersBuf::new(people * 35),
            diagnoses: DiagnosesBuf::new(people * 8),
            medications: MedicationsBuf::new(people * 60),
            observations: ObservationsBuf::new(people * 10),
            social_care: SocialCareBuf::new(people / 20 + 1),
            truth: TruthBuf::new(people),
        }
    }
}

/// The contract tables, in the order `ChunkFrames::tables` returns them.
pub const TABLE_NAMES: [&str; 7] = [
    "patients",
    "encounters",
    "diagnoses",
    "medications",
    "observations",
    "social_care",
    "truth",
];

/// Finished data frames of one chunk, in `TABLE_NAMES` order.
pub fn finish_all(b: ChunkBufs) -> PolarsResult<Vec<DataFrame>> {
    Ok(vec![
        b.patients.finish()?,
        b.encounters.finish()?,
        b.diagnoses.finish()?,
        b.medications.finish()?,
        b.observations.finish()?,
        b.social_care.finish()?,
        b.truth.finish()?,
    ])
}
