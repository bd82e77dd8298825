//! Classic BPF as seccomp accepts it: the checks the kernel makes when a
//! filter is installed (`seccomp_check_filter` with `bpf_check_classic`),
//! and a run over a `struct seccomp_data`.

use crate::host::Errno;

/// struct sock_filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// The kernel's BPF_MAXINSNS.
pub const MAX_INSNS: usize = 4096;
/// struct seccomp_data is 64 bytes: nr, arch, instruction_pointer, args[6].
pub const DATA_LEN: u32 = 64;
const MEM_WORDS: usize = 16;

// Instruction classes, sizes, modes, operations and sources (linux/bpf_common.h).
const LD: u16 = 0x00;
const LDX: u16 = 0x01;
const ST: u16 = 0x02;
const STX: u16 = 0x03;
const ALU: u16 = 0x04;
const JMP: u16 = 0x05;
const RET: u16 = 0x06;
const MISC: u16 = 0x07;
const W: u16 = 0x00;
const IMM: u16 = 0x00;
const ABS: u16 = 0x20;
const MEM: u16 = 0x60;
const LEN: u16 = 0x80;
const K: u16 = 0x00;
const X: u16 = 0x08;
const A: u16 = 0x10;
const ADD: u16 = 0x00;
const SUB: u16 = 0x10;
const MUL: u16 = 0x20;
const DIV: u16 = 0x30;
const OR: u16 = 0x40;
const AND: u16 = 0x50;
const LSH: u16 = 0x60;
const RSH: u16 = 0x70;
const NEG: u16 = 0x80;
const XOR: u16 = 0xa0;
const JA: u16 = 0x00;
const JEQ: u16 = 0x10;
const JGT: u16 = 0x20;
const JGE: u16 = 0x30;
const JSET: u16 = 0x40;
const TAX: u16 = 0x00;
const TXA: u16 = 0x80;

/// The opcodes seccomp allows (`seccomp_check_filter`; the kernel rejects
/// every other, including loads of packet bytes and halfwords, and MOD).
fn allowed(code: u16) -> bool {
    const ALU_OPS: [u16; 10] = [ADD, SUB, MUL, DIV, OR, AND, LSH, RSH, NEG, XOR];
    const JUMPS: [u16; 4] = [JEQ, JGT, JGE, JSET];
    match code & 0x07 {
        LD => [LD | W | ABS, LD | W | LEN, LD | IMM, LD | MEM].contains(&code),
        LDX => [LDX | W | LEN, LDX | IMM, LDX | MEM].contains(&code),
        ST | STX => code & !0x07 == 0,
        ALU => ALU_OPS.iter().any(|&op| code == ALU | op | K || (op != NEG && code == ALU | op | X)),
        JMP => code == JMP | JA || JUMPS.iter().any(|&op| code == JMP | op | K || code == JMP | op | X),
        RET => code == RET | K || code == RET | A,
        _ => code == MISC | TAX || code == MISC | TXA,
    }
}

