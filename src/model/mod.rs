//! Risk models: the versioned model file, the design matrix built from a
//! feature table, parallel scoring, training and discrimination metrics.

pub mod calibration;
pub mod card;
pub mod curves;
pub mod design;
mod error;
pub mod evaluate;
pub mod explain;
pub mod fairness;
pub mod metrics;
pub mod published;
pub mod schema;
pub mod score;
pub mod train;

pub use design::{DesignMatrix, Term, Transform};
pub use error::{ModelError, Result};
pub use schema::{ModelFile, SCHEMA_VERSION};
pub use score::score;
