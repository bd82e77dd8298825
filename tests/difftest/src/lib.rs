//! Differential testing: x86 instruction sequences run on the host CPU and
//! through Transit's translator must leave identical architectural state.
//!
//! `generate` builds cases from the translator's own list of supported
//! instruction forms; `native` runs them on an x86_64 CPU; the
//! `difftest-runner` binary runs them translated (under qemu-aarch64 on
//! x86_64 hosts); `compare` decides, with the flags either vendor's manual
//! leaves undefined masked per instruction (`vendor_flags`); `report` prints reproducers.
//! `async_signal` makes asynchronous signals arrive inside translated code.

pub mod async_signal;
pub mod case;
pub mod compare;
pub mod generate;
pub mod layout;
#[cfg(target_arch = "x86_64")]
pub mod native;
pub mod report;
pub mod rng;
pub mod state;
pub mod vendor_flags;
pub mod x87_tolerance;

