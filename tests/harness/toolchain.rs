//! Compiling test programs into x86_64 executables, one per variant (libc x
//! optimisation level x linking x -march). Builds are cached under
//! `target/transit-tests/bin/VARIANT/HASH/NAME`, where the hash covers the
//! source, the flags and the compiler's version; a libc upgrade is not seen,
//! so remove `target/transit-tests` after one.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::catalog::{Language, Program};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Variant {
    /// `LIBC-OPT`, used in test names, reports and paths.
    pub name: &'static str,
    /// The C compiler, or `None` when this variant builds no C programs.
    pub cc: Option<&'static str>,
    /// The C++ compiler, or `None` when this variant builds no C++ programs.
    pub cxx: Option<&'static str>,
    pub flags: &'static [&'static str],
    /// The x86_64 root filesystem Transit needs (`-L`) for a dynamically
    /// linked program's loader and libraries; `None` to use the host's.
    pub rootfs: Option<&'static str>,
    /// False for a variant that cannot pass yet: its runs are listed as
    /// ignored, and `cargo test --test programs -- --include-ignored` runs them.
    pub runs_by_default: bool,
}

impl Variant {
    /// The compiler for `language`, or `None` when this variant has none.
    pub fn compiler(&self, language: Language) -> Option<&'static str> {
        match language {
            Language::C => self.cc,
            Language::Cxx => self.cxx,
        }
    }
}

/// Flags every variant shares: -g so a failing build can be read with
/// objdump -S. Each variant says how it is linked (-static, or -static-pie
/// for the ET_DYN loader path; the dynamic one for C++'s shared libstdc++
/// and libgcc_s unwinder). The default -march (baseline x86-64) is kept on
/// purpose except in the x86-64-v2 variant (the default CPU): programs must not depend on
/// instructions a CPU may lack.
const COMMON_FLAGS: &[&str] = &["-g", "-Wall"];
/// Libraries, which must follow the source on the command line.
const LIBRARIES: &[&str] = &["-lm"];

/// The x86-64-v2 variant (glibc, static, -O2: one build is enough to let the
/// compiler pick POPCNT, SSE3, SSSE3, SSE4.1 and SSE4.2 in every program; the
/// other variants cover libc and optimisation differences).
const X86_64_V2_RUNS_BY_DEFAULT: bool = true;
/// What the default CPU presents: x86-64-v2 and v3's scalar extensions
/// (tzcnt, andn, shlx, rorx, movbe... wherever the compiler likes them).
const X86_64_V2_FLAGS: &[&str] = &["-static", "-O2", "-march=x86-64-v2", "-mbmi", "-mbmi2", "-mlzcnt", "-mmovbe"];
/// The x86-64-v3 variant (the default CPU): -O3 vectorises loops with AVX2.
/// Contraction into FMA stays off: one expected output serves every
/// variant, and a fused multiply-add rounds differently (avx2_intrinsics
/// and the difftest cover FMA).
const X86_64_V3_FLAGS: &[&str] = &["-static", "-O3", "-march=x86-64-v3", "-ffp-contract=off"];

/// On x86_64 hosts: the native compilers, glibc at two optimisation levels
/// (-O0 keeps every load and store, -O2 brings vector code and tail calls)
/// and musl, whose startup code, stdio and string routines differ from
/// glibc's. Debian's musl-tools has no C++ compiler or library (no
/// musl-g++, no libstdc++ built against musl), so C++ programs have no musl
/// variant. C++ programs also run dynamically linked: the shared libstdc++
/// and libgcc_s unwinder are what most C++ programs use.
const X86_64_HOST_VARIANTS: &[Variant] = &[
    Variant {
        name: "glibc-O0",
        cc: Some("gcc"),
        cxx: Some("g++"),
        flags: &["-static", "-O0"],
        rootfs: None,
        runs_by_default: true,
    },
    Variant {
        name: "glibc-O2",
        cc: Some("gcc"),
        cxx: Some("g++"),
        flags: &["-static", "-O2"],
        rootfs: None,
        runs_by_default: true,
    },
    Variant {
        name: "musl-O2",
        cc: Some("musl-gcc"),
        cxx: None,
        flags: &["-static", "-O2"],
        rootfs: None,
        runs_by_default: true,
    },
    Variant {
        name: "glibc-pie-O2",
        cc: Some("gcc"),
        cxx: Some("g++"),
        flags: &["-static-pie", "-O2"],
        rootfs: None,
        runs_by_default: true,
    },
    Variant {
        name: "glibc-dynamic-O2",
        cc: None,
        cxx: Some("g++"),
        flags: &["-O2"],
        rootfs: None,
        runs_by_default: true,
    },
    Variant {
        name: "glibc-v2-O2",
        cc: Some("gcc"),
        cxx: Some("g++"),
        flags: X86_64_V2_FLAGS,
        rootfs: None,
        runs_by_default: X86_64_V2_RUNS_BY_DEFAULT,
    },
    Variant {
        name: "glibc-v3-O3",
        cc: Some("gcc"),
        cxx: Some("g++"),
        flags: X86_64_V3_FLAGS,
        rootfs: None,
        runs_by_default: true,
    },
];

