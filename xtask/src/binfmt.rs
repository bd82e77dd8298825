//! On an x86_64 host Transit is an aarch64 program run by qemu-aarch64. When
//! a guest execs another x86_64 program, Transit execs itself, and the host
//! kernel must know how to run an aarch64 ELF: a binfmt_misc handler for
//! qemu-aarch64-static, registered host-wide with the F flag (the kernel
//! opens the interpreter once, so it works in any mount namespace). This
//! only ever registers aarch64: never an x86_64 handler on an x86_64 host.

use std::path::Path;
use std::process::Stdio;

use anyhow::{bail, Context, Result};

use crate::setup::privileged;
use crate::step;

const BINFMT_DIR: &str = "/proc/sys/fs/binfmt_misc";
/// e_ident and e_machine of a 64-bit little-endian aarch64 executable, as
/// the entries under BINFMT_DIR print their magic.
const AARCH64_MAGIC_HEX: &str = "7f454c460201010000000000000000000200b700";
/// The registration line (Documentation/admin-guide/binfmt-misc.rst), as
/// Debian's /usr/lib/binfmt.d/qemu-aarch64.conf writes it: the mask lets
/// e_type be ET_EXEC or ET_DYN. The kernel decodes the \x escapes.
const REGISTRATION: &str = ":qemu-aarch64:M::\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:";

/// Makes sure the host runs aarch64 executables through `interpreter`
/// (an absolute path to qemu-aarch64-static). Failing to arrange it is
/// reported, not fatal: only the tests that exec will fail.
pub fn ensure_aarch64_handler(interpreter: &Path) -> Result<()> {
    step::header("Checking binfmt_misc handler for aarch64 programs");
    match ensure(interpreter) {
        Ok(what) => println!("    {what}"),
        Err(error) => eprintln!(
            "warning: cannot make the host run aarch64 programs through {}: {error:#}\n\
             warning: Transit cannot exec itself, so tests where a guest runs another program will fail",
            interpreter.display()
        ),
    }
    Ok(())
}

fn ensure(interpreter: &Path) -> Result<String> {
    let dir = Path::new(BINFMT_DIR);
    if !dir.join("status").exists() {
        step::run(&mut privileged(&[
            "mount",
            "-t",
            "binfmt_misc",
            "binfmt_misc",
            BINFMT_DIR,
        ])?)?;
    }
    if let Some((entry, enabled)) = aarch64_entry(dir)? {
        if enabled {
            return Ok(format!("present: {}", entry.display()));
        }
        write_privileged(&entry, "1")?;
        return Ok(format!("enabled: {}", entry.display()));
    }
    if !interpreter.is_file() {
        bail!(
            "{} is missing (package qemu-user-static)",
            interpreter.display()
        );
    }
    write_privileged(
        &dir.join("register"),
        &format!("{REGISTRATION}{}:F", interpreter.display()),
    )?;
    match aarch64_entry(dir)? {
        Some(_) => Ok(format!(
            "registered {} for aarch64 ELF",
            interpreter.display()
        )),
        None => {
            bail!("the registration was accepted but no aarch64 entry appeared in {BINFMT_DIR}")
        }
    }
}

/// The entry that matches aarch64 ELF files, and whether it is enabled.
fn aarch64_entry(dir: &Path) -> Result<Option<(std::path::PathBuf, bool)>> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path
            .file_name()
            .is_some_and(|name| name == "register" || name == "status")
        {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if text
            .lines()
            .any(|line| line.trim() == format!("magic {AARCH64_MAGIC_HEX}"))
        {
            let enabled = text
                .lines()
                .next()
                .is_some_and(|line| line.trim() == "enabled");
            return Ok(Some((path, enabled)));
        }
    }
    Ok(None)
}

/// Writes `text` to a binfmt_misc control file as root (tee through sudo
/// when we are not root).
fn write_privileged(file: &Path, text: &str) -> Result<()> {
    let file_name = file.to_string_lossy();
    let mut tee = privileged(&["tee", &file_name])?;
    tee.stdin(Stdio::piped()).stdout(Stdio::null());
    println!("    $ echo '{text}' | {}", step::describe(&tee));
    let mut child = tee
        .spawn()
        .with_context(|| format!("cannot start `{}`", step::describe(&tee)))?;
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        // One write: binfmt_misc parses each write as a whole record.
        stdin
            .write_all(text.as_bytes())
            .with_context(|| format!("cannot write to {file_name}"))?;
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("writing to {file_name} failed ({status})");
    }
    Ok(())
}

/// `program` found in PATH, as an absolute path.
pub fn find_in_path(program: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}