/// A filter's instructions, checked as the kernel checks them at install:
/// EINVAL for anything it would refuse.
pub fn check(insns: &[Insn]) -> Result<(), Errno> {
    if insns.is_empty() || insns.len() > MAX_INSNS {
        return Err(Errno::EINVAL);
    }
    for (pc, insn) in insns.iter().enumerate() {
        if !allowed(insn.code) {
            return Err(Errno::EINVAL);
        }
        let rest = insns.len() - pc - 1;
        let ok = match insn.code & 0x07 {
            LD if insn.code == LD | W | ABS => insn.k % 4 == 0 && insn.k < DATA_LEN,
            LD | LDX if insn.code & 0xe0 == MEM => (insn.k as usize) < MEM_WORDS,
            ST | STX => (insn.k as usize) < MEM_WORDS,
            ALU if insn.code & 0xf0 == DIV && insn.code & X == 0 => insn.k != 0,
            ALU if matches!(insn.code & 0xf0, LSH | RSH) && insn.code & X == 0 => insn.k < 32,
            JMP if insn.code == JMP | JA => (insn.k as usize) < rest,
            JMP => (insn.jt as usize) < rest && (insn.jf as usize) < rest,
            _ => true,
        };
        if !ok {
            return Err(Errno::EINVAL);
        }
    }
    // The last instruction must return (so every path ends in one).
    if insns[insns.len() - 1].code & 0x07 != RET {
        return Err(Errno::EINVAL);
    }
    if !loads_follow_stores(insns) {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// The kernel's check_load_and_stores: no path may load a scratch word it
/// has not stored. One bit per word; each instruction gets the words valid
/// on every jump into it (jumps are forward, so one pass does).
fn loads_follow_stores(insns: &[Insn]) -> bool {
    let mut masks = vec![u16::MAX; insns.len()];
    let mut valid = 0u16;
    for (pc, insn) in insns.iter().enumerate() {
        valid &= masks[pc];
        match insn.code & 0x07 {
            ST | STX => valid |= 1 << insn.k,
            LD | LDX if insn.code & 0xe0 == MEM => {
                if valid & (1 << insn.k) == 0 {
                    return false;
                }
            }
            JMP => {
                let targets = if insn.code == JMP | JA { [insn.k as usize, insn.k as usize] } else { [usize::from(insn.jt), usize::from(insn.jf)] };
                for t in targets {
                    masks[pc + 1 + t] &= valid;
                }
                valid = u16::MAX;
            }
            _ => {}
        }
    }
    true
}

/// Runs a checked filter over `data` (a struct seccomp_data); its return value.
pub fn run(insns: &[Insn], data: &[u8; DATA_LEN as usize]) -> u32 {
    let (mut a, mut x, mut mem) = (0u32, 0u32, [0u32; MEM_WORDS]);
    let mut pc = 0;
    while let Some(insn) = insns.get(pc) {
        pc += 1;
        let k = insn.k;
        let src = if insn.code & X != 0 { x } else { k };
        match insn.code & 0x07 {
            LD => {
                a = match insn.code & 0xe0 {
                    ABS => u32::from_ne_bytes(data[k as usize..k as usize + 4].try_into().unwrap_or_default()),
                    LEN => DATA_LEN,
                    MEM => mem[k as usize],
                    _ => k,
                }
            }
            LDX => {
                x = match insn.code & 0xe0 {
                    LEN => DATA_LEN,
                    MEM => mem[k as usize],
                    _ => k,
                }
            }
            ST => mem[k as usize] = a,
            STX => mem[k as usize] = x,
            ALU => {
                a = match insn.code & 0xf0 {
                    ADD => a.wrapping_add(src),
                    SUB => a.wrapping_sub(src),
                    MUL => a.wrapping_mul(src),
                    // A zero divisor in X ends the filter with 0 (kill), as in the kernel.
                    DIV if src == 0 => return 0,
                    DIV => a / src,
                    OR => a | src,
                    AND => a & src,
                    // By X modulo 32, as the kernel's BPF does.
                    LSH => a.wrapping_shl(src),
                    RSH => a.wrapping_shr(src),
                    NEG => a.wrapping_neg(),
                    _ => a ^ src,
                }
            }
            JMP => {
                let taken = match insn.code & 0xf0 {
                    JA => {
                        pc += k as usize;
                        continue;
                    }
                    JEQ => a == src,
                    JGT => a > src,
                    JGE => a >= src,
                    _ => a & src != 0,
                };
                pc += usize::from(if taken { insn.jt } else { insn.jf });
            }
            RET => return if insn.code & 0x18 == A { a } else { k },
            _ => {
                if insn.code == MISC | TAX {
                    x = a;
                } else {
                    a = x;
                }
            }
        }
    }
    // `check` makes every path end in a return.
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOD: u16 = 0x90;

    fn insn(code: u16, jt: u8, jf: u8, k: u32) -> Insn {
        Insn { code, jt, jf, k }
    }

    fn data(nr: i32, arg0: u64) -> [u8; 64] {
        let mut d = [0u8; 64];
        d[0..4].copy_from_slice(&nr.to_ne_bytes());
        d[4..8].copy_from_slice(&0xc000_003eu32.to_ne_bytes());
        d[16..24].copy_from_slice(&arg0.to_ne_bytes());
        d
    }

    /// getpid -> ERRNO(1); write with fd 2 -> 0x7fff0000 (allow); else kill.
    fn filter() -> Vec<Insn> {
        vec![
            insn(LD | W | ABS, 0, 0, 0),
            insn(JMP | JEQ | K, 0, 1, 39),
            insn(RET | K, 0, 0, 0x0005_0001),
            insn(JMP | JEQ | K, 0, 3, 1),
            insn(LD | W | ABS, 0, 0, 16),
            insn(JMP | JEQ | K, 0, 1, 2),
            insn(RET | K, 0, 0, 0x7fff_0000),
            insn(RET | K, 0, 0, 0),
        ]
    }

    #[test]
    fn a_filter_matches_numbers_and_arguments() {
        let f = filter();
        check(&f).unwrap();
        assert_eq!(run(&f, &data(39, 0)), 0x0005_0001);
        assert_eq!(run(&f, &data(1, 2)), 0x7fff_0000);
        assert_eq!(run(&f, &data(1, 1)), 0);
        assert_eq!(run(&f, &data(60, 0)), 0);
    }

    #[test]
    fn scratch_memory_arithmetic_and_x() {
        let f = vec![
            insn(LD | IMM, 0, 0, 6),
            insn(ST, 0, 0, 3),
            insn(LDX | MEM, 0, 0, 3),
            insn(LD | W | ABS, 0, 0, 0),
            insn(ALU | MUL | X, 0, 0, 0),
            insn(ALU | AND | K, 0, 0, 0xff),
            insn(MISC | TAX, 0, 0, 0),
            insn(MISC | TXA, 0, 0, 0),
            insn(RET | A, 0, 0, 0),
        ];
        check(&f).unwrap();
        assert_eq!(run(&f, &data(7, 0)), 42);
    }

    #[test]
    fn the_kernel_s_refusals_are_einval() {
        let ret = insn(RET | K, 0, 0, 0);
        assert_eq!(check(&[]), Err(Errno::EINVAL));
        // Unaligned, out of range, or a halfword load.
        assert_eq!(check(&[insn(LD | W | ABS, 0, 0, 2), ret]), Err(Errno::EINVAL));
        assert_eq!(check(&[insn(LD | W | ABS, 0, 0, 64), ret]), Err(Errno::EINVAL));
        assert_eq!(check(&[insn(LD | 0x08 | ABS, 0, 0, 0), ret]), Err(Errno::EINVAL));
        // A jump past the end, a division by a constant 0, no final return.
        assert_eq!(check(&[insn(JMP | JEQ | K, 1, 0, 0), ret]), Err(Errno::EINVAL));
        assert_eq!(check(&[insn(ALU | DIV | K, 0, 0, 0), ret]), Err(Errno::EINVAL));
        assert_eq!(check(&[insn(LD | IMM, 0, 0, 0)]), Err(Errno::EINVAL));
        assert_eq!(check(&vec![ret; MAX_INSNS + 1]), Err(Errno::EINVAL));
        // MOD is not seccomp's; a scratch word loaded before any store is refused.
        assert_eq!(check(&[insn(ALU | MOD | K, 0, 0, 3), ret]), Err(Errno::EINVAL));
        assert_eq!(check(&[insn(LD | MEM, 0, 0, 1), ret]), Err(Errno::EINVAL));
        // Stored on one path only.
        let one_path = [insn(JMP | JEQ | K, 0, 1, 5), insn(ST, 0, 0, 1), insn(LD | MEM, 0, 0, 1), ret];
        assert_eq!(check(&one_path), Err(Errno::EINVAL));
        let both_paths = [insn(ST, 0, 0, 1), insn(JMP | JEQ | K, 0, 1, 5), insn(ST, 0, 0, 2), insn(LD | MEM, 0, 0, 1), ret];
        assert_eq!(check(&both_paths), Ok(()));
    }
}
