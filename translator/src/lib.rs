//! Transit's translator: x86_64 guest code in, cached aarch64 blocks out.
//!
//! Pipeline: `decode` (iced-x86) -> `flags` (liveness) -> `translate`
//! (per-instruction handlers in `emit`, dynasm-rs) -> `cache` (install,
//! link) -> `dispatch` (enter/leave generated code). `interp` runs the rare
//! instructions that are not worth generating code for.

// dynasm! converts register numbers (already `u8`) into `u8`.
#![allow(clippy::useless_conversion)]

pub mod addr_hash;
mod aes_soft;
pub mod block_map;
pub mod cache;
mod chunked;
mod cmpxchg16b;
pub mod code_watch;
pub mod cpu_state;
mod crc32c;
mod crypto_step;
pub mod decode;
pub mod dispatch;
pub mod emit;
pub mod exit;
pub mod features;
pub mod flags;
pub mod guest_access;
pub mod host;
pub mod insn_mark;
pub mod interp;
mod legacy_forms;
pub mod links;
pub mod lookup_table;
pub mod mmx;
pub mod pipeline;
pub mod probe;
mod protected_pages;
mod segments;
pub mod sse41_interp;
mod string_compare;
pub mod thread_code;
pub mod translate;
pub mod x87;

pub use cpu_state::CpuState;
pub use dispatch::Translator;
pub use exit::GuestEvent;
