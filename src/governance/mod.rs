//! Information governance: what may leave strata, and about whom.
//!
//! - [`opt_out`]: the national opt-out and Type 1 objections (secondary-use rules);
//! - [`pseudonym`]: keyed pseudonyms for person ids that are NHS numbers;
//! - [`disclosure`]: statistical disclosure control of every published count.
//!
//! These are rules, not products: they depend only on the contract and the
//! validated extract, so the cohort, products and reports can all use them.

pub mod disclosure;
pub mod opt_out;
pub mod pseudonym;

pub use disclosure::DisclosureError;
