//! Finding Transit. `TRANSIT_BIN` names the aarch64 executable (required: a
//! run without it is a failure, never a skip); `TRANSIT_RUNNER` names the
//! command that runs aarch64 programs on this host (qemu-aarch64-static on
//! x86_64 when unset, nothing on arm64; set it empty to run Transit
//! directly). `cargo xtask test` sets both.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// ELF header: e_machine is the 16-bit field at offset 18 (System V gABI).
const E_MACHINE_OFFSET: usize = 18;
const EM_AARCH64: u16 = 183;

#[derive(Debug, Clone)]
pub struct Transit {
    pub binary: PathBuf,
    /// Program and arguments placed before Transit; empty to run it directly.
    pub runner: Vec<String>,
}

impl Transit {
    pub fn from_env() -> Result<Transit, String> {
        let binary = match std::env::var_os("TRANSIT_BIN") {
            Some(binary) if !binary.is_empty() => PathBuf::from(binary),
            _ => {
                return Err("TRANSIT_BIN is not set, so nothing would run under Transit. Run `cargo xtask test`, \
                     or set TRANSIT_BIN to the absolute path of target/aarch64-unknown-linux-gnu/release/transit"
                    .into())
            }
        };
        if !binary.is_absolute() {
            return Err(format!(
                "TRANSIT_BIN must be an absolute path (tests run in their own directories): {}",
                binary.display()
            ));
        }
        check_executable(&binary)?;
        let runner: Vec<String> = match std::env::var("TRANSIT_RUNNER") {
            Ok(runner) => runner.split_whitespace().map(str::to_string).collect(),
            Err(_) if crate::host_runs_x86_64() => vec!["qemu-aarch64-static".into()],
            Err(_) => Vec::new(),
        };
        if let Some(program) = runner.first() {
            if find_in_path(program).is_none() {
                return Err(format!(
                    "TRANSIT_RUNNER `{program}` is not found; `cargo xtask test` installs qemu-user-static"
                ));
            }
        }
        Ok(Transit { binary, runner })
    }

    /// `[RUNNER...] TRANSIT PROGRAM ARGS...`
    pub fn command(&self, program: &Path, args: &[String]) -> Command {
        self.command_with_options(&[], program, args)
    }

    /// `[RUNNER...] TRANSIT OPTIONS... PROGRAM ARGS...`
    pub fn command_with_options(
        &self,
        options: &[&std::ffi::OsStr],
        program: &Path,
        args: &[String],
    ) -> Command {
        let mut command = self.bare_command();
        command.args(options).arg(program).args(args);
        command
    }

    /// `[RUNNER...] TRANSIT`, for its subcommands.
    pub fn bare_command(&self) -> Command {
        match self.runner.split_first() {
            Some((runner, runner_args)) => {
                let mut command = Command::new(runner);
                command.args(runner_args).arg(&self.binary);
                command
            }
            None => Command::new(&self.binary),
        }
    }

    /// One line for the test log saying what runs the programs.
    /// Transit execs itself for every x86_64 child: on a host that runs it
    /// through an emulator, the kernel must run aarch64 programs by itself
    /// (binfmt_misc). Panics, saying so, when it cannot.
    pub fn require_exec_self(&self) {
        if self.runner.is_empty() {
            return;
        }
        let direct = Command::new(&self.binary).arg("--version").output();
        if !direct.is_ok_and(|output| output.status.success()) {
            panic!(
                "this host cannot execute the aarch64 program {} directly, so Transit cannot exec itself: \
                 register a binfmt_misc handler for aarch64 (qemu-aarch64-static, flag F); `cargo xtask test` does",
                self.binary.display()
            );
        }
    }

    pub fn describe(&self) -> String {
        match self.runner.is_empty() {
            true => format!("Transit: {}", self.binary.display()),
            false => format!(
                "Transit: {} (via {})",
                self.binary.display(),
                self.runner.join(" ")
            ),
        }
    }

    /// Removes what the runner itself adds to stderr. qemu-user reports a
    /// guest killed by a signal with "qemu: uncaught target signal N (...)"
    /// even when core dumps are off (linux-user/signal.c,
    /// dump_core_and_abort); the signal itself is compared separately.
    pub fn strip_runner_messages(&self, stderr: Vec<u8>) -> Vec<u8> {
        let runner_is_qemu = self
            .runner
            .first()
            .and_then(|runner| Path::new(runner).file_name())
            .is_some_and(|name| name.to_string_lossy().starts_with("qemu-"));
        if !runner_is_qemu {
            return stderr;
        }
        stderr
            .split_inclusive(|&byte| byte == b'\n')
            .filter(|line| !line.starts_with(b"qemu: uncaught target signal "))
            .flatten()
            .copied()
            .collect()
    }
}

/// TRANSIT_BIN must exist and be executable. An ELF must be an aarch64 one
/// (catches pointing it at a host build); anything else is taken to be a
/// wrapper script, which is how the harness itself is tested.
fn check_executable(binary: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let metadata = std::fs::metadata(binary).map_err(|e| {
        format!(
            "TRANSIT_BIN {}: {e}; build it with `cargo xtask build`",
            binary.display()
        )
    })?;
    if !metadata.is_file() || metadata.permissions().mode() & 0o111 == 0 {
        return Err(format!(
            "TRANSIT_BIN {} is not an executable file",
            binary.display()
        ));
    }
    let mut header = [0u8; E_MACHINE_OFFSET + 2];
    let read = std::fs::File::open(binary)
        .and_then(|mut file| file.read(&mut header))
        .map_err(|e| format!("cannot read TRANSIT_BIN {}: {e}", binary.display()))?;
    if read == header.len() && header.starts_with(b"\x7fELF") {
        let machine = u16::from_le_bytes([header[E_MACHINE_OFFSET], header[E_MACHINE_OFFSET + 1]]);
        if machine != EM_AARCH64 {
            return Err(format!(
                "TRANSIT_BIN {} is an ELF for machine {machine}, not aarch64 ({EM_AARCH64})",
                binary.display()
            ));
        }
    }
    Ok(())
}

fn find_in_path(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Path::new(program).is_file().then(|| PathBuf::from(program));
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}
