//! Outcomes measured after an index date, for training and evaluation.
//! Each counts from the day after the index date: days 1–365.

use chrono::NaiveDate;
use polars::prelude::*;

use super::Result;
use super::YEAR_DAYS;
use crate::ingest::{Extract, PID};

/// Name of the default outcome column.
pub const EMERGENCY_ADMISSION_12M: &str = "emergency_admission_12m";

/// Something that happens to a person in days 1–365 after the index date,
/// which a model can be trained to predict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// An emergency (unplanned) inpatient admission starts (the default).
    EmergencyAdmission,
    /// The person dies (patients.date_of_death).
    Mortality,
    /// A residential or nursing care package starts, for people not already
    /// in one on the index date.
    CareHomeEntry,
}

impl Outcome {
    /// Every outcome, default first.
    pub const ALL: [Outcome; 3] = [
        Outcome::EmergencyAdmission,
        Outcome::Mortality,
        Outcome::CareHomeEntry,
    ];

    /// The outcome's name: its column in training frames and `outcome` in model files.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::EmergencyAdmission => EMERGENCY_ADMISSION_12M,
            Outcome::Mortality => "mortality_12m",
            Outcome::CareHomeEntry => "care_home_entry_12m",
        }
    }

    /// The outcome called `name`, if strata knows it.
    pub fn from_name(name: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.name() == name)
    }

    /// A boolean feature that puts a person outside the cohort at risk: you
    /// cannot enter a care home you already live in.
    pub fn excludes(self) -> Option<&'static str> {
        match self {
            Outcome::CareHomeEntry => Some("care_home_resident"),
            _ => None,
        }
    }

    /// The table the outcome is read from (for messages).
    pub fn source_table(self) -> &'static str {
        match self {
            Outcome::EmergencyAdmission => "encounters",
            Outcome::Mortality => "patients",
            Outcome::CareHomeEntry => "social_care",
        }
    }

    /// One row per person with the outcome in days 1–365 after `index`:
    /// [`PID`] and a `true` column named [`Outcome::name`].
    pub fn events(self, extract: &Extract, index: NaiveDate) -> Result<DataFrame> {
        let first = lit(index + chrono::Duration::days(1));
        let last = lit(index + chrono::Duration::days(YEAR_DAYS));
        let in_window = |date: &str| {
            col(date)
                .gt_eq(first.clone())
                .and(col(date).lt_eq(last.clone()))
        };
        let (rows, condition) = match self {
            Outcome::EmergencyAdmission => (
                extract.table("encounters").cloned(),
                col("setting")
                    .eq(lit("inpatient"))
                    .and(col("emergency"))
                    .and(in_window("start_date")),
            ),
            Outcome::Mortality => (
                Some(extract.patients.clone().lazy()),
                in_window("date_of_death"),
            ),
            Outcome::CareHomeEntry => (
                extract.table("social_care").cloned(),
                col("service_type")
                    .eq(lit("residential"))
                    .or(col("service_type").eq(lit("nursing")))
                    .and(in_window("start_date")),
            ),
        };
        let Some(rows) = rows else {
            return Ok(DataFrame::new(
                0,
                vec![
                    Column::new(PID.into(), Vec::<u32>::new()),
                    Column::new(self.name().into(), Vec::<bool>::new()),
                ],
            )?);
        };
        Ok(crate::ingest::collect_streaming(
            rows.filter(condition)
                .select([col(PID)])
                .unique(None, UniqueKeepStrategy::Any)
                .with_column(lit(true).alias(self.name())),
        )?)
    }
}

/// One row per person with at least one emergency admission starting in
/// days 1–365 after `index` ([`PID`], `emergency_admission_12m` = true).
pub fn emergency_admission_12m(extract: &Extract, index: NaiveDate) -> Result<DataFrame> {
    Outcome::EmergencyAdmission.events(extract, index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_the_default_comes_first() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::from_name(o.name()), Some(o));
        }
        assert_eq!(Outcome::ALL[0], Outcome::EmergencyAdmission);
        assert_eq!(Outcome::from_name("death"), None);
        assert_eq!(
            Outcome::CareHomeEntry.excludes(),
            Some("care_home_resident")
        );
        assert_eq!(Outcome::Mortality.excludes(), None);
    }
}
