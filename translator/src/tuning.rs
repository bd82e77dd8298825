//! Switches that turn single code-quality optimizations off, to corner a
//! suspected miscompilation and to measure what each one brings:
//! `TRANSIT_TUNING=-indexed-addressing,-cond-link` (names as in
//! `Tuning`'s fields, with dashes). Read once per process; not in secure
//! mode, where Transit reads no environment variable. Everything is on by
//! default, and the difftest runner honours the variable too.

use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tuning {
    /// Memory operands in aarch64's register-offset (`[x3, x0, lsl #3]`)
    /// and scaled 12-bit offset forms (`emit::operand::memory_address`);
    /// off, such an address is first computed into a scratch register.
    pub indexed_addressing: bool,
    /// Flag liveness at a block's end looks through direct jumps, calls
    /// and both ways of conditional branches (`frontend::flags`); off, the
    /// look-ahead stops at the successor's first branch.
    pub flag_lookahead: bool,
    /// Loads, lea, movsx/movzx, imul, shifts, rotates and not write a
    /// 32/64-bit destination register directly instead of through a
    /// scratch one.
    pub direct_results: bool,
    /// A conditional branch to a block exit (`jcc`, `loop`, `jrcxz`) is
    /// patched to jump straight to the target block once that is linked
    /// (`cache`); off, it always goes through the exit's own `b`.
    pub cond_link: bool,
    /// x86's NaN fix-up after SSE/AVX arithmetic is out of line (`emit::cold`),
    /// and its test is `fcmp` + `b.vs` where the guest flags are dead; off,
    /// the fix-up is inline, jumped over by a flag-free test.
    pub out_of_line_nans: bool,
    /// ucomisd/comisd whose SF and OF are dead set ZF and CF with `fcmp` +
    /// `fccmp` (`emit::sse`); off, every flag is built in a register.
    pub fccmp_compares: bool,
    /// An indirect exit that leaves host C in the carry form goes to the
    /// target's entry for that form (the block itself when it writes CF
    /// before reading it; `emit::control::indirect_exit`); off, every
    /// indirect exit turns C to the borrow form first (three instructions
    /// without FlagM).
    pub indirect_carry: bool,
    /// A block goes on past up to `frontend::decode::SIDE_EXITS` direct
    /// conditional branches, each leaving through an out-of-line side exit
    /// when taken (`emit::control::jcc`): the way not taken costs the
    /// branch alone, not a branch and a jump to the next block; off, every
    /// conditional branch ends its block.
    pub side_exits: bool,
    /// `test r, r` and a je/jne/js/jns that alone read its flags become one
    /// cbz/cbnz/tbz/tbnz on the register (a byte or word register's
    /// js/jns a tbz/tbnz of its sign bit; `translate::fuses_with_next`);
    /// off, a `tst` and a `b.cond`.
    pub fused_tests: bool,
    /// ucomisd/comisd (and VEX forms) whose flags only the jcc, setcc or
    /// cmovcc after it reads, for "above", "below" (or equal) or parity,
    /// leave `fcmp`'s flags for it to test directly (`b.gt` for `ja`;
    /// `translate::fuses_with_next`); off, ZF and CF are built first
    /// (`fccmp_compares`).
    pub fused_float_compares: bool,
    /// A block that ends at a forward conditional branch leaves for the
    /// way not taken with the conditional branch alone (inverted) and
    /// for the target with a second branch (`emit::control::jcc`): compilers
    /// lay out the likely way of a forward branch as its fall-through;
    /// off, the taken way costs one branch and the way not taken two.
    pub forward_fall_through: bool,
    /// Two pushes or two pops of 64-bit registers in a row are one
    /// stp/ldp (`emit::data::stack_pair`); off, one str/ldr each.
    pub paired_stack: bool,
    /// Consecutive SSE arithmetic (scalar, packed double) shares its NaN
    /// test and writes its destinations once (`emit::fp_chain`); off, each
    /// instruction tests its own result and writes its destination.
    pub fp_chains: bool,
    /// Inside a chain, a packed link (or `unpck*pd x, x`) writes its
    /// result straight to its destination's own register where the chain
    /// never read that register's value from before
    /// (`FpChain::whole_write_through`); off, to a chain register, moved
    /// there when the chain ends.
    pub packed_write_through: bool,
    /// Registers known to hold a byte or word zero-extended (after movzx,
    /// a small immediate) are read as such without uxtb/uxth
    /// (`emit::known_narrow`); off, every narrow read extends.
    pub known_narrow: bool,
    /// An access at `[base + index * scale + disp]` right after one from
    /// the same sum at another displacement uses the sum still in its
    /// scratch register (`emit::index_sum`); off, each adds it again.
    pub index_sums: bool,
    /// With x86's memory order, an ordered access of unknown alignment
    /// has no alignment test: a misaligned one traps once, and the
    /// runtime's handler turns it into a branch to its plain fallback
    /// (`emit::operand`, `BlockMap::misaligned_pad`); off, a test before
    /// each such access.
    pub alignment_traps: bool,
    /// An indirect jump or call through a RIP-relative slot the guest
    /// cannot write (a PLT stub's GOT entry after RELRO) becomes a direct
    /// branch to the slot's value, linked like any other
    /// (`frontend::fixed_slots`); off, the target is looked up at each run.
    pub fixed_slots: bool,
    /// PF and AF are dead where a block, or the code the flags' look-ahead
    /// follows past a block's end, leaves through `ret` or an indirect
    /// `jmp` or `call` (`frontend::flags`): no compiler reads
    /// them across one, and keeping them costs two instructions (their
    /// sources) after the `add rsp, N` of a function's epilogue and the
    /// `add` of a switch's jump-table dispatch. CF, ZF, SF and OF stay
    /// live there (hand-written code returns results in CF); off, every
    /// flag stays live.
    pub indirect_parity_dead: bool,
    /// A bit-field extract (`shr r, n; movzx r, r8`), a zero-extended value
    /// shifted into place (`movzx r, r8; shl r, n`) and a shifted register
    /// added (`shl r, n; add r, s`) are one host instruction each
    /// (`emit::fused_pairs`); off, two.
    pub fused_pairs: bool,
    /// With x86's memory order, an explicit access addressed from RSP
    /// (`mov [rsp+8], rax`: spills and locals) is a plain one, as push and
    /// pop are (`emit::operand`; FEX does the same): a thread's stack is
    /// its own. A locked one stays atomic; off, it is ordered like any other.
    pub plain_stack_operands: bool,
    /// Every flag is dead where code leaves through an indirect `jmp` or
    /// `call` through a slot addressed from RIP: a PLT stub, a GOT call, a
    /// tail call through a function pointer variable, all calls at whose
    /// entry no flag has a role (`frontend::flags`); off, they keep CF, ZF,
    /// SF and OF live as other indirect jumps do.
    pub slot_calls_flags_dead: bool,
}

