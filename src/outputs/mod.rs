//! Outputs: Parquet files, the run manifest, and atomic publication.

pub mod disclosure;
pub mod drift;
pub mod history;
pub mod lists;
pub mod manifest;
pub mod parquet;
pub mod pseudonym;
pub mod publish;
pub mod ranking;
pub mod summaries;

pub use manifest::Manifest;
pub use publish::{OutputLock, Staging};
