//! Compiling test programs into static x86_64 executables, one per variant
//! (libc x optimisation level). Builds are cached under
//! `target/transit-tests/bin/VARIANT/HASH/NAME`, where the hash covers the
//! source, the flags and the compiler's version; a libc upgrade is not seen,
//! so remove `target/transit-tests` after one.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::catalog::Program;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Variant {
    /// `LIBC-OPT`, used in reports and paths.
    pub name: &'static str,
    pub compiler: &'static str,
    pub flags: &'static [&'static str],
}

/// Flags every variant shares: -g so a failing build can be read with
/// objdump -S. Each variant says how it is static (-static, or -static-pie
/// for the ET_DYN loader path): static programs are Transit's scope. The default
/// -march (baseline x86-64) is kept on purpose: programs must not depend on
/// instructions a CPU may lack.
const COMMON_FLAGS: &[&str] = &["-g", "-Wall"];
/// Libraries, which must follow the source on the command line.
const LIBRARIES: &[&str] = &["-lm"];

/// On x86_64 hosts: the native compilers, glibc at two optimisation levels
/// (-O0 keeps every load and store, -O2 brings vector code and tail calls)
/// and musl, whose startup code, stdio and string routines differ from
/// glibc's.
const X86_64_HOST_VARIANTS: &[Variant] = &[
    Variant {
        name: "glibc-O0",
        compiler: "gcc",
        flags: &["-static", "-O0"],
    },
    Variant {
        name: "glibc-O2",
        compiler: "gcc",
        flags: &["-static", "-O2"],
    },
    Variant {
        name: "musl-O2",
        compiler: "musl-gcc",
        flags: &["-static", "-O2"],
    },
    Variant {
        name: "glibc-pie-O2",
        compiler: "gcc",
        flags: &["-static-pie", "-O2"],
    },
];

/// On other hosts: Debian's x86_64 cross compiler, which brings glibc only.
const CROSS_VARIANTS: &[Variant] = &[
    Variant {
        name: "glibc-O0",
        compiler: "x86_64-linux-gnu-gcc",
        flags: &["-static", "-O0"],
    },
    Variant {
        name: "glibc-O2",
        compiler: "x86_64-linux-gnu-gcc",
        flags: &["-static", "-O2"],
    },
    Variant {
        name: "glibc-pie-O2",
        compiler: "x86_64-linux-gnu-gcc",
        flags: &["-static-pie", "-O2"],
    },
];

/// Every variant name on any host, for checking names written by hand.
pub fn all_variant_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = X86_64_HOST_VARIANTS
        .iter()
        .chain(CROSS_VARIANTS)
        .map(|variant| variant.name)
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

pub struct Toolchain {
    /// Each variant with its compiler's `--version`, part of the cache key.
    variants: Vec<(Variant, String)>,
}

impl Toolchain {
    /// The variants this host can build; fails, naming the missing compiler,
    /// when one of them cannot run.
    pub fn for_host() -> Result<Toolchain, String> {
        let variants = if crate::host_runs_x86_64() {
            X86_64_HOST_VARIANTS
        } else {
            CROSS_VARIANTS
        };
        let variants = variants
            .iter()
            .map(|variant| Ok((*variant, compiler_version(variant.compiler)?)))
            .collect::<Result<_, String>>()?;
        Ok(Toolchain { variants })
    }

    pub fn variants(&self) -> impl Iterator<Item = Variant> + '_ {
        self.variants.iter().map(|(variant, _)| *variant)
    }

    /// The executable of `program` built as `variant`, compiling it unless
    /// the cache has it. The error is the compiler's output.
    pub fn build(&self, program: &Program, variant: Variant) -> Result<PathBuf, String> {
        let (_, version) = self
            .variants
            .iter()
            .find(|(known, _)| *known == variant)
            .expect("variants come from this toolchain");
        let source = std::fs::read(&program.source)
            .map_err(|e| format!("cannot read {}: {e}", program.source.display()))?;
        let mut hasher = DefaultHasher::new();
        (&source, variant, COMMON_FLAGS, LIBRARIES, version).hash(&mut hasher);
        let dir = crate::work_dir("bin")
            .join(variant.name)
            .join(format!("{:016x}", hasher.finish()));
        // Named after the program, so argv[0]'s last component is stable.
        let executable = dir.join(&program.name);
        if executable.is_file() {
            return Ok(executable);
        }
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        // Unique per build, not per process: the tests of one suite run on
        // several threads and may build the same program at once.
        static BUILDS: AtomicU64 = AtomicU64::new(0);
        let partial = dir.join(format!(
            "{}.partial-{}-{}",
            program.name,
            std::process::id(),
            BUILDS.fetch_add(1, Ordering::Relaxed)
        ));
        let mut command = Command::new(variant.compiler);
        command
            .args(COMMON_FLAGS)
            .args(variant.flags)
            .arg("-o")
            .arg(&partial)
            .arg(&program.source)
            .args(LIBRARIES);
        let output = command
            .output()
            .map_err(|e| format!("cannot run {}: {e}", variant.compiler))?;
        if !output.status.success() {
            return Err(format!(
                "{} failed ({}):\n{}",
                variant.compiler,
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        std::fs::rename(&partial, &executable)
            .map_err(|e| format!("cannot move the build to {}: {e}", executable.display()))?;
        Ok(executable)
    }
}

fn compiler_version(compiler: &str) -> Result<String, String> {
    let missing = |why: String| {
        format!("cannot run the C compiler `{compiler}` ({why}); `cargo xtask test` installs the prerequisites")
    };
    let output = Command::new(compiler)
        .arg("--version")
        .output()
        .map_err(|e| missing(e.to_string()))?;
    if !output.status.success() {
        return Err(missing(output.status.to_string()));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