pub const TUNING_ENV: &str = "TRANSIT_TUNING";

impl Tuning {
    pub const ALL_ON: Tuning = Tuning { indexed_addressing: true, flag_lookahead: true, direct_results: true, cond_link: true, out_of_line_nans: true, fccmp_compares: true, indirect_carry: true, side_exits: true, fused_tests: true, fused_float_compares: true, forward_fall_through: true, paired_stack: true, fp_chains: true, packed_write_through: true, known_narrow: true, index_sums: true, alignment_traps: true, fixed_slots: true, indirect_parity_dead: true, fused_pairs: true, plain_stack_operands: true, slot_calls_flags_dead: true };

    /// These switches with those named `-name` in `spec` turned off
    /// (unknown names are ignored, as `TRANSIT_HOST_FEATURES` does).
    pub fn without(mut self, spec: &str) -> Tuning {
        for item in spec.split(',').map(str::trim) {
            match item.strip_prefix('-') {
                Some("indexed-addressing") => self.indexed_addressing = false,
                Some("flag-lookahead") => self.flag_lookahead = false,
                Some("direct-results") => self.direct_results = false,
                Some("cond-link") => self.cond_link = false,
                Some("out-of-line-nans") => self.out_of_line_nans = false,
                Some("fccmp-compares") => self.fccmp_compares = false,
                Some("indirect-carry") => self.indirect_carry = false,
                Some("side-exits") => self.side_exits = false,
                Some("fused-tests") => self.fused_tests = false,
                Some("fused-float-compares") => self.fused_float_compares = false,
                Some("forward-fall-through") => self.forward_fall_through = false,
                Some("paired-stack") => self.paired_stack = false,
                Some("fp-chains") => self.fp_chains = false,
                Some("packed-write-through") => self.packed_write_through = false,
                Some("known-narrow") => self.known_narrow = false,
                Some("index-sums") => self.index_sums = false,
                Some("alignment-traps") => self.alignment_traps = false,
                Some("fixed-slots") => self.fixed_slots = false,
                Some("indirect-parity-dead") => self.indirect_parity_dead = false,
                Some("fused-pairs") => self.fused_pairs = false,
                Some("plain-stack-operands") => self.plain_stack_operands = false,
                Some("slot-calls-flags-dead") => self.slot_calls_flags_dead = false,
                _ => {}
            }
        }
        self
    }
}

