//! The processes a test starts: a registry, `transit mirror` in front of
//! it, the clients. Each is stopped, and each test's directory removed,
//! when the test ends, passing or not.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use transit_tests::transit::Transit;
use transit_tests::work_dir;

use crate::images::{index_of, Blob, Image};

const REGISTRY: &str = "/usr/bin/docker-registry";
const STARTUP: Duration = Duration::from_secs(60);

/// As the kernel prints an x86_64 registration (magic and mask of the
/// x86_64 ELF header; see binfmt/src/mirror/emulation.rs).
const X86_64_ENTRY: &str = "enabled\ninterpreter /usr/bin/transit\nflags: POCF\noffset 0\n\
    magic 7f454c4602010100000000000000000002003e00\nmask fffffffffffefe00fffffffffffffffffeffffff\n";

/// A child process killed and reaped when dropped.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A test's directory, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(test: &str) -> Scratch {
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

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free loopback port").port()
}

pub fn wait_until<T>(what: &str, deadline: Duration, mut ready: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = ready() {
            return value;
        }
        assert!(start.elapsed() < deadline, "{what} not ready after {deadline:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What a client command did.
pub struct Ran {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `command` to completion within `limit`.
pub fn run(mut command: Command, limit: Duration) -> Ran {
    let described = format!("{command:?}");
    let mut child = Running(
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{described}: {e}")),
    );
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.unwrap().read_to_string(&mut text);
            text
        })
    };
    let stdout = read(child.0.stdout.take().map(|p| Box::new(p) as _));
    let stderr = read(child.0.stderr.take().map(|p| Box::new(p) as _));
    let status = wait_until(&described, limit, || child.0.try_wait().unwrap());
    Ran { ok: status.success(), stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() }
}

pub struct Registry {
    port: u16,
    _process: Running,
}

impl Registry {
    pub fn start(dir: &Path) -> Registry {
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

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn host(&self) -> String {
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
    pub fn push(&self, repository: &str, tag: &str, images: &[&Image]) -> Blob {
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

pub struct Mirror {
    pub url: String,
    log: PathBuf,
    _process: Running,
}

impl Mirror {
    /// `transit mirror` in front of `registry`, also for requests naming
    /// it with containerd's `ns=`; binfmt_misc is a stand-in holding an
    /// x86_64 entry if `emulated`.
    pub fn start(dir: &Path, registry: &Registry, emulated: bool) -> Mirror {
        let config = dir.join("mirror.toml");
        std::fs::write(&config, format!("[registries.\"{}\"]\nurl = \"{}\"\n", registry.host(), registry.url())).unwrap();
        Mirror::start_with(dir, &registry.url(), emulated, &["--config", config.to_str().unwrap()])
    }

    pub fn start_with(dir: &Path, upstream: &str, emulated: bool, extra: &[&str]) -> Mirror {
        let binfmt = dir.join(if emulated { "binfmt-with-x86_64" } else { "binfmt-without" });
        std::fs::create_dir_all(&binfmt).unwrap();
        std::fs::write(binfmt.join("status"), "enabled\n").unwrap();
        if emulated {
            std::fs::write(binfmt.join("transit-x86_64"), X86_64_ENTRY).unwrap();
        }
        let transit = Transit::from_env().unwrap_or_else(|e| panic!("{e}"));
        let log = dir.join("mirror.log");
        let mut command = transit.bare_command();
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
            // Whole lines only: stderr is unbuffered, a line may come in pieces.
            let line = text.split_inclusive('\n').filter(|line| line.ends_with('\n')).find_map(|line| line.strip_prefix("transit mirror: listening on "))?;
            Some(line.trim().to_string())
        });
        Mirror { url, log, _process: process }
    }

    pub fn host(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The mirror logged that it served `image`'s manifest for an index.
    pub fn substituted(&self, image: &Image) -> bool {
        let log = self.log();
        log.contains("serving linux/amd64") && log.contains(&image.manifest.digest())
    }
}
