//! The persistent code cache (issue 14): translations of a program's and
//! its libraries' code, kept on disk so that the next process running
//! them installs them instead of translating (a process's start-up is
//! nearly all translation).
//!
//! Each file-backed executable image (the program and its interpreter as
//! the loader places them; every library the guest maps executable) is
//! registered with the translator (`cache::image`) together with the
//! blocks saved for it, found under a key naming the file (device, inode,
//! size, mtime, build-id), this Transit binary, and everything else that
//! decides the code (`Translator::code_fingerprint`: CPU level, host
//! features, memory order, tuning). Saved blocks are position-independent,
//! so a library that ASLR loads elsewhere reuses them. When the process
//! ends or executes another program, each image's blocks (old and new) are
//! written back.
//!
//! Where: `$TRANSIT_CACHE_DIR`, else `$XDG_CACHE_HOME/transit`, else
//! `~/.cache/transit`; blocks missing there are looked for in the
//! system-wide cache (`$TRANSIT_SYSTEM_CACHE_DIR`, else
//! /var/cache/transit), which only `transit cache warm --system` fills
//! (for images built with their programs' translations). `TRANSIT_CACHE=off` turns it off; so does secure
//! mode (no user-writable cache is read or written for a setuid program).
//! Only files of the user running Transit that nobody else can write are
//! read (`file`).

mod elf_identity;
mod file;

use elf_identity::{ElfFile, FileIdentity};
use std::borrow::Cow;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use transit_translator::cache::image::SavedBlocks;
use transit_translator::emit::MemoryOrder;
use transit_translator::Translator;

/// The cache's size limit: beyond it, the least recently written files go.
const DEFAULT_LIMIT_BYTES: u64 = 512 << 20;
const SYSTEM_DIR: &str = "/var/cache/transit";
/// Eviction walks the directory at most this often (`evict`): processes
/// that add a few blocks each end often (every child of a shell or a build).
const EVICTION_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);
/// Its modification time is the last eviction walk.
const EVICTION_STAMP: &str = "evicted.stamp";

struct Config {
    dir: PathBuf,
    /// Read-only: root's files there are trusted too.
    system_dir: PathBuf,
    /// This Transit binary: its saved code is its own.
    transit: String,
    limit: u64,
}

/// An image registered with the translator.
struct Registered {
    start: u64,
    end: u64,
    /// The executable segment's range: replacing or unmapping it ends the image.
    text: (u64, u64),
    identity: FileIdentity,
}

static CONFIG: OnceLock<Option<Config>> = OnceLock::new();
static IMAGES: Mutex<Vec<Registered>> = Mutex::new(Vec::new());

/// Holds the registered images until the guard drops: a guest fork holds
/// it, so a forked child never finds it locked by a thread it lacks.
pub fn hold_for_fork() -> Box<dyn std::any::Any> {
    Box::new(IMAGES.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Decides once, before any image is registered, whether and where the
/// cache lives.
pub fn configure(secure: bool) {
    CONFIG.get_or_init(|| {
        if secure {
            return None;
        }
        let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        if env("TRANSIT_CACHE").is_some_and(|v| v == "off" || v == "0") {
            return None;
        }
        // The default places only under a home or cache directory that
        // exists (a HOME of /nonexistent is not created by root).
        let existing = |name: &str| env(name).map(PathBuf::from).filter(|p| p.is_dir());
        let dir = env("TRANSIT_CACHE_DIR").map(PathBuf::from).or_else(|| {
            existing("XDG_CACHE_HOME").map(|x| x.join("transit")).or_else(|| existing("HOME").map(|h| h.join(".cache/transit")))
        })?;
        // The binary's path first: under an emulator (qemu-user), stat of
        // /proc/self/exe itself would describe the emulator.
        let exe = std::fs::metadata(std::fs::read_link("/proc/self/exe").ok()?).ok()?;
        let transit = format!("{} {}:{}:{}:{}", env!("CARGO_PKG_VERSION"), exe.dev(), exe.ino(), exe.size(), exe.mtime());
        let limit = env("TRANSIT_CACHE_MAX_MB").and_then(|v| v.to_str()?.parse::<u64>().ok()).map_or(DEFAULT_LIMIT_BYTES, |mb| mb << 20);
        let system_dir = env("TRANSIT_SYSTEM_CACHE_DIR").map_or_else(|| PathBuf::from(SYSTEM_DIR), PathBuf::from);
        Some(Config { dir, system_dir, transit, limit })
    });
}

fn config() -> Option<&'static Config> {
    CONFIG.get().and_then(Option::as_ref)
}

/// The blocks saved under `key`, from the user's cache or else the
/// system-wide one.
fn saved_blocks(config: &Config, key: &str) -> Option<SavedBlocks> {
    let found = file::read(&file::path_for(&config.dir, key), key, false)
        .or_else(|| file::read(&file::path_for(&config.system_dir, key), key, true));
    found.and_then(|b| SavedBlocks::new(Cow::Borrowed(b)))
}

fn key(config: &Config, identity: &FileIdentity, fingerprint: &str) -> String {
    format!("transit {}\n{fingerprint}\n{}", config.transit, identity.describe())
}

/// The loader placed `path`'s image with `bias` (the program, or its interpreter).
pub fn program_loaded(translator: &Translator, path: &Path, bias: u64) {
    if config().is_none() {
        return;
    }
    let Ok(file) = std::fs::File::open(path) else { return };
    let Some(elf) = ElfFile::read(&file) else { return };
    let segments: Vec<(u64, u64)> = elf.executable_segments().collect();
    for (offset, vaddr) in segments {
        register(translator, &elf, bias.wrapping_add(vaddr), u64::MAX, offset);
    }
}

/// The guest mapped `len` bytes of file `fd` at `offset`, executable, at `addr`.
pub fn file_mapped(translator: &Translator, fd: i32, addr: u64, len: u64, offset: u64) {
    if config().is_none() {
        return;
    }
    // SAFETY: borrows the guest's descriptor for the duration of the reads.
    let file = std::mem::ManuallyDrop::new(unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fd) });
    if let Some(elf) = ElfFile::read(&file) {
        register(translator, &elf, addr, len, offset);
    }
}

