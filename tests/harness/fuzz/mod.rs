//! Fault robustness: fuzzers that feed Transit inputs no sane program
//! would, through the whole binary. Whatever the input, Transit must not
//! panic, abort or fault itself, nor hang: the guest gets an error or a
//! signal.
//!
//! - [`elf`]: mutated x86_64 executables (loader, image mapping, stack and
//!   auxiliary vector), `cargo xtask fuzz-elf`.
//! - [`syscalls`]: a guest calling random syscalls with random arguments
//!   (`tests/fuzz/syscall_fuzz.c`), `cargo xtask fuzz-syscalls`.
//!
//! The oracle tells Transit's own failures from the guest's: a Rust panic
//! prints "panicked" and aborts (panic = "abort"), and a fault outside
//! translated code prints "transit: fault outside translated code" and dies
//! by that signal. A guest that dies by a signal makes Transit die by the
//! same one, without those words; load errors are messages with exit
//! statuses 120-127.

pub mod elf;
pub mod syscalls;

use crate::outcome::Outcome;

/// What Transit prints about its own failures, never about the guest's.
const TRANSIT_FAILURE_MARKERS: &[&str] = &[
    "panicked",
    "transit: fault outside translated code",
    "RUST_BACKTRACE",
];

/// The line of Transit's stderr that reports its own failure, if any.
pub fn transit_failure(outcome: &Outcome) -> Option<String> {
    let stderr = String::from_utf8_lossy(&outcome.stderr);
    stderr
        .lines()
        .find(|line| {
            TRANSIT_FAILURE_MARKERS
                .iter()
                .any(|marker| line.contains(marker))
        })
        .map(str::to_owned)
}

/// A fuzzer's setting from the environment (`cargo xtask fuzz-*` passes
/// its options this way), else the fixed value CI runs with.
pub fn setting(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value} is not a number")),
        Err(_) => default,
    }
}

/// SplitMix64 (Steele, Lea and Flood, 2014): small, seedable, and every
/// input of a run is reproducible from the seed and its index alone.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The generator for input `index` of the run seeded `seed`.
    pub fn for_input(seed: u64, index: u64) -> Rng {
        let mut mixer = Rng(seed ^ index.wrapping_mul(0xd134_2543_de82_ef95));
        Rng(mixer.next())
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0; the bias is immaterial here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `1 / n`.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}