/// The process's switches.
pub fn tuning() -> Tuning {
    static TUNING: OnceLock<Tuning> = OnceLock::new();
    *TUNING.get_or_init(|| match std::env::var(TUNING_ENV) {
        Ok(spec) if !crate::cpu::host::secure_mode() => Tuning::ALL_ON.without(&spec),
        _ => Tuning::ALL_ON,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_switches_turn_off_and_others_stay_on() {
        let t = Tuning::ALL_ON.without("-flag-lookahead, -nonsense,indexed-addressing");
        assert!(!t.flag_lookahead);
        assert!(t.indexed_addressing, "only a leading '-' turns a switch off");
        assert!(t.direct_results);
        assert_eq!(Tuning::ALL_ON.without("-direct-results").direct_results, false);
        assert_eq!(Tuning::ALL_ON.without("-cond-link").cond_link, false);
        assert_eq!(Tuning::ALL_ON.without("-out-of-line-nans").out_of_line_nans, false);
        assert_eq!(Tuning::ALL_ON.without("-indirect-carry").indirect_carry, false);
        assert_eq!(Tuning::ALL_ON.without("-fccmp-compares").fccmp_compares, false);
        assert_eq!(Tuning::ALL_ON.without("-side-exits").side_exits, false);
        assert_eq!(Tuning::ALL_ON.without("-fused-tests").fused_tests, false);
        assert_eq!(Tuning::ALL_ON.without("-fused-float-compares").fused_float_compares, false);
        assert_eq!(Tuning::ALL_ON.without("-forward-fall-through").forward_fall_through, false);
        assert_eq!(Tuning::ALL_ON.without("-paired-stack").paired_stack, false);
        assert_eq!(Tuning::ALL_ON.without("-fp-chains").fp_chains, false);
        assert_eq!(Tuning::ALL_ON.without("-packed-write-through").packed_write_through, false);
        assert_eq!(Tuning::ALL_ON.without("-known-narrow").known_narrow, false);
        assert_eq!(Tuning::ALL_ON.without("-index-sums").index_sums, false);
        assert_eq!(Tuning::ALL_ON.without("-fixed-slots").fixed_slots, false);
        assert_eq!(Tuning::ALL_ON.without("-indirect-parity-dead").indirect_parity_dead, false);
        assert_eq!(Tuning::ALL_ON.without("-fused-pairs").fused_pairs, false);
        assert_eq!(Tuning::ALL_ON.without("-plain-stack-operands").plain_stack_operands, false);
        assert_eq!(Tuning::ALL_ON.without("-slot-calls-flags-dead").slot_calls_flags_dead, false);
    }
}
