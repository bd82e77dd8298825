//! Transit's translator: x86_64 guest code in, cached aarch64 blocks out.
//!
//! The folders follow the pipeline: `frontend` (decode guest code with
//! iced-x86, flag liveness) -> `translate` (the handler table) and `emit`
//! (aarch64 code, dynasm-rs and the typed layer `emit::aarch64`) ->
//! `pipeline` (one block through all of it) -> `cache` (install, link,
//! invalidate) -> `dispatch` (enter and leave generated code). `interp`
//! runs the instructions not worth generating code for; `cpu` is the CPU
//! presented to the guest, its state, and the host's features. `exit` and
//! `insn_mark` are the types the stages share.

// dynasm! converts register numbers (already `u8`) into `u8`.
#![allow(clippy::useless_conversion)]

pub mod block_listener;
pub mod cache;
pub mod cpu;
pub mod crc32c;
pub mod dispatch;
pub mod emit;
pub mod exit;
pub mod frontend;
pub mod insn_mark;
pub mod paired_stack;
pub mod interp;
pub mod pipeline;
pub mod translate;
pub mod tuning;

pub use cpu::state::CpuState;
pub use dispatch::Translator;
pub use exit::GuestEvent;
