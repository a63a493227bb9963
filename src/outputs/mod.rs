//! Outputs: Parquet files, the run manifest, and atomic publication.

pub mod disclosure;
pub mod manifest;
pub mod parquet;
pub mod publish;

pub use manifest::Manifest;
pub use publish::{OutputLock, Staging};
