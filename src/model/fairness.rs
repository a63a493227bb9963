//! Subgroup performance: the groups the service has a duty to (sex, age
//! band, ethnicity group, IMD quintile), the minimum sizes below which a
//! subgroup's metrics are reported as not estimable, and the limits beyond
//! which a subgroup is flagged.
//!
//! The limits are **policy choices**, not statistical laws. The defaults:
//!
//! - AUC more than 0.05 from the overall AUC: our reading of a difference in
//!   discrimination large enough to matter for who is put on a list; set it
//!   to the smallest difference the service would act on.
//! - Calibration slope outside [0.8, 1.2] and calibration intercept |a| > 0.2:
//!   "weak calibration" in Van Calster et al.'s hierarchy (J Clin Epidemiol
//!   2016;74:167–176; BMC Med 2019;17:230) asks for a = 0 and b = 1 and gives
//!   no tolerance; ±0.2 is our tolerance, not theirs.
//! - At least 10 people with and 10 without the outcome, and 100 people: below
//!   this, AUC and calibration are too noisy to read. This is a floor for
//!   *reporting*; precise validation needs far more (Collins, Ogundimu &
//!   Altman, Stat Med 2016;35:214–226, suggest at least 100 events).
//!
//! A subgroup's flags compare its point estimates with the limits; they do
//! not test significance (the AUC interval is reported beside them).

impl Default for Limits {
    fn default() -> Self {
        Limits {
            auc_difference: 0.05,
            slope_min: 0.8,
            slope_max: 1.2,
            intercept_abs: 0.2,
            min_events: 10,
            min_people: 100,
        }
    }
}

impl Limits {
    /// Checks the limits are finite, non-negative and ordered.
    pub fn validate(&self) -> Result<(), String> {
        let values = [
            ("auc_difference", self.auc_difference),
            ("slope_min", self.slope_min),
            ("slope_max", self.slope_max),
            ("intercept_abs", self.intercept_abs),
        ];
        if let Some((name, v)) = values.iter().find(|(_, v)| !(v.is_finite() && *v >= 0.0)) {
            return Err(format!("limits.{name} = {v}: expected a number ≥ 0"));
        }
        if self.slope_min > self.slope_max {
            return Err(format!(
                "limits.slope_min = {} is above limits.slope_max = {}",
                self.slope_min, self.slope_max
            ));
        }
        Ok(())
    }

    /// Why a group of `n` people with `events` outcomes is not estimable, if it is not.
    pub fn not_estimable(&self, n: u64, events: u64) -> Option<String> {
        let non_events = n.saturating_sub(events);
        if n < self.min_people {
            Some(format!("fewer than {} people", self.min_people))
        } else if events < self.min_events {
            Some(format!(
                "fewer than {} people with the outcome",
                self.min_events
            ))
        } else if non_events < self.min_events {
            Some(format!(
                "fewer than {} people without the outcome",
                self.min_events
            ))
        } else {
            None
        }
    }
}

pub use super::schema::{Flag, FlagKind, Limits};

/// Group labels of every person for one attribute, in the same row order as
/// the risks. `None` (unrecorded) becomes the group [`MISSING`].
#[derive(Debug, Clone, PartialEq)]
pub struct GroupLabels {
    /// e.g. `sex`, `age_band`, `ethnicity_group`, `imd_quintile`.
    pub attribute: String,
    pub labels: Vec<Option<String>>,
}

/// The group of people whose label is not recorded.
pub const MISSING: &str = "missing";

impl FlagKind {
    /// The kind in words.
    pub fn label(self) -> &'static str {
        match self {
            FlagKind::AucDifference => "AUC differs from overall",
            FlagKind::CalibrationSlope => "calibration slope",
            FlagKind::CalibrationIntercept => "calibration intercept",
        }
    }
}

/// Flags for a subgroup with AUC `auc`, slope `slope` and intercept
/// `intercept`, against the overall AUC. Missing values raise no flag.
pub fn flags(
    limits: &Limits,
    overall_auc: Option<f64>,
    auc: Option<f64>,
    slope: Option<f64>,
    intercept: Option<f64>,
) -> Vec<Flag> {
    let mut out = Vec::new();
    if let (Some(all), Some(group)) = (overall_auc, auc) {
        let difference = group - all;
        if difference.abs() > limits.auc_difference {
            out.push(Flag {
                kind: FlagKind::AucDifference,
                value: Some(difference),
                limit: format!("|ΔAUC| ≤ {}", limits.auc_difference),
            });
        }
    }
    if let Some(b) = slope.filter(|b| *b < limits.slope_min || *b > limits.slope_max) {
        out.push(Flag {
            kind: FlagKind::CalibrationSlope,
            value: Some(b),
            limit: format!("{} ≤ slope ≤ {}", limits.slope_min, limits.slope_max),
        });
    }
    if let Some(a) = intercept.filter(|a| a.abs() > limits.intercept_abs) {
        out.push(Flag {
            kind: FlagKind::CalibrationIntercept,
            value: Some(a),
            limit: format!("|intercept| ≤ {}", limits.intercept_abs),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_limits_are_valid_and_flag_beyond_them() {
        let limits = Limits::default();
        assert!(limits.validate().is_ok());
        assert!(flags(&limits, Some(0.80), Some(0.85), Some(0.8), Some(0.2)).is_empty());
        let raised = flags(&limits, Some(0.80), Some(0.74), Some(1.25), Some(-0.3));
        let kinds: Vec<FlagKind> = raised.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [
                FlagKind::AucDifference,
                FlagKind::CalibrationSlope,
                FlagKind::CalibrationIntercept
            ]
        );
        assert!((raised[0].value.expect("value") + 0.06).abs() < 1e-12);
    }

    #[test]
    fn limits_reject_nonsense() {
        let mut limits = Limits {
            slope_min: 1.3,
            ..Limits::default()
        };
        assert!(limits.validate().is_err());
        limits.slope_min = f64::NAN;
        assert!(limits.validate().is_err());
    }

    #[test]
    fn not_estimable_below_minimum_sizes() {
        let limits = Limits::default();
        assert!(limits.not_estimable(99, 50).is_some());
        assert!(limits.not_estimable(100, 9).is_some());
        assert!(limits.not_estimable(100, 91).is_some());
        assert!(limits.not_estimable(100, 10).is_none());
        assert!(limits.not_estimable(0, 0).is_some());
    }
}
