//! The single integration-test binary (Polars links once).

mod audit;
mod codelists;
mod coverage;
mod exit_codes;
mod feature_examples;
mod features_spec;
mod fhir;
mod golden;
mod governance;
mod impact;
mod malformed;
mod medicines;
mod model_disclosure;
mod omop;
mod operations;
mod pipeline;
mod publication;
mod reasons;
mod reference;
mod report;
mod report_tiles;
mod support;
mod synth;
