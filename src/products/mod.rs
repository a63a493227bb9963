//! Products: what a run publishes for people to use.
//!
//! - [`lists`]: per-practice clinical lists (direct care);
//! - [`summaries`]: disclosure-controlled neighbourhood summaries (planning);
//! - [`history`]: who was flagged before, and when;
//! - [`drift`]: how this run's scores compare with the previous run's;
//! - [`ranking`]: the order of person-level outputs (practice, then risk).
//!
//! Products are built from the scored cohort, pass through governance and
//! are written through publication.

pub mod drift;
mod error;
pub mod history;
pub mod inequalities;
pub mod lists;
pub mod ranking;
pub mod summaries;

pub use error::{ProductError, Result};
