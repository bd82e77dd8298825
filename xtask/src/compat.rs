//! `cargo xtask compat [NAME...]`: 89 real Debian amd64 programs (interpreters,
//! compilers, databases, codecs, VCS, crypto tools; tests/compat/cases.txt)
//! run natively and under Transit, stdout and exit status compared
//! (tests/compat/sweep.sh). Too slow for CI (about 15 minutes under
//! qemu-user); its result goes in the closing notes.

use anyhow::{bail, Result};

use crate::build::build_transit;
use crate::host::{Arch, Package};
use crate::{setup, step};

/// What the cases run, beyond the packages the test suites install.
const PROGRAMS: &[Package] = &[
    Package { name: "ruby", provides: "/usr/bin/ruby" },
    Package { name: "php-cli", provides: "/usr/bin/php" },
    Package { name: "redis-server", provides: "/usr/bin/redis-server" },
    Package { name: "lua5.4", provides: "/usr/bin/lua5.4" },
    Package { name: "tcl", provides: "/usr/bin/tclsh" },
    Package { name: "gawk", provides: "/usr/bin/gawk" },
    Package { name: "bc", provides: "/usr/bin/bc" },
    Package { name: "dc", provides: "/usr/bin/dc" },
    Package { name: "jq", provides: "/usr/bin/jq" },
    Package { name: "brotli", provides: "/usr/bin/brotli" },
    Package { name: "zstd", provides: "/usr/bin/zstd" },
    Package { name: "lz4", provides: "/usr/bin/lz4" },
    Package { name: "p7zip-full", provides: "/usr/bin/7z" },
    Package { name: "rsync", provides: "/usr/bin/rsync" },
    Package { name: "cmake", provides: "/usr/bin/cmake" },
    Package { name: "ninja-build", provides: "/usr/bin/ninja" },
    Package { name: "make", provides: "/usr/bin/make" },
    Package { name: "busybox", provides: "/bin/busybox" },
    Package { name: "zsh", provides: "/bin/zsh" },
    Package { name: "git", provides: "/usr/bin/git" },
    Package { name: "openssl", provides: "/usr/bin/openssl" },
    Package { name: "gpg", provides: "/usr/bin/gpg" },
    Package { name: "openssh-client", provides: "/usr/bin/ssh-keygen" },
    Package { name: "file", provides: "/usr/bin/file" },
    Package { name: "vim", provides: "/usr/bin/vim" },
    Package { name: "ffmpeg", provides: "/usr/bin/ffmpeg" },
    Package { name: "x264", provides: "/usr/bin/x264" },
    Package { name: "imagemagick", provides: "/usr/bin/convert" },
    Package { name: "postgresql", provides: "/usr/lib/postgresql/15/bin/initdb" },
    Package { name: "nginx", provides: "/usr/sbin/nginx" },
    Package { name: "curl", provides: "/usr/bin/curl" },
    Package { name: "memcached", provides: "/usr/bin/memcached" },
    Package { name: "mariadb-server", provides: "/usr/sbin/mariadbd" },
    Package { name: "mariadb-client", provides: "/usr/bin/mariadb" },
    Package { name: "mono-runtime", provides: "/usr/bin/mono" },
    Package { name: "mono-mcs", provides: "/usr/bin/mcs" },
    Package { name: "pypy3", provides: "/usr/bin/pypy3" },
    Package { name: "gfortran", provides: "/usr/bin/gfortran" },
    Package { name: "clang", provides: "/usr/bin/clang" },
    Package { name: "r-base-core", provides: "/usr/bin/Rscript" },
    Package { name: "guile-3.0", provides: "/usr/bin/guile" },
    Package { name: "elixir", provides: "/usr/bin/elixir" },
    Package { name: "ocaml-nox", provides: "/usr/bin/ocamlopt" },
    Package { name: "python3-venv", provides: "/usr/lib/python3.11/ensurepip/__init__.py" },
    Package { name: "libreoffice-writer-nogui", provides: "/usr/lib/libreoffice/program/libswlo.so" },
    Package { name: "unzip", provides: "/usr/bin/unzip" },
    Package { name: "racket", provides: "/usr/bin/racket" },
    Package { name: "swi-prolog-nox", provides: "/usr/bin/swipl" },
    Package { name: "npm", provides: "/usr/bin/npm" },
    Package { name: "sbcl", provides: "/usr/bin/sbcl" },
    Package { name: "emacs-nox", provides: "/usr/bin/emacs-nox" },
    Package { name: "ghostscript", provides: "/usr/bin/gs" },
    Package { name: "tesseract-ocr", provides: "/usr/bin/tesseract" },
    Package { name: "gnuplot-nox", provides: "/usr/bin/gnuplot-nox" },
    Package { name: "graphviz", provides: "/usr/bin/dot" },
    Package { name: "shellcheck", provides: "/usr/bin/shellcheck" },
    Package { name: "pandoc", provides: "/usr/bin/pandoc" },
    Package { name: "octave", provides: "/usr/bin/octave-cli" },
    Package { name: "texlive-binaries", provides: "/usr/bin/pdftex" },
    Package { name: "fp-compiler", provides: "/usr/bin/fpc" },
    Package { name: "gnucobol", provides: "/usr/bin/cobc" },
    Package { name: "qemu-user", provides: "/usr/bin/qemu-x86_64" },
    Package { name: "haproxy", provides: "/usr/sbin/haproxy" },
    Package { name: "hugo", provides: "/usr/bin/hugo" },
    Package { name: "restic", provides: "/usr/bin/restic" },
    Package { name: "rclone", provides: "/usr/bin/rclone" },
    Package { name: "gdc", provides: "/usr/bin/gdc" },
    Package { name: "python3-seccomp", provides: "/usr/lib/python3/dist-packages/seccomp.cpython-311-x86_64-linux-gnu.so" },
];

pub fn run(names: &[String]) -> Result<()> {
    let arch = Arch::of_host()?;
    if arch != Arch::X86_64 {
        bail!("the reference is each program run natively: this needs an x86_64 host");
    }
    setup::ensure_prerequisites(arch)?;
    setup::install_missing_packages(PROGRAMS)?;
    let transit = build_transit()?;
    let runner = arch.aarch64_runner().unwrap_or("");
    step::header("Debian programs, natively and under Transit (tests/compat/cases.txt)");
    let out = crate::target_dir().join("compat");
    let mut sweep = std::process::Command::new(crate::workspace_root().join("tests/compat/sweep.sh"));
    sweep
        .arg(format!("{runner} {}", transit.display()))
        .arg(&out)
        .args(names)
        // Transit is static. With a prefix, qemu-user would look every path
        // Transit opens up under it first (a guest listing / saw its files).
        .env_remove("QEMU_LD_PREFIX");
    if !step::status(&mut sweep)?.success() {
        bail!("some programs behave differently under Transit (outputs in {})", out.display());
    }
    Ok(())
}
