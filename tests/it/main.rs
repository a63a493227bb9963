//! The single integration-test binary (Polars links once).

mod features_spec;
mod malformed;
mod pipeline;
mod support;
mod synth;
