//! podman as an arm64 client (`podman pull --arch arm64`), through the
//! mirror the way users configure it: a `[[registry.mirror]]` in
//! registries.conf. Its configuration is the test's own: containers.conf,
//! registries.conf and storage.conf through podman's environment
//! variables, storage under the test's directory, a signature policy on
//! the command line. (podman still looks for drop-ins under
//! /etc/containers: registries.conf.d, registries.d, certs.d.)

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::images::Image;
use crate::services::{run, Mirror, Ran, Registry, Scratch};
use crate::{NO_ARM64, TLS_HANDSHAKE_TIMEOUT};

const PODMAN: &str = "/usr/bin/podman";
const PULL: Duration = Duration::from_secs(120);

/// runc and cgroupfs: what works as root on a host without systemd;
/// default_ulimits empty, so podman raises no limit; no events journal.
const CONTAINERS_CONF: &str = r#"[containers]
default_ulimits = []
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "none"
"#;

struct Podman {
    dir: PathBuf,
    /// podman refuses a runroot longer than 50 characters (sockets are
    /// made under it), so it is in /tmp, not the test's directory.
    runroot: PathBuf,
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.runroot);
    }
}

impl Podman {
    /// A podman whose registries.conf lists `registry` (plain HTTP when
    /// direct) and, with `mirror`, the mirror in front of it.
    fn new(dir: &Path, registry: &Registry, mirror: Option<&Mirror>) -> Podman {
        let dir = dir.join("podman");
        std::fs::create_dir_all(&dir).unwrap();
        let tmp = dir.join("tmp");
        let conf = format!("{CONTAINERS_CONF}tmp_dir = {tmp:?}\nimage_copy_tmp_dir = {tmp:?}\n");
        std::fs::write(dir.join("containers.conf"), conf).unwrap();
        // Only the mirror is insecure when there is one: a pull that fell
        // back to the registry itself would fail on TLS.
        let registries = match mirror {
            None => format!("[[registry]]\nlocation = \"{}\"\ninsecure = true\n", registry.host()),
            Some(mirror) => format!(
                "[[registry]]\nlocation = \"{}\"\n\n[[registry.mirror]]\nlocation = \"{}\"\ninsecure = true\n",
                registry.host(),
                mirror.host()
            ),
        };
        std::fs::write(dir.join("registries.conf"), format!("unqualified-search-registries = []\n{registries}")).unwrap();
        static PODMANS: AtomicUsize = AtomicUsize::new(0);
        let runroot = std::env::temp_dir().join(format!("transit-podman-{}-{}", std::process::id(), PODMANS.fetch_add(1, Ordering::Relaxed)));
        let storage = format!("[storage]\ndriver = \"vfs\"\ngraphroot = {:?}\nrunroot = {runroot:?}\n", dir.join("root"));
        std::fs::write(dir.join("storage.conf"), storage).unwrap();
        std::fs::write(dir.join("policy.json"), r#"{"default":[{"type":"insecureAcceptAnything"}]}"#).unwrap();
        Podman { dir, runroot }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(PODMAN);
        command
            .env("CONTAINERS_CONF", self.dir.join("containers.conf"))
            .env("CONTAINERS_REGISTRIES_CONF", self.dir.join("registries.conf"))
            .env("CONTAINERS_STORAGE_CONF", self.dir.join("storage.conf"))
            .arg("--root")
            .arg(self.dir.join("root"))
            .arg("--runroot")
            .arg(&self.runroot)
            .args(["--storage-driver", "vfs"])
            .args(args);
        command
    }

    /// `podman pull --arch arm64 REFERENCE`.
    fn pull_arm64(&self, reference: &str) -> Ran {
        let mut command = self.command(&["pull", "--arch", "arm64", "--signature-policy"]);
        command.arg(self.dir.join("policy.json")).arg(reference);
        let start = Instant::now();
        let ran = run(command, PULL);
        assert!(start.elapsed() < TLS_HANDSHAKE_TIMEOUT, "the pull took {:?}:\n{}", start.elapsed(), ran.stderr);
        ran
    }

    /// Architecture, manifest digest, image ID (the config's digest) and
    /// layers (their uncompressed digests) of a pulled image.
    fn inspect(&self, reference: &str) -> String {
        let format = "{{.Architecture}} {{.Digest}} sha256:{{.Id}}{{range .RootFS.Layers}} {{.}}{{end}}";
        let ran = run(self.command(&["image", "inspect", "--format", format, reference]), PULL);
        assert!(ran.ok, "podman image inspect {reference}:\n{}", ran.stderr);
        ran.stdout.trim().to_string()
    }
}

#[test]
fn podman_pull_of_an_amd64_only_index_fails_without_the_mirror() {
    let dir = Scratch::new("podman-direct");
    let registry = Registry::start(&dir.0);
    registry.push("amd64-only", "1", &[&Image::new("amd64")]);
    let podman = Podman::new(&dir.0, &registry, None);
    let pull = podman.pull_arm64(&format!("{}/amd64-only:1", registry.host()));
    assert!(!pull.ok, "podman pulled an amd64-only index as arm64 straight from the registry");
    assert!(pull.stderr.contains(NO_ARM64), "podman's own error, got:\n{}", pull.stderr);
}

#[test]
fn podman_pulls_the_amd64_image_through_the_mirror_in_registries_conf() {
    let dir = Scratch::new("podman-mirror");
    let registry = Registry::start(&dir.0);
    let amd64 = Image::new("amd64");
    registry.push("amd64-only", "1", &[&amd64]);
    let mirror = Mirror::start(&dir.0, &registry, true);
    let podman = Podman::new(&dir.0, &registry, Some(&mirror));
    // The registry's name, not the mirror's: registries.conf reroutes it.
    let reference = format!("{}/amd64-only:1", registry.host());
    let pull = podman.pull_arm64(&reference);
    assert!(pull.ok, "pull through the mirror failed:\n{}\nmirror log:\n{}", pull.stderr, mirror.log());
    let expected = format!("amd64 {} {} {}", amd64.manifest.digest(), amd64.config.digest(), amd64.layer.digest());
    assert_eq!(podman.inspect(&reference), expected);
    assert!(mirror.substituted(&amd64), "the substitution is logged, got:\n{}", mirror.log());
}

#[test]
fn podman_pull_of_an_index_with_an_arm64_entry_keeps_its_digest() {
    let dir = Scratch::new("podman-multi");
    let registry = Registry::start(&dir.0);
    let (amd64, arm64) = (Image::new("amd64"), Image::new("arm64"));
    let index = registry.push("multi", "1", &[&amd64, &arm64]);
    let mirror = Mirror::start(&dir.0, &registry, true);
    let podman = Podman::new(&dir.0, &registry, Some(&mirror));
    let reference = format!("{}/multi:1", registry.host());
    let pull = podman.pull_arm64(&reference);
    assert!(pull.ok, "pull through the mirror failed:\n{}\nmirror log:\n{}", pull.stderr, mirror.log());
    // podman records the digest of the tag's manifest: the index's.
    let expected = format!("arm64 {} {} {}", index.digest(), arm64.config.digest(), arm64.layer.digest());
    assert_eq!(podman.inspect(&reference), expected);
    assert!(!mirror.log().contains("serving linux/amd64"));
}
