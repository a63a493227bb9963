//! Clinical code lists and the rules for matching codes against them.
//!
//! Matching happens on the *distinct* codes of an extract (thousands), never
//! row by row over events (hundreds of millions): each function here maps
//! one code to a small set of categories (a bitset or a group number), and
//! each score function maps one person's set of categories to a score. The
//! features stage matches the distinct codes once, joins the sets back to
//! events, ORs them per person and scores the result (docs/codelists.md).
//!
//! - [`code`]: the code systems (ICD-10, SNOMED CT, BNF), validated codes and
//!   the one normaliser of each system;
//! - [`load`]: code-list files (CSV) and the matching rules, for built-in
//!   and user lists alike;
//! - [`charlson`], [`elixhauser`], [`hfrs`], [`efi`]: the published scores;
//! - [`ltc`]: long-term condition flags;
//! - [`scorelists`]: the score lists of a run (Charlson, Elixhauser, HFRS,
//!   eFI, long-term conditions) per code system, each built in or replaced
//!   from `strata.toml`, and the checksum of every list used.
//!
//! This module never reads event data and never panics on a code.

pub mod charlson;
pub mod code;
pub mod efi;
pub mod elixhauser;
mod error;
pub mod hfrs;
pub mod load;
pub mod ltc;
pub mod scorelists;

pub use charlson::{CharlsonCategory, CharlsonWeights, charlson_categories, charlson_score};
pub use code::{
    BnfCode, BnfLevel, CodeError, CodeSystem, Icd10Code, SnomedCode, bnf_chemical_substance,
    normalise_icd10, snomed_id,
};
pub use efi::{
    EFI_MIN_AGE, EfiCategory, EfiDeficit, efi_category, efi_deficit_count, efi_deficits,
    efi_polypharmacy, efi_score,
};
pub use elixhauser::{
    ElixhauserCategory, elixhauser_categories, elixhauser_count, elixhauser_score,
};
pub use error::SpecError;
pub use hfrs::{HfrsBand, hfrs_band, hfrs_group, hfrs_score, hfrs_weight};
pub use load::{Codelist, Entry};
pub use ltc::{Ltc, ltc_categories, ltc_count};
pub use scorelists::{ListFiles, ListUse, ScoreLists};
