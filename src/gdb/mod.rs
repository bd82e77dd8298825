//! `-g PORT`: a gdb remote-protocol stub for the x86_64 guest, as
//! qemu-user's. Transit loads the program, waits for gdb on TCP PORT, and
//! stops the first thread before its first instruction.
//!
//! The protocol runs in the guest thread that stopped (`stop`), holding
//! the session: `packet` frames it, `commands` answers requests from that
//! thread's `CpuState`, `target` describes the registers. Breakpoints and
//! single steps are the translator's (`exit::debug_stops`,
//! `Translator::resume`): no guest memory is changed for them.
//!
//! Limits: threads are not all-stop (the others run on while one is
//! stopped, and gdb lists only the stopped one); gdb's ^C while the program
//! runs is not seen; asynchronous signals reach the program without gdb
//! seeing them (fault signals stop it first); exec'd and forked children
//! are not debugged.

mod commands;
mod packet;
mod target;

use std::net::{Ipv4Addr, TcpListener};
use std::sync::Mutex;

use commands::{Action, Stopped};
use packet::{Connection, Incoming};
use transit_translator::dispatch::Resume;
use transit_translator::exit::debug_stops;
use transit_translator::{CpuState, Translator};

use crate::runtime::Ending;

struct Session {
    connection: Connection,
    auxv: Vec<u8>,
}

/// The debugger's connection; the thread that stops holds it while gdb talks.
static SESSION: Mutex<Option<Session>> = Mutex::new(None);

/// Why a thread stopped for the debugger.
#[derive(Clone, Copy, Debug)]
pub enum Stop {
    /// Before the first instruction, a breakpoint, or a finished step.
    Trap,
    /// The program is about to receive this (host) signal number; x86_64
    /// and aarch64 Linux number the fault signals alike.
    Signal(i32),
}

/// Waits until gdb connects to `port` on localhost.
pub fn wait_for_gdb(port: u16) -> std::io::Result<()> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
    tracing::info!(port = listener.local_addr()?.port(), "waiting for gdb");
    let (stream, peer) = listener.accept()?;
    tracing::info!(%peer, "gdb connected");
    let connection = Connection::new(stream)?;
    *lock() = Some(Session { connection, auxv: Vec::new() });
    debug_stops::set_attached(true);
    Ok(())
}

pub fn attached() -> bool {
    debug_stops::attached()
}

fn lock() -> std::sync::MutexGuard<'static, Option<Session>> {
    SESSION.lock().unwrap_or_else(|e| e.into_inner())
}

/// Before the first instruction: remembers the auxiliary vector from the
/// initial stack at `rsp` (argc, argv, NULL, envp, NULL, auxv), then stops.
pub fn first_stop(state: &mut CpuState, translator: &mut Translator) {
    if let Some(session) = lock().as_mut() {
        session.auxv = initial_auxv(state.gpr[transit_translator::cpu::state::gpr::RSP]);
    }
    // gdb asks with `?` once connected: nothing is announced.
    serve(state, translator, Stop::Trap, false);
}

fn initial_auxv(rsp: u64) -> Vec<u8> {
    // SAFETY: `stack::build` wrote this layout; nothing ran since.
    let word = |at: u64| unsafe { std::ptr::read(at as *const u64) };
    let argc = word(rsp);
    let mut at = rsp + 8 * (argc + 2);
    while word(at) != 0 {
        at += 8;
    }
    at += 8;
    let mut auxv = Vec::new();
    loop {
        let (key, value) = (word(at), word(at + 8));
        auxv.extend_from_slice(&key.to_le_bytes());
        auxv.extend_from_slice(&value.to_le_bytes());
        if key == 0 {
            return auxv;
        }
        at += 16;
    }
}

/// Serves gdb until it resumes this thread. For `Stop::Signal`, whether
/// gdb passes the signal on to the program (`continue`) or drops it
/// (`signal 0`). Without a debugger: true at once.
pub fn stop(state: &mut CpuState, translator: &mut Translator, why: Stop) -> bool {
    serve(state, translator, why, true)
}

/// `stop`; `announce`: send the stop reply first (it answers gdb's `c` or `s`).
fn serve(state: &mut CpuState, translator: &mut Translator, why: Stop, announce: bool) -> bool {
    if !attached() {
        return true;
    }
    let mut guard = lock();
    let Some(session) = guard.as_mut() else { return true };
    // SAFETY: gettid has no preconditions.
    let tid = unsafe { libc::gettid() } as u64;
    let reply = match why {
        // swbreak: the PC is the breakpoint's, gdb must not adjust it.
        Stop::Trap if debug_stops::contains(state.rip) => format!("T05thread:{tid:x};swbreak:;"),
        Stop::Trap => format!("T05thread:{tid:x};"),
        Stop::Signal(sig) => format!("T{:02x}thread:{tid:x};", target::gdb_signal(sig)),
    };
    if announce && session.connection.send(reply.as_bytes()).is_err() {
        end_session(guard);
        return true;
    }
    loop {
        let packet = match session.connection.receive() {
            Ok(Incoming::Packet(p)) => p,
            // Already stopped.
            Ok(Incoming::Interrupt) => continue,
            Err(_) => {
                end_session(guard);
                return true;
            }
        };
        let mut stopped = Stopped { state, translator, tid, reply: reply.as_bytes(), auxv: &session.auxv };
        let action = commands::handle(&packet, &mut stopped);
        let sent = match action {
            Action::Reply(text) => session.connection.send(&text),
            Action::NoAck => {
                let sent = session.connection.send(b"OK");
                session.connection.no_ack = true;
                sent
            }
            Action::Resume { how, signal } => {
                translator.resume(how, state.rip);
                return match why {
                    Stop::Signal(_) => signal.is_some(),
                    Stop::Trap => true,
                };
            }
            Action::Kill => {
                tracing::info!("killed by gdb");
                crate::die_by_signal(libc::SIGKILL);
            }
            Action::Detach => {
                let _ = session.connection.send(b"OK");
                translator.resume(Resume::Continue, state.rip);
                end_session(guard);
                return true;
            }
        };
        if sent.is_err() {
            end_session(guard);
            return true;
        }
    }
}

/// gdb went away or detached: the program runs on without breakpoints.
fn end_session(mut guard: std::sync::MutexGuard<'_, Option<Session>>) {
    debug_stops::set_attached(false);
    debug_stops::clear();
    *guard = None;
}

/// The process ends (any thread's exit_group, or a fatal signal): gdb is told
/// (`W` exit status, `X` signal), as the last packet.
pub fn process_ends(ending: &Ending) {
    if !attached() {
        return;
    }
    // A thread stopped for gdb holds the session: then gdb is not told.
    let Ok(mut guard) = SESSION.try_lock() else { return };
    if let Some(session) = guard.as_mut() {
        let packet = match ending {
            Ending::Exit(status) => format!("W{:02x}", *status as u8),
            Ending::Signal(sig) => format!("X{:02x}", target::gdb_signal(*sig)),
        };
        let _ = session.connection.send(packet.as_bytes());
    }
    end_session(guard);
}

/// In a forked child: the parent's debugger is not the child's.
pub fn forget_in_child() {
    if !attached() {
        return;
    }
    debug_stops::set_attached(false);
    // Another parent thread may have held the lock at the fork: then the
    // session is left as it is (never used again here). Closing the
    // child's copy of the socket leaves the parent's connection open.
    if let Ok(mut guard) = SESSION.try_lock() {
        *guard = None;
    }
}
