//! `transit mirror` between a real registry and a real arm64 client.
//!
//! Each test starts Debian's `docker-registry` (Distribution 2.8) on
//! loopback with its own storage, pushes images built here (one tar layer
//! holding a text file, a config, a manifest per platform, an index) over
//! the registry API, starts `transit mirror` (the aarch64 binary, under
//! `TRANSIT_RUNNER`) in front of it, and pulls as an arm64 client would:
//! `skopeo --override-arch arm64 --override-os linux copy`.
//! binfmt_misc is a stand-in directory (`--binfmt-misc`): with or without
//! an x86_64 entry. Everything stops and is removed when a test ends.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sha2::Digest as _;
use transit_tests::transit::Transit;
use transit_tests::work_dir;

const REGISTRY: &str = "/usr/bin/docker-registry";
const SKOPEO: &str = "/usr/bin/skopeo";
const STARTUP: Duration = Duration::from_secs(60);
const PULL: Duration = Duration::from_secs(120);
/// containers/image's TLS handshake timeout: what a pull through a mirror
/// that left its TLS probe unanswered took at least.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";

/// containers/image's own words when an index has no entry for the platform.
const NO_ARM64: &str = "no image found in image index for architecture arm64";

/// As the kernel prints an x86_64 registration (magic and mask of the
/// x86_64 ELF header; see binfmt/src/mirror/emulation.rs).
const X86_64_ENTRY: &str = "enabled\ninterpreter /usr/bin/transit\nflags: POCF\noffset 0\n\
    magic 7f454c4602010100000000000000000002003e00\nmask fffffffffffefe00fffffffffffffffffeffffff\n";

fn sha256(bytes: &[u8]) -> String {
    let hash = sha2::Sha256::digest(bytes);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

// ---- images ---------------------------------------------------------------

/// A one-file tar archive (POSIX ustar), all metadata fixed.
fn tar_with(name: &str, contents: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name.as_bytes());
    let octal = |field: &mut [u8], value: u64| {
        let text = format!("{value:0width$o}", width = field.len() - 1);
        field[..text.len()].copy_from_slice(text.as_bytes());
    };
    octal(&mut header[100..108], 0o644);
    octal(&mut header[108..116], 0);
    octal(&mut header[116..124], 0);
    octal(&mut header[124..136], contents.len() as u64);
    octal(&mut header[136..148], 0);
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    // The checksum is computed with its own field as spaces.
    header[148..156].fill(b' ');
    let sum: u64 = header.iter().map(|&b| b as u64).sum();
    let text = format!("{sum:06o}\0 ");
    header[148..156].copy_from_slice(text.as_bytes());
    let mut tar = header.to_vec();
    tar.extend_from_slice(contents);
    tar.resize(tar.len().div_ceil(512) * 512 + 1024, 0);
    tar
}

struct Blob {
    media_type: &'static str,
    bytes: Vec<u8>,
}

impl Blob {
    fn digest(&self) -> String {
        sha256(&self.bytes)
    }

    fn descriptor(&self) -> String {
        format!(r#"{{"mediaType":"{}","digest":"{}","size":{}}}"#, self.media_type, self.digest(), self.bytes.len())
    }
}

/// One platform's image: its layer, config and manifest.
struct Image {
    architecture: &'static str,
    layer: Blob,
    config: Blob,
    manifest: Blob,
}

impl Image {
    fn new(architecture: &'static str) -> Image {
        let layer = Blob { media_type: OCI_LAYER, bytes: tar_with("hello", format!("built for {architecture}\n").as_bytes()) };
        let config = Blob {
            media_type: OCI_CONFIG,
            bytes: format!(
                r#"{{"architecture":"{architecture}","os":"linux","config":{{"Cmd":["/hello"]}},"rootfs":{{"type":"layers","diff_ids":["{}"]}}}}"#,
                layer.digest()
            )
            .into_bytes(),
        };
        let manifest = Blob {
            media_type: OCI_MANIFEST,
            bytes: format!(
                r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{},"layers":[{}]}}"#,
                config.descriptor(),
                layer.descriptor()
            )
            .into_bytes(),
        };
        Image { architecture, layer, config, manifest }
    }
}

fn index_of(images: &[&Image]) -> Blob {
    let entries: Vec<String> = images
        .iter()
        .map(|image| {
            let descriptor = image.manifest.descriptor();
            format!(r#"{},"platform":{{"architecture":"{}","os":"linux"}}}}"#, &descriptor[..descriptor.len() - 1], image.architecture)
        })
        .collect();
    Blob {
        media_type: OCI_INDEX,
        bytes: format!(r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{}]}}"#, entries.join(",")).into_bytes(),
    }
}

// ---- processes --------------------------------------------------------------

/// A child process killed and reaped when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A test's directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = work_dir("mirror-suite").join(test);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("can create the test directory");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free loopback port").port()
}

