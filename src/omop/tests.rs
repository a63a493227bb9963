//! One test per mapping rule.
