//! Errors Transit reports about its own input, each with its exit status.
//! The guest's own failures are not errors: they are its exit status or signal.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: no such file or directory")]
    NotFound { path: PathBuf },
    #[error("{path}: cannot read: {source}")]
    Unreadable { path: PathBuf, source: std::io::Error },
    #[error("{path}: not an ELF executable")]
    NotElf { path: PathBuf },
    #[error("{path}: wrong architecture: {what} (Transit runs x86_64 Linux programs)")]
    WrongArchitecture { path: PathBuf, what: String },
    #[error("{path}: malformed or truncated ELF: {why}")]
    Malformed { path: PathBuf, why: String },
    #[error("{path}: needs dynamic loader {interp}, which was not found{hint}")]
    MissingInterpreter { path: PathBuf, interp: String, hint: String },
    #[error("cannot map guest memory at {addr:#x}: {source}")]
    Map { addr: u64, source: std::io::Error },
    #[error("Transit runs translated code only on aarch64 hosts")]
    WrongHost,
}

impl LoadError {
    /// Distinct exit statuses, documented in the README.
    pub fn exit_code(&self) -> i32 {
        match self {
            LoadError::NotFound { .. } => 127,
            LoadError::Unreadable { .. } => 126,
            LoadError::NotElf { .. } => 125,
            LoadError::WrongArchitecture { .. } => 124,
            LoadError::Malformed { .. } => 123,
            LoadError::MissingInterpreter { .. } => 122,
            LoadError::Map { .. } => 121,
            LoadError::WrongHost => 120,
        }
    }
}
