//! `transit -g PORT`: the host's gdb debugs an x86_64 program through
//! Transit's remote stub, as it would through qemu-user's: a breakpoint on
//! a function by name, registers, a variable, a single step, a disassembly
//! from guest memory, and the exit status at the end.

use std::io::Read;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use transit_tests::catalog;
use transit_tests::toolchain::Toolchain;
use transit_tests::transit::Transit;

/// Everything runs under qemu-user in CI: generous.
const TIMEOUT: Duration = Duration::from_secs(300);

#[test]
fn gdb_breaks_reads_steps_and_sees_the_exit() {
    let transit = Transit::from_env().unwrap_or_else(|e| panic!("{e}"));
    let program = recursion_program();
    let port = free_port();
    let mut guest = transit
        .command_with_options(&["-g".as_ref(), port.to_string().as_ref()], &program, &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("Transit starts");
    let commands = [
        // Transit listens once the program is loaded: gdb retries until then.
        "set tcp connect-timeout 240",
        &format!("target remote 127.0.0.1:{port}"),
        "break hanoi",
        "continue",
        "info registers rip",
        "print discs",
        "print hanoi_moves",
        "stepi",
        "info registers rip",
        "x/4i $pc",
        "delete",
        "continue",
    ];
    let mut gdb = Command::new(gdb_binary());
    gdb.args(["-nx", "-batch"]);
    for c in commands {
        gdb.args(["-ex", c]);
    }
    let gdb = gdb.arg(&program).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
    let gdb = gdb.unwrap_or_else(|e| {
        let _ = guest.kill();
        panic!("{}: {e} (cargo xtask setup installs it)", gdb_binary())
    });
    let (gdb_status, gdb_out, gdb_err) = wait(gdb);
    let (status, out, err) = wait(guest);
    let transcript = format!("gdb {gdb_status:?}:\n{gdb_out}\n{gdb_err}\ntransit {status:?}:\n{err}");

    assert!(gdb_out.contains("Breakpoint 1, hanoi (discs=16"), "{transcript}");
    let rips: Vec<u64> = gdb_out.lines().filter_map(rip_of).collect();
    assert_eq!(rips.len(), 2, "{transcript}");
    assert!(gdb_out.contains("<hanoi+"), "rip inside hanoi: {transcript}");
    assert!(rips[1] > rips[0] && rips[1] - rips[0] <= 15, "stepi ran one instruction: {transcript}");
    assert!(gdb_out.contains("$1 = 16") && gdb_out.contains("$2 = 0"), "{transcript}");
    assert!(gdb_out.contains(&format!("=> {:#x} <hanoi+", rips[1])), "x/4i at the new pc: {transcript}");
    assert!(gdb_out.contains("exited normally"), "{transcript}");
    assert_eq!(status.code(), Some(0), "{transcript}");
    assert!(out.contains("hanoi(16): 65535 moves"), "the program ran to its end: {out}\n{transcript}");
}

/// tests/programs/recursion.c in the host's first variant (glibc, -O0, -g).
fn recursion_program() -> PathBuf {
    let toolchain = Toolchain::for_host().unwrap_or_else(|e| panic!("{e}"));
    let programs = catalog::discover().unwrap_or_else(|e| panic!("{e}"));
    let program = programs.iter().find(|p| p.name == "recursion").expect("tests/programs/recursion.c exists");
    let variant = toolchain.variants().next().expect("every host has a variant");
    toolchain.build(program, variant).unwrap_or_else(|e| panic!("{e}"))
}

/// A port nobody listens on now (the kernel's pick, released at once).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free local port").port()
}

/// gdb for x86_64 programs: the native one on x86_64 hosts.
fn gdb_binary() -> &'static str {
    if transit_tests::host_runs_x86_64() {
        "gdb"
    } else {
        "gdb-multiarch"
    }
}

/// `rip 0x4017c9 0x4017c9 <hanoi+20>` -> 0x4017c9.
fn rip_of(line: &str) -> Option<u64> {
    let mut words = line.split_whitespace();
    (words.next()? == "rip").then_some(())?;
    u64::from_str_radix(words.next()?.strip_prefix("0x")?, 16).ok()
}

/// Waits up to `TIMEOUT` (then kills it); its status, stdout and stderr.
fn wait(mut child: std::process::Child) -> (std::process::ExitStatus, String, String) {
    let mut pipes = (child.stdout.take(), child.stderr.take());
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_string(&mut text);
            }
            text
        })
    };
    let out = read(pipes.0.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let err = read(pipes.1.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("can wait") {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            break child.wait().expect("can wait");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    (status, out.join().unwrap_or_default(), err.join().unwrap_or_default())
}
