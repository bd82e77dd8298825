//! containerd as an arm64 client: a private containerd (its own root,
//! state, socket and configuration; every plugin a pull does not need
//! disabled), `ctr images pull --platform linux/arm64`, and the mirror
//! named the way users name it: a hosts.toml in a hosts directory
//! (`--hosts-dir`, what `config_path` is to the CRI plugin). containerd
//! tells the mirror the registry a request is for with `?ns=HOST`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::images::Image;
use crate::services::{run, wait_until, Mirror, Ran, Registry, Running, Scratch};

const CONTAINERD: &str = "/usr/bin/containerd";
const CTR: &str = "/usr/bin/ctr";
const STARTUP: Duration = Duration::from_secs(60);
const PULL: Duration = Duration::from_secs(120);

/// containerd's own words when an index has no entry for the platform.
const NO_MATCH: &str = "no match for platform in manifest";

/// Plugins a pull does not need, or that would touch the host (`opt`
/// installs into /opt/containerd; CRI sets up networking).
const DISABLED_PLUGINS: &[&str] = &[
    "io.containerd.grpc.v1.cri",
    "io.containerd.internal.v1.opt",
    "io.containerd.snapshotter.v1.aufs",
    "io.containerd.snapshotter.v1.btrfs",
    "io.containerd.snapshotter.v1.devmapper",
    "io.containerd.snapshotter.v1.zfs",
    "io.containerd.tracing.processor.v1.otlp",
];

struct Containerd {
    /// State and sockets: in /tmp, as a socket's path is at most 107 bytes.
    state: PathBuf,
    hosts: PathBuf,
    process: Option<Running>,
}

impl Containerd {
    fn start(dir: &Path) -> Containerd {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let state = std::env::temp_dir().join(format!("transit-containerd-{}-{}", std::process::id(), STARTED.fetch_add(1, Ordering::Relaxed)));
        let disabled: Vec<String> = DISABLED_PLUGINS.iter().map(|p| format!("{p:?}")).collect();
        let config = dir.join("containerd.toml");
        std::fs::write(
            &config,
            format!(
                "version = 2\nroot = {:?}\nstate = {:?}\ndisabled_plugins = [{}]\n[grpc]\n  address = {:?}\n",
                dir.join("containerd-root"),
                state,
                disabled.join(", "),
                state.join("containerd.sock")
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.join("containerd.log")).unwrap();
        let process = Command::new(CONTAINERD)
            .arg("--config")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CONTAINERD} (package containerd; `cargo xtask test` installs it): {e}"));
        let containerd = Containerd { hosts: dir.join("containerd-hosts"), state, process: Some(Running(process)) };
        wait_until("containerd", STARTUP, || std::os::unix::net::UnixStream::connect(containerd.socket()).ok());
        containerd
    }

    fn socket(&self) -> PathBuf {
        self.state.join("containerd.sock")
    }

    fn ctr(&self, args: &[&str]) -> Ran {
        let mut command = Command::new(CTR);
        command.arg("--address").arg(self.socket()).args(args);
        run(command, PULL)
    }

    /// `ctr images pull --platform linux/arm64` of `registry`'s
    /// `repository:tag`: through `mirror`, named in a hosts.toml, or
    /// straight from the registry over plain HTTP.
    fn pull_arm64(&self, registry: &Registry, mirror: Option<&Mirror>, repository: &str, tag: &str) -> Ran {
        let reference = format!("{}/{repository}:{tag}", registry.host());
        let mut args = vec!["images", "pull", "--platform", "linux/arm64", "--snapshotter", "native"];
        let hosts = self.hosts.to_str().unwrap();
        match mirror {
            Some(mirror) => {
                let dir = self.hosts.join(registry.host());
                std::fs::create_dir_all(&dir).unwrap();
                let hosts_toml = format!(
                    "server = \"{}\"\n\n[host.\"{}\"]\n  capabilities = [\"pull\", \"resolve\"]\n",
                    registry.url(),
                    mirror.url
                );
                std::fs::write(dir.join("hosts.toml"), hosts_toml).unwrap();
                args.extend(["--hosts-dir", hosts]);
            }
            None => args.push("--plain-http"),
        }
        args.push(&reference);
        self.ctr(&args)
    }

