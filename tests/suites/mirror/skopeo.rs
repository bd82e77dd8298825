//! skopeo (containers/image) as an arm64 client:
//! `skopeo --override-arch arm64 --override-os linux copy`, naming the
//! mirror in the image reference, as Docker's registry-mirrors and
//! containerd's hosts.toml name it: this skopeo (1.9) reads no
//! registries.conf but /etc's (podman.rs tests the registries.conf route).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::images::{Image, OCI_INDEX, OCI_MANIFEST};
use crate::services::{free_port, run, Mirror, Registry, Scratch};
use crate::{NO_ARM64, TLS_HANDSHAKE_TIMEOUT};

const SKOPEO: &str = "/usr/bin/skopeo";
const PULL: Duration = Duration::from_secs(120);

pub struct Pull {
    pub ok: bool,
    pub stderr: String,
    /// The copied image: skopeo's `dir:` layout.
    pub layout: PathBuf,
}

/// `skopeo copy` of `repository:tag` from `registry` (or through `mirror`)
/// as an arm64 client, into a directory.
pub fn pull_arm64(dir: &Path, registry: &Registry, mirror: Option<&Mirror>, repository: &str, tag: &str) -> Pull {
    let (via, host) = match mirror {
        Some(mirror) => ("mirror", mirror.host().to_string()),
        None => ("direct", registry.host()),
    };
    let layout = dir.join(format!("pull-{repository}-{via}"));
    let policy = dir.join("policy.json");
    std::fs::write(&policy, r#"{"default":[{"type":"insecureAcceptAnything"}]}"#).unwrap();
    let mut command = Command::new(SKOPEO);
    command
        .arg("--policy")
        .arg(&policy)
        .args(["--override-arch", "arm64", "--override-os", "linux", "copy", "--src-tls-verify=false"])
        .arg(format!("docker://{host}/{repository}:{tag}"))
        // dir: keeps blobs as they came (an oci: layout would compress them).
        .arg(format!("dir:{}", layout.display()));
    let start = Instant::now();
    let ran = run(command, PULL);
    let (ok, stderr) = (ran.ok, ran.stderr);
    // skopeo tries TLS first (--src-tls-verify=false): the mirror must
    // refuse it at once, not leave it to time out.
    assert!(start.elapsed() < TLS_HANDSHAKE_TIMEOUT, "the pull took {:?}:\n{stderr}", start.elapsed());
    Pull { ok, stderr, layout }
}

/// A file of skopeo's `dir:` layout: a blob is named by its digest's hex.
pub fn copied(layout: &Path, digest_or_name: &str) -> Vec<u8> {
    let path = layout.join(digest_or_name.trim_start_matches("sha256:"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn arm64_pull_of_an_amd64_only_index_fails_without_the_mirror() {
    let dir = Scratch::new("direct");
    let registry = Registry::start(&dir.0);
    let amd64 = Image::new("amd64");
    registry.push("amd64-only", "1", &[&amd64]);
    let pull = pull_arm64(&dir.0, &registry, None, "amd64-only", "1");
    assert!(!pull.ok, "skopeo pulled an amd64-only index as arm64 straight from the registry");
    assert!(pull.stderr.contains(NO_ARM64), "skopeo's own error, got:\n{}", pull.stderr);
}

#[test]
fn the_mirror_serves_the_amd64_image_when_x86_64_is_emulated() {
    let dir = Scratch::new("substitute");
    let registry = Registry::start(&dir.0);
    let amd64 = Image::new("amd64");
    registry.push("amd64-only", "1", &[&amd64]);
    let mirror = Mirror::start(&dir.0, &registry, true);
    let pull = pull_arm64(&dir.0, &registry, Some(&mirror), "amd64-only", "1");
    assert!(pull.ok, "pull through the mirror failed:\n{}\nmirror log:\n{}", pull.stderr, mirror.log());
    assert!(copied(&pull.layout, "manifest.json") == amd64.manifest.bytes, "the manifest is not the amd64 image's");
    assert!(copied(&pull.layout, &amd64.layer.digest()) == amd64.layer.bytes, "the layer is not the amd64 image's");
    assert!(copied(&pull.layout, &amd64.config.digest()) == amd64.config.bytes);
    assert!(mirror.substituted(&amd64), "the substitution is logged, got:\n{}", mirror.log());
}

#[test]
fn the_mirror_passes_an_index_with_an_arm64_entry_through() {
    let dir = Scratch::new("multi");
    let registry = Registry::start(&dir.0);
    let (amd64, arm64) = (Image::new("amd64"), Image::new("arm64"));
    let index = registry.push("multi", "1", &[&amd64, &arm64]);
    let mirror = Mirror::start(&dir.0, &registry, true);

    // The index's own bytes and digest, for GET and for HEAD.
    let url = format!("{}/v2/multi/manifests/1", mirror.url);
    let accept = format!("{OCI_INDEX}, {OCI_MANIFEST}");
    let get = ureq::get(&url).set("Accept", &accept).call().expect("GET through the mirror");
    assert_eq!(get.header("content-type"), Some(OCI_INDEX));
    assert_eq!(get.header("docker-content-digest"), Some(index.digest().as_str()));
    let mut body = Vec::new();
    get.into_reader().read_to_end(&mut body).unwrap();
    assert!(body == index.bytes, "the index was rewritten");
    let head = ureq::head(&url).set("Accept", &accept).call().expect("HEAD through the mirror");
    assert_eq!(head.header("docker-content-digest"), Some(index.digest().as_str()));
    assert_eq!(head.header("content-length"), Some(index.bytes.len().to_string().as_str()));

    let pull = pull_arm64(&dir.0, &registry, Some(&mirror), "multi", "1");
    assert!(pull.ok, "pull through the mirror failed:\n{}", pull.stderr);
    assert!(copied(&pull.layout, "manifest.json") == arm64.manifest.bytes);
    assert!(copied(&pull.layout, &arm64.layer.digest()) == arm64.layer.bytes);
    assert!(!mirror.log().contains("serving linux/amd64"));
}

#[test]
fn without_an_x86_64_emulator_the_clients_own_error_stays() {
    let dir = Scratch::new("no-emulator");
    let registry = Registry::start(&dir.0);
    registry.push("amd64-only", "1", &[&Image::new("amd64")]);
    let mirror = Mirror::start(&dir.0, &registry, false);
    let pull = pull_arm64(&dir.0, &registry, Some(&mirror), "amd64-only", "1");
    assert!(!pull.ok);
    assert!(pull.stderr.contains(NO_ARM64), "skopeo's own error, got:\n{}", pull.stderr);
    assert!(mirror.log().contains("no enabled entry"), "the mirror says why:\n{}", mirror.log());
}

/// containerd names the registry a mirror request is for with `?ns=HOST`;
/// the configuration file maps that host to its URL.
#[test]
fn containerds_ns_parameter_selects_the_upstream() {
    let dir = Scratch::new("ns");
    let registry = Registry::start(&dir.0);
    let amd64 = Image::new("amd64");
    registry.push("amd64-only", "1", &[&amd64]);
    let config = dir.0.join("mirror.toml");
    std::fs::write(&config, format!("[registries.\"{}\"]\nurl = \"{}\"\n", registry.host(), registry.url())).unwrap();
    // The default upstream answers nothing: only `ns=` can lead to the registry.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let mirror = Mirror::start_with(&dir.0, &nowhere, true, &["--config", config.to_str().unwrap()]);
    let ns = format!("ns={}", registry.host().replace(':', "%3A"));

    let manifest = ureq::get(&format!("{}/v2/amd64-only/manifests/1?{ns}", mirror.url))
        .set("Accept", &format!("{OCI_INDEX}, {OCI_MANIFEST}"))
        .call()
        .expect("manifest through the mirror");
    assert_eq!(manifest.header("docker-content-digest"), Some(amd64.manifest.digest().as_str()));
    assert_eq!(manifest.header("content-type"), Some(OCI_MANIFEST));
    let blob = ureq::get(&format!("{}/v2/amd64-only/blobs/{}?{ns}", mirror.url, amd64.layer.digest())).call().expect("blob");
    assert_eq!(blob.header("content-length"), Some(amd64.layer.bytes.len().to_string().as_str()));
    let mut bytes = Vec::new();
    blob.into_reader().read_to_end(&mut bytes).unwrap();
    assert!(bytes == amd64.layer.bytes);

    // Without ns= the request goes to the default upstream, which is down.
    match ureq::get(&format!("{}/v2/amd64-only/manifests/1", mirror.url)).call() {
        Err(ureq::Error::Status(502, _)) => {}
        other => panic!("expected 502 from an unreachable upstream, got {other:?}"),
    }
}
