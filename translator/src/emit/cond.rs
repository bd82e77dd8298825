//! x86 condition codes evaluated from the host flags.

#[allow(unused_imports)]
use dynasmrt::{DynasmApi, DynasmLabelApi};
use super::{a64, regs, Emitter, Polarity, Reg};
use iced_x86::ConditionCode;

/// aarch64 condition field values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ArmCond {
    Eq = 0,
    Ne = 1,
    Cs = 2,
    Cc = 3,
    Mi = 4,
    Pl = 5,
    Vs = 6,
    Vc = 7,
    Hi = 8,
    Ls = 9,
    Ge = 10,
    Lt = 11,
    Gt = 12,
    Le = 13,
}

impl ArmCond {
    pub fn invert(self) -> ArmCond {
        // Conditions come in pairs differing in bit 0.
        let v = self as u32 ^ 1;
        ArmCond::ALL[v as usize]
    }
    const ALL: [ArmCond; 14] = [
        ArmCond::Eq,
        ArmCond::Ne,
        ArmCond::Cs,
        ArmCond::Cc,
        ArmCond::Mi,
        ArmCond::Pl,
        ArmCond::Vs,
        ArmCond::Vc,
        ArmCond::Hi,
        ArmCond::Ls,
        ArmCond::Ge,
        ArmCond::Lt,
        ArmCond::Gt,
        ArmCond::Le,
    ];
}

/// A condition ready to use: a host condition on NZCV, or one bit of a
/// register (bit 0 for PF; a narrow register's sign), true when the bit
/// equals `when`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cond {
    Flags(ArmCond),
    Bit { reg: Reg, bit: u32, when: bool },
    /// Condition `cc` (Eq, Ne, Mi or Pl) of `tst reg, reg`, for a `test`
    /// whose flags only the branch after it reads (`Fused::Test`):
    /// a branch is cbz/cbnz/tbz/tbnz on the register, NZCV untouched.
    Test { reg: Reg, wide: bool, cc: ArmCond },
}

/// What an instruction whose flags only the next one's condition reads
/// left in their place (`Emitter::fuse_next`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fused {
    /// `test reg, reg` emitted nothing: the branch tests the register, of
    /// `bits` 8, 16, 32 or 64 (8 and 16 for js/jns only: its sign bit).
    Test { reg: Reg, bits: u32 },
    /// ucomisd/comisd emitted `fcmp` alone: NZCV as the host compare sets
    /// it, where "above" is Gt (unordered sets V, which Gt excludes), not
    /// x86's !CF && !ZF.
    FloatCompare,
}

/// The host condition after `fcmp a, b` for x86 condition `cc` after
/// `ucomisd a, b`, where one exists: unordered sets x86's ZF, PF and CF,
/// and the host's C and V (N and Z clear), so "below" (CF) is Lt and
/// "above or equal" (!CF) is Ge. The translator fuses only these.
pub fn after_float_compare(cc: ConditionCode) -> Option<ArmCond> {
    use ConditionCode as C;
    Some(match cc {
        C::a => ArmCond::Gt,
        C::ae => ArmCond::Ge,
        C::b => ArmCond::Lt,
        C::be => ArmCond::Le,
        C::p => ArmCond::Vs,
        C::np => ArmCond::Vc,
        _ => return None,
    })
}

impl Cond {
    /// The condition that holds exactly when this one does not.
    pub fn negate(self) -> Cond {
        match self {
            Cond::Flags(c) => Cond::Flags(c.invert()),
            Cond::Bit { reg, bit, when } => Cond::Bit { reg, bit, when: !when },
            // Eq/Ne and Mi/Pl are pairs.
            Cond::Test { reg, wide, cc } => Cond::Test { reg, wide, cc: cc.invert() },
        }
    }
}

impl Emitter {
    /// Evaluates x86 condition `cc`, adjusting C polarity if needed.
    pub fn cond(&mut self, cc: ConditionCode) -> Cond {
        use ArmCond::*;
        use ConditionCode as C;
        match self.fused.take() {
            Some(Fused::Test { reg, bits: bits @ (8 | 16) }) => match cc {
                C::s | C::ns => return Cond::Bit { reg, bit: bits - 1, when: cc == C::s },
                _ => unreachable!("a fused narrow test before {cc:?}"),
            },
            Some(Fused::Test { reg, bits }) => {
                let wide = bits == 64;
                match cc {
                    C::e => return Cond::Test { reg, wide, cc: Eq },
                    C::ne => return Cond::Test { reg, wide, cc: Ne },
                    C::s => return Cond::Test { reg, wide, cc: Mi },
                    C::ns => return Cond::Test { reg, wide, cc: Pl },
                    // `translate` fuses only these four: the flags are not there.
                    _ => unreachable!("a fused test before {cc:?}"),
                }
            }
            Some(Fused::FloatCompare) => match after_float_compare(cc) {
                Some(c) => return Cond::Flags(c),
                None => unreachable!("a fused float compare before {cc:?}"),
            },
            None => {}
        }
        let flags = |c| Cond::Flags(c);
        match cc {
            C::o => flags(Vs),
            C::no => flags(Vc),
            C::e => flags(Eq),
            C::ne => flags(Ne),
            C::s => flags(Mi),
            C::ns => flags(Pl),
            C::l => flags(Lt),
            C::ge => flags(Ge),
            C::le => flags(Le),
            C::g => flags(Gt),
            C::b => flags(if self.polarity == Polarity::Borrow { Cc } else { Cs }),
            C::ae => flags(if self.polarity == Polarity::Borrow { Cs } else { Cc }),
            C::be | C::a => {
                self.want_polarity(Polarity::Borrow);
                flags(if cc == C::be { Ls } else { Hi })
            }
            C::p | C::np => {
                let odd = self.parity_odd();
                Cond::Bit { reg: odd, bit: 0, when: cc == C::np }
            }
            C::None => unreachable!("conditional instruction without a condition"),
        }
    }

