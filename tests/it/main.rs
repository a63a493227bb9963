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
mod omop;
mod operations;
mod pipeline;
mod publication;
mod reference;
mod report;
mod support;
mod synth;
