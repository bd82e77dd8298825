//! binfmt_misc registration: `transit binfmt install|uninstall|status`
//! (issue 5), so that the kernel runs every x86_64 executable through
//! Transit. Container wiring (issue 6) comes later.
//!
//! - `entry`: the registration line and the kernel's view of an entry (pure);
//! - `status`: which entries handle x86_64 and which one wins (pure);
//! - `misc_fs`: the binfmt_misc mount itself (files under /proc/sys/fs/binfmt_misc);
//! - `persist`: binfmt.d files for systemd-binfmt;
//! - `cli`: the subcommand.
//!
//! How Transit behaves when the kernel starts it through this entry (the P,
//! O and C flags) lives with the rest of start-up, in the `transit` binary.

pub mod cli;
pub mod entry;
pub mod mirror;
pub mod misc_fs;
pub mod persist;
pub mod status;

pub use entry::ENTRY_NAME;
