//! How xtask talks to the person watching: a one-line header per step, and
//! every external command echoed before it runs.

use std::process::{Command, ExitStatus};

use anyhow::{bail, Context, Result};

/// Prints the one-line header that opens a step.
pub fn header(title: impl std::fmt::Display) {
    println!("==> {title}");
}

/// Runs `command` with inherited stdio and fails unless it exits 0.
pub fn run(command: &mut Command) -> Result<()> {
    let status = status(command)?;
    if !status.success() {
        bail!("`{}` failed: {status}", describe(command));
    }
    Ok(())
}

/// Runs `command` with inherited stdio and returns how it ended.
pub fn status(command: &mut Command) -> Result<ExitStatus> {
    println!("    $ {}", describe(command));
    command
        .status()
        .with_context(|| format!("cannot start `{}`", describe(command)))
}

/// Runs `command` quietly and returns its stdout if it exits 0, `None` if it
/// cannot be started or fails: used for probing what the host has.
pub fn probe(command: &mut Command) -> Option<String> {
    let output = command.stderr(std::process::Stdio::null()).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// `program arg arg ...` as a person would type it (environment not shown).
pub fn describe(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|part| part.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}
