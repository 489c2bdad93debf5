//! params rules
