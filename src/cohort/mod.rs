//! Cohorts: risk tiers and segments over the scored population.
//!
//! What puts a person in a tier is their risk; why the model gave that risk
//! (the reasons on a clinical list) is the model's business, in
//! [`crate::model::explain`]. Who may be used for secondary purposes is a
//! governance rule, in [`crate::governance::opt_out`].

pub mod segments;
pub mod tiers;

pub use tiers::{Tier, TierConfig, TierMethod, assign_tiers, assign_tiers_over};