    /// The digest and platforms `ctr images ls` gives `reference`.
    fn image(&self, reference: &str) -> (String, String) {
        let list = self.ctr(&["images", "ls"]);
        assert!(list.ok, "ctr images ls:\n{}", list.stderr);
        let line = list.stdout.lines().find(|line| line.split_whitespace().next() == Some(reference));
        let fields: Vec<&str> = line.unwrap_or_else(|| panic!("no {reference} in:\n{}", list.stdout)).split_whitespace().collect();
        // REF TYPE DIGEST SIZE(2 words) PLATFORMS LABELS
        (fields[2].to_string(), fields[5].to_string())
    }

    /// A blob of the content store, if it holds it.
    fn content(&self, digest: &str) -> Option<Vec<u8>> {
        let out = Command::new(CTR).arg("--address").arg(self.socket()).args(["content", "get", digest]).output().unwrap();
        out.status.success().then_some(out.stdout)
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        self.process.take();
        let _ = std::fs::remove_dir_all(&self.state);
    }
}

#[test]
fn containerd_pull_of_an_amd64_only_index_fails_without_the_mirror() {
    let dir = Scratch::new("containerd-direct");
    let registry = Registry::start(&dir.0);
    registry.push("amd64-only", "1", &[&Image::new("amd64")]);
    let containerd = Containerd::start(&dir.0);
    let pull = containerd.pull_arm64(&registry, None, "amd64-only", "1");
    assert!(!pull.ok, "containerd pulled an amd64-only index as arm64 straight from the registry");
    assert!(pull.stderr.contains(NO_MATCH), "containerd's own error, got:\n{}", pull.stderr);
}

#[test]
fn containerd_pulls_the_amd64_image_through_the_mirror_in_hosts_toml() {
    let dir = Scratch::new("containerd-mirror");
    let registry = Registry::start(&dir.0);
    let amd64 = Image::new("amd64");
    registry.push("amd64-only", "1", &[&amd64]);
    let mirror = Mirror::start(&dir.0, &registry, true);
    let containerd = Containerd::start(&dir.0);
    let pull = containerd.pull_arm64(&registry, Some(&mirror), "amd64-only", "1");
    assert!(pull.ok, "pull through the mirror failed:\n{}\nmirror log:\n{}", pull.stderr, mirror.log());
    let reference = format!("{}/amd64-only:1", registry.host());
    assert_eq!(containerd.image(&reference), (amd64.manifest.digest(), "linux/amd64".to_string()));
    assert!(containerd.content(&amd64.manifest.digest()) == Some(amd64.manifest.bytes.clone()));
    assert!(containerd.content(&amd64.layer.digest()) == Some(amd64.layer.bytes.clone()), "the amd64 layer, byte for byte");
    assert!(mirror.substituted(&amd64), "the substitution is logged, got:\n{}", mirror.log());
}

#[test]
fn containerd_pull_of_an_index_with_an_arm64_entry_keeps_its_digest() {
    let dir = Scratch::new("containerd-multi");
    let registry = Registry::start(&dir.0);
    let (amd64, arm64) = (Image::new("amd64"), Image::new("arm64"));
    let index = registry.push("multi", "1", &[&amd64, &arm64]);
    let mirror = Mirror::start(&dir.0, &registry, true);
    let containerd = Containerd::start(&dir.0);
    let pull = containerd.pull_arm64(&registry, Some(&mirror), "multi", "1");
    assert!(pull.ok, "pull through the mirror failed:\n{}\nmirror log:\n{}", pull.stderr, mirror.log());
    let (digest, platforms) = containerd.image(&format!("{}/multi:1", registry.host()));
    assert_eq!(digest, index.digest());
    assert!(platforms.contains("linux/arm64"), "platforms {platforms}");
    assert!(containerd.content(&arm64.layer.digest()) == Some(arm64.layer.bytes.clone()), "the arm64 layer, byte for byte");
    assert!(containerd.content(&amd64.layer.digest()).is_none(), "the amd64 layer was pulled too");
    assert!(!mirror.log().contains("serving linux/amd64"));
}
