//! One page per file.

pub mod status;
