//! subst
