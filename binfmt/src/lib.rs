//! binfmt_misc registration and container wiring (issues 5 and 6).
//!
//! Today this only knows the registration record Transit would install; the
//! `transit binfmt` commands arrive with the binfmt issue.

/// Name of Transit's binfmt_misc entry.
pub const ENTRY_NAME: &str = "transit-x86_64";

pub mod mirror;
