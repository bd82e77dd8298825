//! The checked-in reference outcomes, `tests/programs/expected/NAME.*`:
//! `.stdout` and `.status` (`exit N` or `signal N`) always, `.stderr` when
//! the program writes to it. One set per program: every variant must behave
//! the same, which `cargo xtask bless` checks before writing.

use std::io;
use std::path::PathBuf;

use crate::outcome::{Outcome, Termination};

pub fn expected_dir() -> PathBuf {
    crate::catalog::programs_dir().join("expected")
}

/// The reference for `name`, or `None` when it has never been blessed.
pub fn load(name: &str) -> Result<Option<Outcome>, String> {
    let dir = expected_dir();
    let read = |extension: &str| -> Result<Option<Vec<u8>>, String> {
        let path = dir.join(format!("{name}.{extension}"));
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    };
    let (Some(status), Some(stdout)) = (read("status")?, read("stdout")?) else {
        return Ok(None);
    };
    let termination: Termination = String::from_utf8_lossy(&status)
        .parse()
        .map_err(|e| format!("{}/{name}.status: {e}", dir.display()))?;
    Ok(Some(Outcome {
        termination,
        stdout,
        stderr: read("stderr")?.unwrap_or_default(),
    }))
}

/// Writes the reference for `name`.
pub fn store(name: &str, outcome: &Outcome) -> io::Result<()> {
    let dir = expected_dir();
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join(format!("{name}.status")),
        format!("{}\n", outcome.termination),
    )?;
    std::fs::write(dir.join(format!("{name}.stdout")), &outcome.stdout)?;
    let stderr = dir.join(format!("{name}.stderr"));
    if outcome.stderr.is_empty() {
        match std::fs::remove_file(&stderr) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    } else {
        std::fs::write(stderr, &outcome.stderr)?;
    }
    Ok(())
}

/// Removes references whose program no longer exists; returns their names.
pub fn remove_stale(programs: &[&str]) -> io::Result<Vec<String>> {
    let mut removed = Vec::new();
    let entries = match std::fs::read_dir(expected_dir()) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(removed),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        let Some(stem) = path.file_stem().and_then(|stem| stem.to_str()) else {
            continue;
        };
        if !programs.contains(&stem) {
            std::fs::remove_file(&path)?;
            removed.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    Ok(removed)
}
