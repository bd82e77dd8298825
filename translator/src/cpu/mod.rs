//! The CPU: the x86 CPU presented to the guest (`features`), a guest
//! thread's architectural state (`state`), its XSAVE-managed state
//! components (`xstate`), and the host features that change the code
//! Transit emits (`host`).

pub mod features;
pub mod host;
pub mod state;
pub mod xstate;
