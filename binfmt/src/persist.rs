//! Registration across reboots: systemd-binfmt (systemd-binfmt.service)
//! writes every line of `binfmt.d/*.conf` to `register` at boot
//! (binfmt.d(5)). A file in /etc/binfmt.d overrides one of the same name
//! in /usr/lib/binfmt.d; a symbolic link to /dev/null masks it.

use std::path::{Path, PathBuf};

use crate::entry::{Registration, ENTRY_NAME};

/// Where `--persist` writes, first existing directory first; the last one
/// is created if none exists.
pub const CONF_DIRS: [&str; 2] = ["/usr/lib/binfmt.d", "/etc/binfmt.d"];
/// binfmt.d directories systemd-binfmt reads (binfmt.d(5)).
const READ_DIRS: [&str; 3] = ["/etc/binfmt.d", "/run/binfmt.d", "/usr/lib/binfmt.d"];
/// Entries binfmt-support (Debian's update-binfmts) manages.
const BINFMT_SUPPORT_DIR: &str = "/var/lib/binfmts";

pub fn conf_file_name() -> String {
    format!("{ENTRY_NAME}.conf")
}

/// The file's text: a comment and the registration line.
pub fn conf_text(registration: &Registration) -> Result<String, String> {
    Ok(format!(
        "# Transit runs x86_64 programs (written by `transit binfmt install --persist`;\n\
         # `transit binfmt uninstall` removes it).\n{}\n",
        registration.line()?
    ))
}

/// The directory `--persist` writes to when none is named.
pub fn default_dir() -> PathBuf {
    CONF_DIRS.iter().map(PathBuf::from).find(|d| d.is_dir()).unwrap_or_else(|| CONF_DIRS[CONF_DIRS.len() - 1].into())
}

/// How to keep entry `name` disabled across reboots, judged from what
/// registers it at boot.
pub fn keep_disabled_hint(name: &str) -> Option<String> {
    if Path::new(BINFMT_SUPPORT_DIR).join(name).exists() {
        return Some(format!("`update-binfmts --disable {name}` (binfmt-support)"));
    }
    let prefix = format!(":{name}:");
    for dir in READ_DIRS {
        let Ok(files) = std::fs::read_dir(dir) else { continue };
        for file in files.flatten() {
            let registers_it = std::fs::read_to_string(file.path())
                .is_ok_and(|text| text.lines().any(|line| line.trim_start().starts_with(&prefix)));
            if registers_it {
                return Some(format!(
                    "`ln -sf /dev/null /etc/binfmt.d/{}` (masks systemd-binfmt's {})",
                    file.file_name().to_string_lossy(),
                    file.path().display()
                ));
            }
        }
    }
    if name.contains("rosetta") {
        return Some("in Lima, set the VM's Rosetta `binfmt: false` in lima.yaml (`--rosetta` off in Colima)".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Flags;

    #[test]
    fn the_conf_file_holds_the_registration_line() {
        let r = Registration::transit(Path::new("/usr/bin/transit"), Flags::parse("POCF").unwrap());
        let text = conf_text(&r).unwrap();
        let lines: Vec<_> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(lines, [r.line().unwrap()]);
        assert_eq!(conf_file_name(), "transit-x86_64.conf");
    }
}
