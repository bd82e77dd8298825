//! The test programs: every `*.c` (C) and `*.cpp` (C++) file in
//! `tests/programs/` and its subfolders (`expected/` holds outputs, not
//! programs). How a program is invoked is written at its top, in `//!` lines:
//!
//! ```c
//! //! args: alpha beta       whitespace-separated arguments
//! //! arg: one with spaces   one argument, verbatim
//! //! stdin: a line          a line of standard input (repeatable)
//! ```

use std::path::{Path, PathBuf};

/// The environment every program runs with, natively and under Transit
/// alike; nothing of the harness's own environment leaks in. Programs see
/// their run directory as the current directory, and TMPDIR points there.
pub const GUEST_ENV: &[(&str, &str)] = &[
    ("HOME", "/nonexistent"),
    ("LANG", "C"),
    ("PATH", "/usr/bin:/bin"),
    ("TMPDIR", "."),
    // Transit's persistent code cache, shared by the test runs (and not
    // under HOME, which is not a directory here); the native runs see the
    // same variable, so a program printing its environment prints the same.
    ("TRANSIT_CACHE_DIR", "/tmp/transit-tests-cache"),
    ("TRANSIT_TEST", "differential"),
    ("TZ", "UTC"),
];

/// The language of a program's source, from its extension; it decides the
/// compiler and which variants exist (see `toolchain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    C,
    Cxx,
}

impl Language {
    fn of(source: &Path) -> Option<Language> {
        match source.extension()?.to_str()? {
            "c" => Some(Language::C),
            "cpp" => Some(Language::Cxx),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Program {
    /// The file stem, unique across the catalog.
    pub name: String,
    pub source: PathBuf,
    pub language: Language,
    pub args: Vec<String>,
    pub stdin: Vec<u8>,
}

/// The folder holding the programs.
pub fn programs_dir() -> PathBuf {
    crate::workspace_root().join("tests/programs")
}

/// All programs, sorted by name.
pub fn discover() -> Result<Vec<Program>, String> {
    let dir = programs_dir();
    let mut sources = source_files(&dir)?;
    for entry in read_dir(&dir)? {
        if entry.is_dir() && entry.file_name().is_some_and(|name| name != "expected") {
            sources.extend(source_files(&entry)?);
        }
    }
    let mut programs = sources
        .iter()
        .map(|source| parse(source))
        .collect::<Result<Vec<_>, _>>()?;
    programs.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(pair) = programs
        .windows(2)
        .find(|pair| pair[0].name == pair[1].name)
    {
        return Err(format!(
            "two test programs are named {}: {} and {}",
            pair[0].name,
            pair[0].source.display(),
            pair[1].source.display()
        ));
    }
    Ok(programs)
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    entries
        .map(|entry| {
            entry
                .map(|entry| entry.path())
                .map_err(|e| format!("cannot list {}: {e}", dir.display()))
        })
        .collect()
}

fn source_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    Ok(read_dir(dir)?
        .into_iter()
        .filter(|path| Language::of(path).is_some())
        .collect())
}

fn parse(source: &Path) -> Result<Program, String> {
    let text = std::fs::read_to_string(source)
        .map_err(|e| format!("cannot read {}: {e}", source.display()))?;
    parse_text(source, &text)
}

fn parse_text(source: &Path, text: &str) -> Result<Program, String> {
    let name = source
        .file_stem()
        .and_then(|stem| stem.to_str())
        .ok_or_else(|| format!("{}: file name is not UTF-8", source.display()))?
        .to_string();
    let language = Language::of(source)
        .ok_or_else(|| format!("{}: neither a .c nor a .cpp file", source.display()))?;
    let mut program = Program {
        name,
        source: source.to_path_buf(),
        language,
        args: Vec::new(),
        stdin: Vec::new(),
    };
    for (number, line) in text.lines().enumerate() {
        let Some(directive) = line.strip_prefix("//!") else {
            continue;
        };
        let directive = directive.trim_start();
        let (key, value) = directive.split_once(':').unwrap_or((directive, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match key {
            "args" => program
                .args
                .extend(value.split_whitespace().map(str::to_string)),
            "arg" => program.args.push(value.to_string()),
            "stdin" => {
                program.stdin.extend_from_slice(value.as_bytes());
                program.stdin.push(b'\n');
            }
            _ => {
                return Err(format!(
                    "{}:{}: unknown directive `//! {key}:` (known: args, arg, stdin)",
                    source.display(),
                    number + 1
                ))
            }
        }
    }
    Ok(program)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_set_arguments_and_stdin() {
        let text = "//! args: a  b\n//! arg: with  spaces\n//! arg:\n//! stdin: line one\n//! stdin:\nint main(void) {}\n";
        let program = parse_text(Path::new("dir/example.c"), text).unwrap();
        assert_eq!(program.name, "example");
        assert_eq!(program.language, Language::C);
        assert_eq!(program.args, ["a", "b", "with  spaces", ""]);
        assert_eq!(program.stdin, b"line one\n\n");
    }

    #[test]
    fn cpp_files_are_cxx_programs() {
        let program = parse_text(Path::new("dir/throws.cpp"), "int main() {}\n").unwrap();
        assert_eq!(
            (program.name.as_str(), program.language),
            ("throws", Language::Cxx)
        );
    }

    #[test]
    fn unknown_directives_are_errors() {
        let error = parse_text(Path::new("x.c"), "//! argz: a\n").unwrap_err();
        assert!(error.contains("x.c:1: unknown directive"), "{error}");
    }
}
