//! `transit --package-files DIR` (hidden; `cargo xtask deb` runs it): the
//! files of a Transit package that are generated from Transit's own
//! definitions, written under DIR where they install:
//!
//! - `usr/share/man/man1/transit.1`, `transit-binfmt.1` (and a page per
//!   subcommand), `transit-mirror.1`: clap_mangen's rendering of the
//!   command lines;
//! - `usr/lib/binfmt.d/transit-x86_64.conf`: the registration
//!   `transit binfmt install` makes, for `/usr/bin/transit`, which
//!   systemd-binfmt writes to binfmt_misc at boot and at install.
//!
//! The binary writes them, not xtask, because the command-line definitions
//! live in this crate and its dependencies (the translator's CPU levels,
//! the syscall layer's signal lists), which xtask does not build for the
//! build host; and so a package cannot describe another Transit than the
//! one it ships.

use std::path::Path;

use transit_binfmt::entry::{Flags, Registration, DEFAULT_FLAGS};
use transit_binfmt::persist;

/// Where the package installs Transit.
pub const INSTALLED_AT: &str = "/usr/bin/transit";

pub fn write(root: &Path) -> Result<(), String> {
    let man1 = root.join("usr/share/man/man1");
    std::fs::create_dir_all(&man1).map_err(|e| format!("{}: {e}", man1.display()))?;
    let pages = [
        ("transit", crate::invocation::command()),
        ("transit-binfmt", transit_binfmt::cli::command()),
        ("transit-mirror", transit_binfmt::mirror::command()),
    ];
    for (page, command) in pages {
        // Pages are named after `display_name`, a subcommand's after its
        // parent's (transit-binfmt-install.1); usage lines keep the
        // command's own spelling (`transit binfmt install`).
        clap_mangen::generate_to(command.display_name(page), &man1).map_err(|e| format!("{page}: {e}"))?;
    }
    let binfmt_d = root.join("usr/lib/binfmt.d");
    std::fs::create_dir_all(&binfmt_d).map_err(|e| format!("{}: {e}", binfmt_d.display()))?;
    let registration = Registration::transit(Path::new(INSTALLED_AT), Flags::parse(DEFAULT_FLAGS)?);
    let line = registration.line()?;
    let text = format!("# Transit runs x86_64 programs (installed by the transit package).\n{line}\n");
    let path = binfmt_d.join(persist::conf_file_name());
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
}
