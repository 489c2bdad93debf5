//! names rules
