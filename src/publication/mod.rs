//! Publication: the filesystem side of a run. Outputs are written into a
//! staging folder and published atomically ([`publish`]) under an exclusive
//! output lock; Parquet files are written with reader-friendly settings
//! ([`parquet`]); the run manifest records what was read and written
//! ([`manifest`]).

pub mod manifest;
pub mod parquet;
pub mod publish;

pub use manifest::Manifest;
pub use publish::{OutputLock, Staging};
