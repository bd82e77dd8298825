//! Reading guest code: iced-x86 decoding of a block (`decode`), which flags
//! each instruction needs (`flags`, from what each one does to them:
//! `flag_effect`), one row per form saying how it runs
//! (`forms`), and checking guest memory before a
//! read the guest did not ask for could fault (`probe`).

pub mod decode;
pub mod flag_effect;
pub mod flags;
pub mod forms;
pub mod probe;
