//! Where each guest instruction starts in a block's host code, and where x86
//! CF sits in host NZCV there: written by the emitter, read by the block
//! map when a signal needs the guest state at a host address.

/// Where x86 CF sits in the host C flag. `subs` leaves C = !borrow, `adds`
/// leaves C = carry; tracking which one holds at translation time lets most
/// instructions skip the inversion. At block boundaries it is `Borrow`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Polarity {
    /// C = !CF (canonical).
    Borrow,
    /// C = CF.
    Carry,
}

/// Where one guest instruction's code starts in its block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InsnMark {
    pub host_off: u32,
    pub guest_off: u16,
    pub polarity: Polarity,
    /// Marks the instruction's fault landing pad instead (out of line): a
    /// fault in the instruction's own code resumes there
    /// (`emit::fp_chain`: the pad ends the open chain, then leaves as the
    /// fault).
    pub fault_pad: bool,
}