/// On other hosts: Debian's x86_64 cross compilers, which bring glibc only;
/// dynamically linked programs find their loader and libraries in the
/// cross packages' tree.
const CROSS_VARIANTS: &[Variant] = &[
    Variant {
        name: "glibc-O0",
        cc: Some("x86_64-linux-gnu-gcc"),
        cxx: Some("x86_64-linux-gnu-g++"),
        flags: &["-static", "-O0"],
        rootfs: None,
        runs_by_default: true,
    },
    Variant {
        name: "glibc-O2",
        cc: Some("x86_64-linux-gnu-gcc"),
        cxx: Some("x86_64-linux-gnu-g++"),
        flags: &["-static", "-O2"],
        rootfs: None,
        runs_by_default: true,
    },
    Variant {
        name: "glibc-pie-O2",
        cc: Some("x86_64-linux-gnu-gcc"),
        cxx: Some("x86_64-linux-gnu-g++"),
        flags: &["-static-pie", "-O2"],
        rootfs: None,
        runs_by_default: true,
    },
    Variant {
        name: "glibc-dynamic-O2",
        cc: None,
        cxx: Some("x86_64-linux-gnu-g++"),
        flags: &["-O2"],
        rootfs: Some("/usr/x86_64-linux-gnu"),
        runs_by_default: true,
    },
    Variant {
        name: "glibc-v2-O2",
        cc: Some("x86_64-linux-gnu-gcc"),
        cxx: Some("x86_64-linux-gnu-g++"),
        flags: X86_64_V2_FLAGS,
        rootfs: None,
        runs_by_default: X86_64_V2_RUNS_BY_DEFAULT,
    },
    Variant {
        name: "glibc-v3-O3",
        cc: Some("x86_64-linux-gnu-gcc"),
        cxx: Some("x86_64-linux-gnu-g++"),
        flags: X86_64_V3_FLAGS,
        rootfs: None,
        runs_by_default: true,
    },
];

/// The headers beside `source` (such as tests/programs/x87_bits.h), which
/// it may include: a change to one must rebuild the program.
fn local_headers(source: &std::path::Path) -> Vec<(PathBuf, Vec<u8>)> {
    let Some(dir) = source.parent() else {
        return Vec::new();
    };
    let mut headers: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "h"))
        .filter_map(|path| Some((path.clone(), std::fs::read(&path).ok()?)))
        .collect();
    headers.sort();
    headers
}

/// The variants of this host, whether or not its compilers are installed.
/// Builds `tests/suites/NAME.c`, a suite's own guest program, in this
/// host's first variant. Call it once per program (behind a `OnceLock`):
/// the build cache is not meant for two builds of one program at once.
pub fn build_suite_program(name: &str) -> PathBuf {
    let toolchain = Toolchain::for_host().unwrap_or_else(|e| panic!("{e}"));
    let program = Program {
        name: name.into(),
        source: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("suites/{name}.c")),
        language: Language::C,
        args: Vec::new(),
        stdin: Vec::new(),
    };
    let variant = toolchain.variants().next().expect("every host has a variant");
    toolchain.build(&program, variant).unwrap_or_else(|e| panic!("{e}"))
}

pub fn host_variants() -> &'static [Variant] {
    if crate::host_runs_x86_64() {
        X86_64_HOST_VARIANTS
    } else {
        CROSS_VARIANTS
    }
}

/// The variants of this host that `program` is built in: those with a
/// compiler for its language.
pub fn variants_of(program: &Program) -> impl Iterator<Item = Variant> {
    let language = program.language;
    host_variants()
        .iter()
        .copied()
        .filter(move |variant| variant.compiler(language).is_some())
}

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
    /// Each compiler the host's variants use, with its `--version`, part of
    /// the cache key.
    compilers: Vec<(&'static str, String)>,
}

impl Toolchain {
    /// The compilers of this host's variants; fails, naming the missing
    /// compiler, when one of them cannot run.
    pub fn for_host() -> Result<Toolchain, String> {
        let mut compilers: Vec<(&'static str, String)> = Vec::new();
        for variant in host_variants() {
            for compiler in [variant.cc, variant.cxx].into_iter().flatten() {
                if !compilers.iter().any(|(known, _)| *known == compiler) {
                    compilers.push((compiler, compiler_version(compiler)?));
                }
            }
        }
        Ok(Toolchain { compilers })
    }

    /// Every variant of this host, C programs' first.
    pub fn variants(&self) -> impl Iterator<Item = Variant> + '_ {
        host_variants().iter().copied()
    }

    /// The executable of `program` built as `variant`, compiling it unless
    /// the cache has it. The error is the compiler's output.
    pub fn build(&self, program: &Program, variant: Variant) -> Result<PathBuf, String> {
        let compiler = variant.compiler(program.language).ok_or_else(|| {
            format!(
                "variant {} builds no {:?} programs such as {}",
                variant.name,
                program.language,
                program.source.display()
            )
        })?;
        let (_, version) = self
            .compilers
            .iter()
            .find(|(known, _)| *known == compiler)
            .expect("the compilers come from this host's variants");
        let source = std::fs::read(&program.source)
            .map_err(|e| format!("cannot read {}: {e}", program.source.display()))?;
        let mut hasher = DefaultHasher::new();
        (&source, variant, COMMON_FLAGS, LIBRARIES, version).hash(&mut hasher);
        local_headers(&program.source).hash(&mut hasher);
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
        let mut command = Command::new(compiler);
        command
            .args(COMMON_FLAGS)
            .args(variant.flags)
            .arg("-o")
            .arg(&partial)
            .arg(&program.source)
            .args(LIBRARIES);
        let output = command
            .output()
            .map_err(|e| format!("cannot run {compiler}: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "{} failed ({}):\n{}",
                compiler,
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
        format!("cannot run the compiler `{compiler}` ({why}); `cargo xtask test` installs the prerequisites")
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
