//! Cohorts: risk tiers over the scored population.

pub mod reasons;
pub mod segments;
pub mod tiers;

pub use tiers::{Tier, TierConfig, assign_tiers};
