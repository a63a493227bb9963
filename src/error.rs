//! Exit classes: how an operator acts on a failure. Each stage owns its own
//! error enum (`ingest::IngestError`, `codelists::SpecError`, …) with a
//! `class()` mapping it to one of these; the crate-wide `Error`
//! (`pipeline::error`) gathers them at the top. This module depends on nothing.

/// Why a command failed, grouped the way an operator acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitClass {
    /// Bad flags or configuration (exit 2).
    Usage,
    /// The extract breaks the data contract (exit 10).
    Input,
    /// A code list or feature specification is wrong (exit 11).
    Spec,
    /// A model file is unusable, or training failed (exit 12).
    Model,
    /// Disclosure control refused to release an output (exit 13).
    Disclosure,
    /// Outputs could not be written or published (exit 14).
    Publication,
    /// Anything else: a bug or an environment problem (exit 1).
    Internal,
}

impl ExitClass {
    /// The documented process exit code of this class (see README).
    pub fn code(self) -> u8 {
        match self {
            ExitClass::Internal => 1,
            ExitClass::Usage => 2,
            ExitClass::Input => 10,
            ExitClass::Spec => 11,
            ExitClass::Model => 12,
            ExitClass::Disclosure => 13,
            ExitClass::Publication => 14,
        }
    }
}
