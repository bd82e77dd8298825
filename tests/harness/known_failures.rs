//! `tests/programs/known_failures`: program runs that do not match yet, so
//! that CI stays a signal for regressions while Transit grows. A listed run
//! is still built, run and compared; its mismatch is reported but does not
//! fail the test. A listed run that passes is reported too, so its line can
//! be removed. The same idea as FEX's known-failure lists.
//!
//! Format, one entry a line, `#` starts a comment:
//!
//! ```text
//! sse2            # every variant
//! matrix glibc-O2 # one variant
//! ```

use std::path::PathBuf;

use crate::catalog::Program;
use crate::toolchain::all_variant_names;

pub fn known_failures_file() -> PathBuf {
    crate::catalog::programs_dir().join("known_failures")
}

#[derive(Debug)]
pub struct KnownFailures {
    /// (program, variant or `None` for every variant)
    entries: Vec<(String, Option<String>)>,
}

impl KnownFailures {
    /// Reads the list, rejecting names that match no program or variant (a
    /// typo must not silently tolerate nothing). A missing file is an empty list.
    pub fn load(programs: &[Program]) -> Result<KnownFailures, String> {
        let path = known_failures_file();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        Self::parse(&text, &path.display().to_string(), programs)
    }

    fn parse(text: &str, path: &str, programs: &[Program]) -> Result<KnownFailures, String> {
        let mut entries = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let content = line.split('#').next().unwrap_or("");
            let words: Vec<&str> = content.split_whitespace().collect();
            let bad = |why: &str| format!("{path}:{}: {why}: `{line}`", number + 1);
            let entry = match words.as_slice() {
                [] => continue,
                [program] => (program.to_string(), None),
                [program, variant] => (program.to_string(), Some(variant.to_string())),
                _ => return Err(bad("expected `PROGRAM [VARIANT]`")),
            };
            if !programs.iter().any(|program| program.name == entry.0) {
                return Err(bad("no such program"));
            }
            if let Some(variant) = &entry.1 {
                let known = all_variant_names();
                if !known.contains(&variant.as_str()) {
                    return Err(bad(&format!(
                        "no such variant (known: {})",
                        known.join(", ")
                    )));
                }
            }
            entries.push(entry);
        }
        Ok(KnownFailures { entries })
    }

    pub fn contains(&self, program: &str, variant: &str) -> bool {
        self.entries.iter().any(|(name, only)| {
            name == program && only.as_deref().is_none_or(|only| only == variant)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn programs() -> Vec<Program> {
        ["sse2", "matrix"]
            .iter()
            .map(|name| Program {
                name: name.to_string(),
                source: PathBuf::new(),
                language: crate::catalog::Language::C,
                args: Vec::new(),
                stdin: Vec::new(),
            })
            .collect()
    }

    #[test]
    fn entries_cover_all_variants_or_one() {
        let list = KnownFailures::parse(
            "# comment\n\nsse2  # why\nmatrix glibc-O2\n",
            "list",
            &programs(),
        )
        .unwrap();
        assert!(list.contains("sse2", "musl-O2"));
        assert!(list.contains("matrix", "glibc-O2"));
        assert!(!list.contains("matrix", "glibc-O0"));
    }

    #[test]
    fn typos_are_errors() {
        assert!(KnownFailures::parse("sse3\n", "list", &programs())
            .unwrap_err()
            .contains("no such program"));
        assert!(KnownFailures::parse("sse2 glibc-O3\n", "list", &programs())
            .unwrap_err()
            .contains("no such variant"));
        assert!(KnownFailures::parse("sse2 glibc-O2 extra\n", "list", &programs()).is_err());
    }
}
