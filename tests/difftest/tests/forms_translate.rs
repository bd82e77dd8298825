//! Every instance the generator builds must translate without panicking
//! (the trial translation behind `is_supported` runs for each).

use iced_x86::Code;
use transit_difftest::generate::instance;
use transit_difftest::rng::Rng;
use transit_translator::translate::is_supported;

#[test]
fn generated_instances_translate() {
    let mut rng = Rng::new(42);
    for code in Code::values() {
        let info = code.op_code();
        if !info.is_instruction() || !info.mode64() {
            continue;
        }
        for _ in 0..64 {
            if let Some(insn) = instance(&mut rng, code) {
                let ok = std::panic::catch_unwind(|| is_supported(&insn));
                assert!(ok.is_ok(), "translating {insn} ({code:?}) panicked");
            }
        }
    }
}
