//! SSE4.2's generated forms: crc32 (pcmpgtq is a packed row, `vector::Lane::Packed`) (popcnt, which came with
//! it, is in `bits`; the string compares pcmpXstrX are interpreted, see
//! `string_compare`).

use super::operand::Loc;
use super::{a64, control, EmitResult, Emitter, Flow, Unsupported};
#[allow(unused_imports)]
use dynasmrt::{DynasmApi, DynasmLabelApi};
use iced_x86::Instruction;


/// crc32 r32/r64, r/m8/16/32/64: x86 accumulates CRC-32C (Castagnoli,
/// bit-reflected, no final inversion) into the low 32 bits of the
/// destination, exactly as aarch64's `crc32c*`; the 64-bit destination is
/// zero-extended. Flags are unchanged. Hosts without FEAT_CRC32 interpret it
/// (`crc32c::update`).
pub fn crc32(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    if !e.host.crc32 {
        return control::interpret(e, insn);
    }
    let dst = e.loc(insn, 0)?;
    let src = e.loc(insn, 1)?;
    let Loc::Reg { host, .. } = dst else { return Err(Unsupported) };
    let data = e.read(src);
    match src.size() {
        1 => a64!(e.ops; crc32cb W(host), W(host), W(data)),
        2 => a64!(e.ops; crc32ch W(host), W(host), W(data)),
        4 => a64!(e.ops; crc32cw W(host), W(host), W(data)),
        8 => a64!(e.ops; crc32cx W(host), W(host), X(data)),
        _ => return Err(Unsupported),
    }
    Ok(Flow::Next)
}
