//! A private binfmt_misc to register handlers in without touching the
//! host's: a user and mount namespace of its own (`unshare -Urm`), where
//! Linux 6.7 and later give binfmt_misc a fresh, empty instance. A mount
//! namespace alone is not enough: binfmt_misc belongs to the user
//! namespace, so `unshare -m` as root mounts the host's instance again.

use std::process::Command;
use std::sync::OnceLock;

use crate::work_dir;

/// Shell functions for scripts run in such a namespace. `$M` is the mount
/// point, `$T` Transit, `$RUNNER` what runs aarch64 programs on this host
/// (empty on arm64). Nothing is written under `$M` unless it is a
/// binfmt_misc mount of this namespace.
pub const PRELUDE: &str = r#"
mount_private() {
    mount -t binfmt_misc binfmt_misc "$M"
    test -e "$M/register"
}
# register_aarch64 [FLAGS]: qemu for aarch64 programs (default flags F).
register_aarch64() {
    test -e "$M/register"
    [ -n "$RUNNER" ] || return 0
    qemu=$(command -v "$RUNNER")
    printf '%s' ":qemu-aarch64:M::\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:$qemu:${1:-F}" > "$M/register"
}
install_transit() {
    "$T" binfmt install --root "$M" --flags F --test-only-tagged "$@"
}
"#;

/// Why this host cannot make a private binfmt_misc, if it cannot: tried
/// once, in a namespace of its own.
pub fn unavailable() -> Option<&'static str> {
    static REASON: OnceLock<Option<String>> = OnceLock::new();
    REASON
        .get_or_init(|| {
            let dir = work_dir("binfmt").join("probe");
            std::fs::create_dir_all(&dir).expect("can create the probe directory");
            let probe = Command::new("unshare")
                .args(["-Urm", "sh", "-c", "mount -t binfmt_misc binfmt_misc \"$0\" && test -e \"$0/register\""])
                .arg(&dir)
                .output();
            match probe {
                Err(e) => Some(format!("cannot run unshare(1): {e}")),
                Ok(out) if !out.status.success() => Some(format!(
                    "no private binfmt_misc in a user namespace here (`unshare -Urm` then `mount -t binfmt_misc`: {}); \
                     it needs unprivileged user namespaces and Linux 6.7 or later",
                    String::from_utf8_lossy(&out.stderr).trim()
                )),
                Ok(_) => None,
            }
        })
        .as_deref()
}
