//! What this host is, and therefore what it needs: Transit is an aarch64
//! program translating x86_64 ones, so an x86_64 host needs an aarch64 cross
//! linker and qemu to run Transit, while an arm64 host needs an x86_64 cross
//! compiler to build the guest test programs.

use anyhow::{bail, Result};

/// The Rust target Transit is built for.
pub const TRANSIT_TARGET: &str = "aarch64-unknown-linux-gnu";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Arch {
    X86_64,
    Aarch64,
}

impl Arch {
    /// xtask is compiled for the host, so its own architecture is the host's.
    pub fn of_host() -> Result<Arch> {
        match std::env::consts::ARCH {
            "x86_64" => Ok(Arch::X86_64),
            "aarch64" => Ok(Arch::Aarch64),
            other => bail!(
                "unsupported host architecture {other}: Transit builds on x86_64 and arm64 hosts"
            ),
        }
    }

    /// Debian packages this host needs, each with a file that proves it is
    /// there on hosts without dpkg.
    pub fn packages(self) -> &'static [Package] {
        match self {
            Arch::X86_64 => &[
                Package {
                    name: "gcc",
                    provides: "/usr/bin/gcc",
                },
                Package {
                    name: "libc6-dev",
                    provides: "/usr/include/stdio.h",
                },
                Package {
                    name: "gcc-aarch64-linux-gnu",
                    provides: "/usr/bin/aarch64-linux-gnu-gcc",
                },
                Package {
                    name: "libc6-dev-arm64-cross",
                    provides: "/usr/aarch64-linux-gnu/lib/libc.a",
                },
                Package {
                    name: "qemu-user-static",
                    provides: "/usr/bin/qemu-aarch64-static",
                },
                Package {
                    name: "musl-tools",
                    provides: "/usr/bin/musl-gcc",
                },
                // tests/programs/*.cpp.
                Package {
                    name: "g++",
                    provides: "/usr/bin/g++",
                },
                // tests/suites/gdb.rs: the debugger on Transit's -g stub.
                Package {
                    name: "gdb",
                    provides: "/usr/bin/gdb",
                },
                // Run by tests/suites/debian_programs.rs (with the
                // Priority: required tools every Debian system has).
                Package {
                    name: "python3",
                    provides: "/usr/bin/python3",
                },
                Package {
                    name: "xz-utils",
                    provides: "/usr/bin/xz",
                },
                Package {
                    name: "sqlite3",
                    provides: "/usr/bin/sqlite3",
                },
                // Its numpy test (with the reference BLAS and LAPACK it
                // depends on).
                Package {
                    name: "python3-numpy",
                    provides: "/usr/lib/python3/dist-packages/numpy/__init__.py",
                },
                // Builds tests/programs/go/ for the same suite.
                Package {
                    name: "golang-go",
                    provides: "/usr/bin/go",
                },
                // Run by tests/suites/jit_runtimes.rs. A newer nodejs from
                // another repository also satisfies the check, and is kept.
                Package {
                    name: "openjdk-17-jdk-headless",
                    provides: "/usr/bin/javac",
                },
                Package {
                    name: "erlang-base",
                    provides: "/usr/bin/erl",
                },
                Package {
                    name: "nodejs",
                    provides: "/usr/bin/node",
                },
                Package {
                    name: "luajit",
                    provides: "/usr/bin/luajit",
                },
                // tests/suites/mirror/: a real registry, arm64 clients
                // (skopeo, podman, containerd's ctr) and runc.
                Package {
                    name: "docker-registry",
                    provides: "/usr/bin/docker-registry",
                },
                Package {
                    name: "skopeo",
                    provides: "/usr/bin/skopeo",
                },
                Package {
                    name: "podman",
                    provides: "/usr/bin/podman",
                },
                // Named: podman's dependency would otherwise be met by crun.
                Package {
                    name: "runc",
                    provides: "/usr/sbin/runc",
                },
                Package {
                    name: "containerd",
                    provides: "/usr/bin/containerd",
                },
            ],
            Arch::Aarch64 => &[
                Package {
                    name: "gcc",
                    provides: "/usr/bin/gcc",
                },
                Package {
                    name: "libc6-dev",
                    provides: "/usr/include/stdio.h",
                },
                Package {
                    name: "gcc-x86-64-linux-gnu",
                    provides: "/usr/bin/x86_64-linux-gnu-gcc",
                },
                Package {
                    name: "libc6-dev-amd64-cross",
                    provides: "/usr/x86_64-linux-gnu/lib/libc.a",
                },
                // tests/programs/*.cpp; it brings the amd64 libstdc++ and
                // libgcc_s the dynamically linked C++ programs load.
                Package {
                    name: "g++-x86-64-linux-gnu",
                    provides: "/usr/bin/x86_64-linux-gnu-g++",
                },
                // tests/suites/gdb.rs: a gdb that debugs x86_64 programs.
                Package {
                    name: "gdb-multiarch",
                    provides: "/usr/bin/gdb-multiarch",
                },
            ],
        }
    }

    /// The command that runs an aarch64 program here: none on arm64.
    pub fn aarch64_runner(self) -> Option<&'static str> {
        match self {
            Arch::X86_64 => Some("qemu-aarch64-static"),
            Arch::Aarch64 => None,
        }
    }

    /// The C compiler that produces static x86_64 programs here.
    pub fn x86_64_cc(self) -> &'static str {
        match self {
            Arch::X86_64 => "gcc",
            Arch::Aarch64 => "x86_64-linux-gnu-gcc",
        }
    }
}

pub struct Package {
    pub name: &'static str,
    pub provides: &'static str,
}
