//! A test case (instruction bytes and the state they start from) and its
//! outcome, with the binary format the driver and the runner exchange.

use crate::layout::{MEM_SIZE, PAGE_SIZE};
use crate::rng::Rng;
use crate::state::{read_u64, State};
use std::io::{self, Read, Write};

#[derive(Clone, Debug)]
pub struct Case {
    pub code: Vec<u8>,
    pub input: State,
    /// The scratch page's initial bytes are derived from this seed.
    pub mem_seed: u64,
}

/// What running a case produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// 0 when the sequence ran to its end; else the signal it raised.
    pub signal: u64,
    /// Where execution stopped: the end of the code, or the faulting RIP.
    pub rip: u64,
    /// The state at the end, or when the faulting instruction started
    /// (x86 faults before changing any register).
    pub state: State,
    /// The signal's `si_addr`: the address a SIGSEGV accessed (0 for a
    /// general-protection fault), the faulting RIP for SIGFPE and SIGILL.
    pub fault_addr: u64,
    /// FNV-1a of the scratch page afterwards.
    pub mem_hash: u64,
    /// Asynchronous signals taken during the case (`async_signal`; the
    /// CPU's side has none), and the state the first one was handed.
    pub signals: u64,
    pub handoff: Option<Handoff>,
}

/// The state an asynchronous signal's handler is given: at the boundary of
/// the guest instruction at `rip`, with the scratch page's hash then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handoff {
    pub rip: u64,
    pub state: State,
    pub mem_hash: u64,
}

impl Case {
    pub fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        w.write_all(&(self.code.len() as u64).to_le_bytes())?;
        w.write_all(&self.code)?;
        self.input.write_to(w)?;
        w.write_all(&self.mem_seed.to_le_bytes())
    }

    pub fn read_from(r: &mut impl Read) -> io::Result<Case> {
        let len = read_u64(r)? as usize;
        let mut code = vec![0u8; len];
        r.read_exact(&mut code)?;
        let input = State::read_from(r)?;
        let mem_seed = read_u64(r)?;
        Ok(Case { code, input, mem_seed })
    }
}

impl Outcome {
    pub fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        w.write_all(&self.signal.to_le_bytes())?;
        w.write_all(&self.rip.to_le_bytes())?;
        self.state.write_to(w)?;
        w.write_all(&self.fault_addr.to_le_bytes())?;
        w.write_all(&self.mem_hash.to_le_bytes())?;
        w.write_all(&self.signals.to_le_bytes())?;
        w.write_all(&[self.handoff.is_some() as u8])?;
        if let Some(h) = &self.handoff {
            w.write_all(&h.rip.to_le_bytes())?;
            h.state.write_to(w)?;
            w.write_all(&h.mem_hash.to_le_bytes())?;
        }
        Ok(())
    }

    pub fn read_from(r: &mut impl Read) -> io::Result<Outcome> {
        let signal = read_u64(r)?;
        let rip = read_u64(r)?;
        let state = State::read_from(r)?;
        let fault_addr = read_u64(r)?;
        let mem_hash = read_u64(r)?;
        let signals = read_u64(r)?;
        let mut has_handoff = [0u8];
        r.read_exact(&mut has_handoff)?;
        let handoff = match has_handoff[0] {
            0 => None,
            _ => Some(Handoff { rip: read_u64(r)?, state: State::read_from(r)?, mem_hash: read_u64(r)? }),
        };
        Ok(Outcome { signal, rip, state, fault_addr, mem_hash, signals, handoff })
    }

    /// An outcome without asynchronous signals.
    pub fn new(signal: u64, rip: u64, state: State, fault_addr: u64, mem_hash: u64) -> Outcome {
        Outcome { signal, rip, state, fault_addr, mem_hash, signals: 0, handoff: None }
    }

    /// The outcome of a case during which the executor itself died.
    pub fn crashed() -> Outcome {
        Outcome::new(CRASHED, 0, State::default(), 0, 0)
    }
}

/// Outcome signal of a case during which the executor itself died.
pub const CRASHED: u64 = 255;

/// The scratch page's initial contents for `seed`.
pub fn initial_memory(seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut m = vec![0u8; MEM_SIZE];
    for chunk in m.chunks_mut(8) {
        chunk.copy_from_slice(&rng.edge_u64().to_le_bytes());
    }
    m
}

/// The read-only page's contents, the same for every case.
pub fn readonly_memory() -> Vec<u8> {
    let mut m = initial_memory(0x7ead_0411);
    m.resize(PAGE_SIZE, 0);
    m
}

pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}