    /// A register whose bit 0 is 1 when the PF source has odd parity (PF=0).
    pub fn parity_odd(&mut self) -> Reg {
        let t = self.tmp();
        a64!(self.ops
            ; eor X(t), X(regs::PF_SRC), X(regs::PF_SRC), lsr 4
            ; eor X(t), X(t), X(t), lsr 2
            ; eor X(t), X(t), X(t), lsr 1
        );
        t
    }

    /// `b.cond` to `label` when `cond` holds.
    pub fn branch_if(&mut self, cond: Cond, label: dynasmrt::DynamicLabel) {
        match cond {
            Cond::Flags(c) => self.bcond(c, label),
            Cond::Bit { reg, bit, when: true } => a64!(self.ops; tbnz X(reg), bit, =>label),
            Cond::Bit { reg, bit, when: false } => a64!(self.ops; tbz X(reg), bit, =>label),
            Cond::Test { reg, wide, cc } => {
                let sign = if wide { 63 } else { 31 };
                match (cc, wide) {
                    (ArmCond::Eq, true) => a64!(self.ops; cbz X(reg), =>label),
                    (ArmCond::Eq, false) => a64!(self.ops; cbz W(reg), =>label),
                    (ArmCond::Ne, true) => a64!(self.ops; cbnz X(reg), =>label),
                    (ArmCond::Ne, false) => a64!(self.ops; cbnz W(reg), =>label),
                    (ArmCond::Mi, _) => a64!(self.ops; tbnz X(reg), sign, =>label),
                    _ => a64!(self.ops; tbz X(reg), sign, =>label),
                }
            }
        }
    }

    /// Sets the host flags of a `Cond::Test`, for the forms that read
    /// flags (they are dead there: `tst` may overwrite them).
    fn test_flags(&mut self, reg: Reg, wide: bool) {
        if wide {
            a64!(self.ops; tst X(reg), X(reg));
        } else {
            a64!(self.ops; tst W(reg), W(reg));
        }
    }

    fn bcond(&mut self, c: ArmCond, l: dynasmrt::DynamicLabel) {
        use ArmCond::*;
        match c {
            Eq => a64!(self.ops; b.eq =>l),
            Ne => a64!(self.ops; b.ne =>l),
            Cs => a64!(self.ops; b.hs =>l),
            Cc => a64!(self.ops; b.lo =>l),
            Mi => a64!(self.ops; b.mi =>l),
            Pl => a64!(self.ops; b.pl =>l),
            Vs => a64!(self.ops; b.vs =>l),
            Vc => a64!(self.ops; b.vc =>l),
            Hi => a64!(self.ops; b.hi =>l),
            Ls => a64!(self.ops; b.ls =>l),
            Ge => a64!(self.ops; b.ge =>l),
            Lt => a64!(self.ops; b.lt =>l),
            Gt => a64!(self.ops; b.gt =>l),
            Le => a64!(self.ops; b.le =>l),
        }
    }

    /// rd = cond ? 1 : 0 (64-bit).
    pub fn set_if(&mut self, rd: Reg, cond: Cond) {
        // cset rd, c == csinc rd, xzr, xzr, !c
        let cset = |e: &mut Emitter, c: ArmCond| e.raw(0x9a9f_07e0 | ((c.invert() as u32) << 12) | rd as u32);
        match cond {
            Cond::Flags(c) => cset(self, c),
            Cond::Test { reg, wide, cc } => {
                self.test_flags(reg, wide);
                cset(self, cc);
            }
            Cond::Bit { reg, bit, when } => {
                a64!(self.ops; ubfx X(rd), X(reg), bit, 1);
                if !when {
                    a64!(self.ops; eor XSP(rd), X(rd), 1);
                }
            }
        }
    }

    /// rd = cond ? rn : rm, as 64-bit (`wide`) or 32-bit (zero-extending) select.
    pub fn select(&mut self, rd: Reg, rn: Reg, rm: Reg, cond: Cond, wide: bool) {
        let sf = if wide { 0x8000_0000 } else { 0 };
        let csel = |e: &mut Emitter, c: ArmCond| e.raw(0x1a80_0000 | sf | ((rm as u32) << 16) | ((c as u32) << 12) | ((rn as u32) << 5) | rd as u32);
        match cond {
            Cond::Flags(c) => csel(self, c),
            Cond::Test { reg, wide: test_wide, cc } => {
                self.test_flags(reg, test_wide);
                csel(self, cc);
            }
            Cond::Bit { reg, bit, when } => {
                // No flag form for PF: use a compare-free branch.
                let keep = self.label();
                let done = self.label();
                if when {
                    a64!(self.ops; tbz X(reg), bit, =>keep);
                } else {
                    a64!(self.ops; tbnz X(reg), bit, =>keep);
                }
                if wide {
                    a64!(self.ops; mov X(rd), X(rn));
                } else {
                    a64!(self.ops; mov W(rd), W(rn));
                }
                self.jump(done);
                self.bind(keep);
                if wide {
                    a64!(self.ops; mov X(rd), X(rm));
                } else {
                    a64!(self.ops; mov W(rd), W(rm));
                }
                self.bind(done);
            }
        }
    }
}
