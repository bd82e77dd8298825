//! Transit's command line on inputs it must refuse. Exit codes are the CLI's
//! to choose; what holds for all of them: a non-zero exit that is not 101
//! (a Rust panic), no death by signal, and exactly one line on stderr that
//! names the file.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use transit_tests::catalog;
use transit_tests::outcome::Termination;
use transit_tests::toolchain::Toolchain;
use transit_tests::transit::Transit;
use transit_tests::{process, work_dir};

const TIMEOUT: Duration = Duration::from_secs(60);
/// Enough for e_ident and most of the ELF header, but no program headers.
const TRUNCATED_LENGTH: usize = 100;

#[test]
fn rejects_a_file_that_is_not_elf() {
    let input = input_file("not-an-elf.txt", b"this is not an ELF file\n");
    assert_rejected("not-elf", &input);
}

#[test]
fn rejects_an_elf_for_another_architecture() {
    // Transit itself is an aarch64 program.
    let transit = transit();
    let image = std::fs::read(&transit.binary).expect("TRANSIT_BIN is readable");
    let input = input_file("aarch64-program", &image);
    assert_rejected("wrong-architecture", &input);
}

#[test]
fn rejects_a_truncated_elf() {
    let toolchain = Toolchain::for_host().unwrap_or_else(|e| panic!("{e}"));
    let programs = catalog::discover().unwrap_or_else(|e| panic!("{e}"));
    let hello = programs
        .iter()
        .find(|program| program.name == "hello")
        .expect("tests/programs/demo/hello.c exists");
    let variant = toolchain
        .variants()
        .next()
        .expect("every host has a variant");
    let binary = toolchain
        .build(hello, variant)
        .unwrap_or_else(|e| panic!("{e}"));
    let image = std::fs::read(binary).expect("the build is readable");
    let input = input_file("truncated-x86_64-program", &image[..TRUNCATED_LENGTH]);
    assert_rejected("truncated", &input);
}

#[test]
fn rejects_a_missing_file() {
    let input = work_dir("cli-inputs").join("does-not-exist");
    let _ = std::fs::remove_file(&input);
    assert_rejected("missing", &input);
}

fn transit() -> Transit {
    Transit::from_env().unwrap_or_else(|e| panic!("{e}"))
}

/// An executable file with these contents, so permissions are never why
/// Transit refuses it.
fn input_file(name: &str, contents: &[u8]) -> PathBuf {
    let dir = work_dir("cli-inputs");
    std::fs::create_dir_all(&dir).expect("can create the inputs directory");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("can write an input");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .expect("can chmod an input");
    path
}

fn assert_rejected(case: &str, input: &Path) {
    let transit = transit();
    let outcome = process::run(
        transit.command(input, &[]),
        b"",
        &work_dir("cli-runs").join(case),
        TIMEOUT,
    )
    .expect("can start Transit");
    let stderr = String::from_utf8_lossy(&outcome.stderr);
    let context = format!(
        "transit {} ended with {}; stderr:\n{stderr}",
        input.display(),
        outcome.termination
    );
    match outcome.termination {
        Termination::Exited(0) => panic!("expected a failure: {context}"),
        Termination::Exited(101) => panic!("101 is a Rust panic, not an error report: {context}"),
        Termination::Exited(_) => {}
        _ => panic!("expected a plain non-zero exit: {context}"),
    }
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "expected exactly one line on stderr: {context}"
    );
    assert!(
        lines[0].contains(&*input.to_string_lossy()),
        "the error line should name the file: {context}"
    );
}