fn register(translator: &Translator, elf: &ElfFile, addr: u64, len: u64, offset: u64) {
    let Some(config) = config() else { return };
    let Some((start, end)) = elf.image_range(addr, offset) else { return };
    let key = key(config, &elf.identity, &translator.code_fingerprint());
    let saved = saved_blocks(config, &key);
    tracing::debug!(start = format_args!("{start:#x}"), end = format_args!("{end:#x}"), saved = saved.as_ref().map_or(0, SavedBlocks::len), "image registered");
    translator.add_image(start, end, saved);
    let mut images = IMAGES.lock().unwrap_or_else(|e| e.into_inner());
    images.retain(|r| r.end <= start || r.start >= end);
    images.push(Registered { start, end, text: (addr, addr.saturating_add(len).min(end)), identity: elf.identity.clone() });
}

/// Changes the translations' memory order (`Translator::set_memory_order`).
/// Blocks are kept per order: those recorded so far are saved first (the
/// next run goes through the same single-threaded start), and each image
/// then gets the blocks saved for the new order.
pub fn set_memory_order(translator: &mut Translator, order: MemoryOrder) {
    if config().is_none() || translator.memory_order() == order {
        translator.set_memory_order(order);
        return;
    }
    save(translator);
    translator.set_memory_order(order);
    let Some(config) = config() else { return };
    let fingerprint = translator.code_fingerprint();
    let images = IMAGES.lock().unwrap_or_else(|e| e.into_inner());
    for image in images.iter() {
        let key = key(config, &image.identity, &fingerprint);
        translator.add_image(image.start, image.end, saved_blocks(config, &key));
    }
}

/// `[addr, addr + len)` was unmapped or mapped over: images whose code
/// was there are gone.
pub fn unmapped(translator: &Translator, addr: u64, len: u64) {
    if config().is_none() {
        return;
    }
    let end = addr.saturating_add(len);
    let mut images = IMAGES.lock().unwrap_or_else(|e| e.into_inner());
    images.retain(|r| {
        let hit = r.text.0 < end && addr < r.text.1;
        if hit {
            translator.remove_images(r.start, r.start + 1);
        }
        !hit
    });
}

/// Writes back the blocks of every image that has new ones (the process
/// ends, or executes another program).
pub fn save(translator: &Translator) {
    let Some(config) = config() else { return };
    let to_save = translator.images_to_save();
    if to_save.is_empty() {
        return;
    }
    let fingerprint = translator.code_fingerprint();
    let images = IMAGES.lock().unwrap_or_else(|e| e.into_inner());
    let mut written = 0;
    for (start, _, blocks) in to_save {
        let Some(image) = images.iter().find(|r| r.start == start) else { continue };
        let key = key(config, &image.identity, &fingerprint);
        match file::write(&file::path_for(&config.dir, &key), &key, &blocks) {
            Ok(()) => written += blocks.len() as u64,
            Err(e) => tracing::debug!(dir = %config.dir.display(), error = %e, "cannot save translations"),
        }
    }
    if written > 0 {
        evict(&config.dir, config.limit, written);
    }
}

