//! Cohorts: risk tiers over the scored population.

pub mod reasons;
pub mod segments;
pub mod tiers;

pub use tiers::{Tier, TierConfig, TierMethod, assign_tiers};

use polars::prelude::*;

use crate::error::Result;
use crate::ingest::{PID, left_join_in_order};

/// The people of `people` who may be used for secondary purposes (planning,
/// training, evaluation): no National Data Opt-out and no Type 1 objection.
/// `patients` is the validated patients table holding the two flags.
pub fn secondary_use(people: &DataFrame, patients: &DataFrame) -> Result<DataFrame> {
    let flags =
        patients
            .clone()
            .lazy()
            .select([col(PID), col("opt_out_national"), col("opt_out_type1")]);
    Ok(people
        .clone()
        .lazy()
        .join(flags, [col(PID)], [col(PID)], left_join_in_order())
        .filter(
            col("opt_out_national")
                .not()
                .and(col("opt_out_type1").not()),
        )
        .drop(cols(["opt_out_national", "opt_out_type1"]))
        .collect()?)
}