fn wait_until<T>(what: &str, deadline: Duration, mut ready: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = ready() {
            return value;
        }
        assert!(start.elapsed() < deadline, "{what} not ready after {deadline:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

struct Registry {
    port: u16,
    _process: Running,
}

impl Registry {
    fn start(dir: &Path) -> Registry {
        let port = free_port();
        let config = dir.join("registry.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
                 http:\n  addr: 127.0.0.1:{port}\n",
                dir.join("registry-storage").display()
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.join("registry.log")).unwrap();
        let process = Command::new(REGISTRY)
            .args(["serve".as_ref(), config.as_os_str()])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {REGISTRY} (package docker-registry; `cargo xtask test` installs it): {e}"));
        let registry = Registry { port, _process: Running(process) };
        wait_until("the registry", STARTUP, || {
            ureq::get(&format!("{}/v2/", registry.url())).call().ok().filter(|r| r.status() == 200)
        });
        registry
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn push_blob(&self, repository: &str, blob: &Blob) {
        // Distribution 2.8 opens an upload on POST and takes the whole
        // body with the digest on PUT to where it says (a monolithic upload).
        let start = ureq::post(&format!("{}/v2/{repository}/blobs/uploads/", self.url())).call().expect("upload start");
        assert_eq!(start.status(), 202);
        let location = start.header("location").expect("an upload location").to_string();
        let location = if location.starts_with('/') { format!("{}{location}", self.url()) } else { location };
        let separator = if location.contains('?') { '&' } else { '?' };
        let url = format!("{location}{separator}digest={}", blob.digest());
        let response = ureq::put(&url).set("Content-Type", "application/octet-stream").send_bytes(&blob.bytes).expect("blob upload");
        assert_eq!(response.status(), 201, "blob upload of {}", blob.digest());
    }

    fn push_manifest(&self, repository: &str, reference: &str, manifest: &Blob) {
        let url = format!("{}/v2/{repository}/manifests/{reference}", self.url());
        let response = ureq::put(&url).set("Content-Type", manifest.media_type).send_bytes(&manifest.bytes).expect("manifest upload");
        assert_eq!(response.status(), 201);
        assert_eq!(response.header("docker-content-digest"), Some(manifest.digest().as_str()));
    }

    /// Pushes the images and, under `tag`, their index.
    fn push(&self, repository: &str, tag: &str, images: &[&Image]) -> Blob {
        for image in images {
            self.push_blob(repository, &image.layer);
            self.push_blob(repository, &image.config);
            self.push_manifest(repository, &image.manifest.digest(), &image.manifest);
        }
        let index = index_of(images);
        self.push_manifest(repository, tag, &index);
        index
    }
}

struct Mirror {
    url: String,
    log: PathBuf,
    _process: Running,
}

impl Mirror {
    /// `transit mirror` in front of `registry`; binfmt_misc is a stand-in
    /// holding an x86_64 entry if `emulated`.
    fn start(dir: &Path, registry: &Registry, emulated: bool) -> Mirror {
        Mirror::start_with(dir, &registry.url(), emulated, &[])
    }

    fn start_with(dir: &Path, upstream: &str, emulated: bool, extra: &[&str]) -> Mirror {
        let binfmt = dir.join(if emulated { "binfmt-with-x86_64" } else { "binfmt-without" });
        std::fs::create_dir_all(&binfmt).unwrap();
        std::fs::write(binfmt.join("status"), "enabled\n").unwrap();
        if emulated {
            std::fs::write(binfmt.join("transit-x86_64"), X86_64_ENTRY).unwrap();
        }
        let transit = Transit::from_env().unwrap_or_else(|e| panic!("{e}"));
        let log = dir.join("mirror.log");
        let mut command = match transit.runner.split_first() {
            Some((runner, args)) => {
                let mut command = Command::new(runner);
                command.args(args).arg(&transit.binary);
                command
            }
            None => Command::new(&transit.binary),
        };
        command
            .arg("mirror")
            .args(["--listen", "127.0.0.1:0", "--platform", "linux/arm64", "--upstream", upstream])
            .arg("--binfmt-misc")
            .arg(&binfmt)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        let mut process = Running(command.spawn().expect("can start transit mirror"));
        let url = wait_until("transit mirror", STARTUP, || {
            let text = std::fs::read_to_string(&log).ok()?;
            if let Some(status) = process.0.try_wait().unwrap() {
                panic!("transit mirror ended ({status}) before listening:\n{text}");
            }
            let line = text.lines().find_map(|line| line.strip_prefix("transit mirror: listening on "))?;
            Some(line.trim().to_string())
        });
        Mirror { url, log, _process: process }
    }

    fn host(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

// ---- the client --------------------------------------------------------------

struct Pull {
    ok: bool,
    stderr: String,
    /// The copied image: skopeo's `dir:` layout.
    layout: PathBuf,
}

/// `skopeo copy` of `repository:tag` from `registry` (or through `mirror`)
/// as an arm64 client, into a directory. The mirror is named in the
/// reference, as Docker's registry-mirrors and containerd's hosts.toml name
/// it: this skopeo (1.9) reads no registries.conf but /etc's.
fn pull_arm64(dir: &Path, registry: &Registry, mirror: Option<&Mirror>, repository: &str, tag: &str) -> Pull {
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
    let (ok, stderr) = run(command, PULL);
    // skopeo tries TLS first (--src-tls-verify=false): the mirror must
    // refuse it at once, not leave it to time out.
    assert!(start.elapsed() < TLS_HANDSHAKE_TIMEOUT, "the pull took {:?}:\n{stderr}", start.elapsed());
    Pull { ok, stderr, layout }
}

/// Runs `command` to completion within `limit`; its success and stderr.
fn run(mut command: Command, limit: Duration) -> (bool, String) {
    let described = format!("{command:?}");
    let mut child = Running(
        command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap_or_else(|e| panic!("{described}: {e}")),
    );
    let mut stderr = child.0.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let status = wait_until(&described, limit, || child.0.try_wait().unwrap());
    (status.success(), reader.join().unwrap())
}

/// A file of skopeo's `dir:` layout: a blob is named by its digest's hex.
fn copied(layout: &Path, digest_or_name: &str) -> Vec<u8> {
    let path = layout.join(digest_or_name.trim_start_matches("sha256:"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// ---- the specification -------------------------------------------------------

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
    let log = mirror.log();
    assert!(
        log.contains("serving linux/amd64") && log.contains(&amd64.manifest.digest()),
        "the substitution is logged, got:\n{log}"
    );
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
