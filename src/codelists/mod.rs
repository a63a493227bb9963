//! Clinical code lists and the rules for matching codes against them.
//!
//! Matching happens on the *distinct* codes of an extract (thousands), never
//! row by row over events (hundreds of millions): the result is a small
//! code → category table that the features stage joins back.

pub mod charlson;
pub mod icd10;

pub use charlson::{CharlsonCategory, CharlsonWeights, charlson_categories, charlson_score};
pub use icd10::normalise_icd10;
