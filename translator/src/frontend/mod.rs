//! Reading guest code: iced-x86 decoding of a block (`decode`), which flags
//! each instruction needs (`flags`, from what each one does to them:
//! `flag_effect`), branches through slots the guest cannot write made
//! direct (`fixed_slots`), one row per form saying how it runs
//! (`forms`), and checking guest memory before a
//! read the guest did not ask for could fault (`probe`).

pub mod decode;
pub mod fixed_slots;
pub mod flag_effect;
pub mod flags;
pub mod forms;
pub mod probe;
