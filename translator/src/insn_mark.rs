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
    /// What this mark starts, if it marks a landing pad of the
    /// instruction (out of line) rather than the instruction's code.
    pub pad: Pad,
}

/// Landing pads, where the runtime's handler resumes a thread that
/// faulted in an instruction's code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pad {
    /// Not a pad.
    None,
    /// For any fault in the instruction's code (`emit::fp_chain`: the pad
    /// ends the open chain, then leaves as the fault).
    Fault,
    /// For an alignment fault of one ordered access (`emit::operand`): the
    /// access done plain with a barrier, then back after it. The n-th of an
    /// instruction serves its n-th `OrderedAccess`.
    Misaligned,
    /// Not a pad: an ordered access of the instruction, which has a
    /// `Misaligned` pad.
    OrderedAccess,
}

impl Pad {
    /// Whether the mark is in the instruction's own code (not a pad).
    pub fn in_own_code(self) -> bool {
        matches!(self, Pad::None | Pad::OrderedAccess)
    }

    /// Its byte in a saved record.
    pub fn code(self) -> u8 {
        match self {
            Pad::None => 0,
            Pad::Fault => 1,
            Pad::Misaligned => 2,
            Pad::OrderedAccess => 3,
        }
    }

    /// The pad a saved record's byte names (an unknown one: none).
    pub fn from_code(code: u8) -> Pad {
        match code {
            1 => Pad::Fault,
            2 => Pad::Misaligned,
            3 => Pad::OrderedAccess,
            _ => Pad::None,
        }
    }
}
