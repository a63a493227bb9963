//! Cohorts: risk tiers over the scored population.

pub mod tiers;

pub use tiers::{Tier, TierConfig, assign_tiers};