/// `transit cache stats|clear|warm`: what the cache holds, emptying it,
/// filling it.
/// Returns the exit status.
pub fn command(args: &[std::ffi::OsString], secure: bool) -> i32 {
    configure(secure);
    let Some(config) = config() else {
        println!("the code cache is off (TRANSIT_CACHE=off, secure mode, or no HOME or TRANSIT_CACHE_DIR)");
        return 0;
    };
    let files: Vec<(PathBuf, u64)> = std::fs::read_dir(&config.dir)
        .map(|d| d.filter_map(Result::ok).filter_map(|e| Some((e.path(), e.metadata().ok()?.len()))).collect())
        .unwrap_or_default();
    let blocks = |p: &Path| p.extension().is_some_and(|x| x == "blocks");
    match args.first().and_then(|a| a.to_str()) {
        Some("stats") if args.len() == 1 => {
            let kept: Vec<_> = files.iter().filter(|(p, _)| blocks(p)).collect();
            let bytes: u64 = kept.iter().map(|(_, n)| n).sum();
            println!("directory: {}", config.dir.display());
            println!("files: {} ({} bytes; limit {} bytes)", kept.len(), bytes, config.limit);
            0
        }
        Some("clear") if args.len() == 1 => {
            let mut failed = 0;
            let ours = |p: &Path| blocks(p) || p.extension().is_some_and(|x| x == "tmp") || p.file_name().is_some_and(|n| n == EVICTION_STAMP);
            for (path, _) in files.iter().filter(|(p, _)| ours(p)) {
                if let Err(e) = std::fs::remove_file(path) {
                    eprintln!("transit: cannot remove {}: {e}", path.display());
                    failed += 1;
                }
            }
            i32::from(failed > 0)
        }
        Some("warm") if args.len() >= 2 => warm(config, &args[1..]),
        _ => {
            eprintln!("usage: transit cache stats|clear|warm [--system] PROGRAM [ARGS...]");
            2
        }
    }
}

/// `transit cache warm [--system] PROGRAM [ARGS...]`: runs the program
/// under Transit so that its translations are saved, into the system-wide
/// cache with `--system` (at image build time: a container's first start
/// is then warm). Returns the program's exit status.
fn warm(config: &Config, args: &[std::ffi::OsString]) -> i32 {
    let (dir, program) = match args.split_first() {
        Some((flag, rest)) if flag == "--system" => (&config.system_dir, rest),
        _ => (&config.dir, args),
    };
    let Some((program, program_args)) = program.split_first() else {
        eprintln!("usage: transit cache warm [--system] PROGRAM [ARGS...]");
        return 2;
    };
    // The path, not /proc/self/exe itself: under an emulator that is the emulator.
    let transit = std::fs::read_link("/proc/self/exe").unwrap_or_else(|_| PathBuf::from("/proc/self/exe"));
    let status = std::process::Command::new(transit).arg(program).args(program_args).env("TRANSIT_CACHE_DIR", dir).status();
    match status {
        Ok(s) => s.code().unwrap_or(128 + std::os::unix::process::ExitStatusExt::signal(&s).unwrap_or(0)),
        Err(e) => {
            eprintln!("transit: cannot run {}: {e}", program.to_string_lossy());
            1
        }
    }
}

/// Keeps the directory under `limit` bytes: the least recently written
/// files go first, down to three quarters of it. The walk stats every
/// file, so it runs at most once an [`EVICTION_INTERVAL`] (the stamp's
/// modification time says when it last ran), unless this process wrote a
/// sizeable share of the limit: the limit is overshot by at most what
/// small writers add in that time.
fn evict(dir: &Path, limit: u64, written: u64) {
    let stamp = dir.join(EVICTION_STAMP);
    let walked_lately = std::fs::metadata(&stamp).and_then(|m| m.modified()).is_ok_and(|t| t.elapsed().is_ok_and(|age| age < EVICTION_INTERVAL));
    if walked_lately && written < limit / 32 {
        return;
    }
    if let Ok(file) = std::fs::File::options().write(true).create(true).mode(0o600).custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC).open(&stamp) {
        let _ = file.set_modified(std::time::SystemTime::now());
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut files: Vec<(i64, u64, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "blocks"))
        .filter_map(|e| e.metadata().ok().map(|m| (m.mtime(), m.len(), e.path())))
        .collect();
    let mut total: u64 = files.iter().map(|f| f.1).sum();
    if total <= limit {
        return;
    }
    files.sort();
    for (_, size, path) in files {
        if total <= limit / 4 * 3 {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            total -= size;
        }
    }
}
