//! `cargo xtask codegen-listing [--check]`: regenerates
//! benches/results/codegen-listing.md, the aarch64 code Transit emits for
//! each x86 form with its instruction count (written by the difftest
//! crate's `codegen-listing` binary, which reuses its instance generator).
//! `--check` regenerates it in memory and fails if the checked-in file is
//! stale, so that a codegen change comes with its listing's diff.

use std::collections::HashMap;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::build::cargo;
use crate::host::Arch;
use crate::{setup, step};

/// Relative to the workspace root.
pub const LISTING: &str = "benches/results/codegen-listing.md";

pub fn run(args: &[String]) -> Result<()> {
    let check = match args {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => bail!("usage: cargo xtask codegen-listing [--check]"),
    };
    setup::ensure_prerequisites(Arch::of_host()?)?;
    if check {
        return self::check();
    }
    step::header(format!("Writing {LISTING}"));
    let listing = generate()?;
    let path = crate::workspace_root().join(LISTING);
    std::fs::write(&path, &listing).with_context(|| format!("cannot write {}", path.display()))?;
    println!("    {} lines, {} bytes", listing.lines().count(), listing.len());
    Ok(())
}

/// Fails, naming the first form that differs, unless the checked-in
/// listing is what the translator emits now.
pub fn check() -> Result<()> {
    step::header(format!("Checking that {LISTING} is up to date"));
    let fresh = generate()?;
    let path = crate::workspace_root().join(LISTING);
    let checked_in = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    if let Some(difference) = first_difference(&checked_in, &fresh) {
        bail!("{LISTING} is stale ({difference}): run `cargo xtask codegen-listing` and commit the result");
    }
    println!("    up to date");
    Ok(())
}

/// Builds the generator for this host and returns what it prints.
fn generate() -> Result<String> {
    // The difftest's driver is built the same way, so `cargo xtask test`
    // only links one more binary.
    step::run(cargo().current_dir(crate::workspace_root()).args([
        "build",
        "--release",
        "-p",
        "transit-difftest",
        "--bin",
        "codegen-listing",
    ]))?;
    let mut generator = Command::new(crate::target_dir().join("release/codegen-listing"));
    // The listing shows the default code, whatever this shell switches off.
    generator.env_remove("TRANSIT_TUNING");
    println!("    $ {}", step::describe(&generator));
    let output = generator.output().context("cannot start the codegen-listing generator")?;
    if !output.status.success() {
        bail!("codegen-listing failed: {}\n{}", output.status, String::from_utf8_lossy(&output.stderr));
    }
    String::from_utf8(output.stdout).context("the listing is not UTF-8")
}

/// What differs first between listings `old` and `new`: a form's section
/// ("form Add_rm8_r8 changed", "... is new", "... is gone") before the
/// summary, which changes with any form's count.
fn first_difference(old: &str, new: &str) -> Option<String> {
    let (old, new) = (sections(old), sections(new));
    let in_old: HashMap<&str, &str> = old.iter().copied().collect();
    let in_new: HashMap<&str, &str> = new.iter().copied().collect();
    let form = |heading: &str| heading.strip_prefix("### ").map(str::to_string);
    for &(heading, body) in &new {
        if let Some(name) = form(heading) {
            match in_old.get(heading) {
                None => return Some(format!("form {name} is new")),
                Some(&before) if before != body => return Some(format!("form {name} changed")),
                Some(_) => {}
            }
        }
    }
    if let Some(name) = old.iter().filter(|(h, _)| !in_new.contains_key(h)).find_map(|(h, _)| form(h)) {
        return Some(format!("form {name} is gone"));
    }
    if let Some((heading, _)) = new.iter().find(|(h, body)| in_old.get(h) != Some(body)) {
        let title = heading.trim_start_matches('#').trim();
        return Some(format!("section \"{}\" changed", if title.is_empty() { "header" } else { title }));
    }
    (old != new).then(|| "the order of the sections changed".to_string())
}

/// The listing cut before each heading: (heading line, text under it);
/// the text before the first heading has an empty heading.
fn sections(text: &str) -> Vec<(&str, &str)> {
    let mut sections = Vec::new();
    let (mut heading, mut body_start) = ("", 0);
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with('#') {
            sections.push((heading, &text[body_start..at]));
            heading = line.trim_end();
            body_start = at + line.len();
        }
        at += line.len();
    }
    sections.push((heading, &text[body_start..]));
    sections
}

#[cfg(test)]
mod tests {
    use super::first_difference;

    const OLD: &str = "# Listing\n## Summary\n- 2\n## Compiled forms\n### Add_rm8_r8\n    add w1, w1, w2\n### Sub_rm8_r8\n    sub w1, w1, w2\n";

    #[test]
    fn names_the_form_behind_a_changed_summary() {
        let new = OLD.replace("sub w1, w1, w2", "subs w1, w1, w2\n    mov x26, x1").replace("- 2", "- 3");
        assert_eq!(first_difference(OLD, &new).as_deref(), Some("form Sub_rm8_r8 changed"));
        assert_eq!(first_difference(OLD, OLD), None);
    }

    #[test]
    fn names_new_and_gone_forms() {
        let new = format!("{OLD}### Xor_rm8_r8\n    eor w1, w1, w2\n");
        assert_eq!(first_difference(OLD, &new).as_deref(), Some("form Xor_rm8_r8 is new"));
        assert_eq!(first_difference(&new, OLD).as_deref(), Some("form Xor_rm8_r8 is gone"));
        let header = OLD.replace("# Listing", "# Listing\nA note.");
        assert_eq!(first_difference(OLD, &header).as_deref(), Some("section \"Listing\" changed"));
    }
}
