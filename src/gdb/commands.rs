//! gdb's requests while a thread is stopped, answered from its state.

use super::packet::{from_hex, parse_hex, to_hex};
use super::target;
use transit_translator::dispatch::Resume;
use transit_translator::frontend::probe;
use transit_translator::{CpuState, Translator};

/// The stopped thread a request is about.
pub struct Stopped<'a> {
    pub state: &'a mut CpuState,
    pub translator: &'a mut Translator,
    pub tid: u64,
    /// The stop reply (`?` repeats it).
    pub reply: &'a [u8],
    /// The program's auxiliary vector, as /proc/PID/auxv has it (gdb finds
    /// where a PIE was loaded from AT_ENTRY and AT_PHDR).
    pub auxv: &'a [u8],
}

/// What to do after a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    Reply(Vec<u8>),
    /// Resume the thread; with the signal gdb passes to it (`C`, `S`).
    Resume { how: Resume, signal: Option<i32> },
    /// `QStartNoAckMode`: reply OK, then no acknowledgements.
    NoAck,
    Kill,
    /// Reply OK, forget the breakpoints, let the program run on.
    Detach,
}

fn reply(text: &[u8]) -> Action {
    Action::Reply(text.to_vec())
}

/// "E14": EFAULT, as gdbserver answers a memory access it cannot do.
const EFAULT: &[u8] = b"E14";
const INVALID: &[u8] = b"E01";
/// Longest `m` gdb may ask for (it reads PacketSize/2 bytes at most).
const PACKET_SIZE: usize = 0x4000;

pub fn handle(packet: &[u8], t: &mut Stopped) -> Action {
    let (head, rest) = packet.split_at(1.min(packet.len()));
    match head {
        b"?" => Action::Reply(t.reply.to_vec()),
        b"g" => {
            let regs: Vec<u8> = (0..target::register_count()).flat_map(|n| target::read_register(t.state, n).unwrap_or_default()).collect();
            Action::Reply(to_hex(&regs))
        }
        b"G" => reply(if write_all_registers(t.state, rest) { b"OK" } else { INVALID }),
        b"p" => match parse_hex(rest).and_then(|n| target::read_register(t.state, n as usize)) {
            Some(bytes) => Action::Reply(to_hex(&bytes)),
            None => reply(INVALID),
        },
        b"P" => {
            let ok = split_once(rest, b'=')
                .and_then(|(n, v)| Some((parse_hex(n)?, from_hex(v)?)))
                .is_some_and(|(n, v)| target::write_register(t.state, n as usize, &v));
            reply(if ok { b"OK" } else { INVALID })
        }
        b"m" => match address_and_length(rest) {
            Some((addr, len)) if len <= PACKET_SIZE / 2 => match read_memory(addr, len) {
                Some(bytes) => Action::Reply(to_hex(&bytes)),
                None => reply(EFAULT),
            },
            _ => reply(INVALID),
        },
        b"M" => {
            let parsed = split_once(rest, b':').and_then(|(range, data)| Some((address_and_length(range)?, from_hex(data)?)));
            match parsed {
                Some(((addr, len), data)) if data.len() == len => reply(if write_memory(addr, &data) { b"OK" } else { EFAULT }),
                _ => reply(INVALID),
            }
        }
        b"Z" | b"z" => breakpoint(head == b"Z", rest, t),
        b"c" => resume_at(rest, t, Resume::Continue, None),
        b"s" => resume_at(rest, t, Resume::Step, None),
        b"C" | b"S" => {
            let how = if head == b"C" { Resume::Continue } else { Resume::Step };
            let (sig, addr) = split_once(rest, b';').unwrap_or((rest, b""));
            match parse_hex(sig) {
                Some(sig) => resume_at(addr, t, how, (sig != 0).then_some(sig as i32)),
                None => reply(INVALID),
            }
        }
        b"v" => v_packet(packet, t),
        b"H" => reply(b"OK"),
        b"T" => reply(if parse_hex(rest) == Some(t.tid) { b"OK" } else { INVALID }),
        b"k" => Action::Kill,
        b"D" => Action::Detach,
        b"q" | b"Q" => query(packet, t),
        // Unsupported requests get the empty reply.
        _ => reply(b""),
    }
}

fn query(packet: &[u8], t: &Stopped) -> Action {
    let tid = format!("{:x}", t.tid);
    if packet.starts_with(b"qSupported") {
        return reply(format!("PacketSize={PACKET_SIZE:x};qXfer:features:read+;qXfer:auxv:read+;swbreak+;vContSupported+;QStartNoAckMode+").as_bytes());
    }
    if let Some(annex) = packet.strip_prefix(b"qXfer:features:read:") {
        return match split_once(annex, b':') {
            Some((b"target.xml", range)) => xfer(target::target_xml().as_bytes(), range),
            _ => reply(b"E00"),
        };
    }
    if let Some(range) = packet.strip_prefix(b"qXfer:auxv:read::") {
        return xfer(t.auxv, range);
    }
    match packet {
        b"QStartNoAckMode" => Action::NoAck,
        // Transit started the program before gdb came: quitting gdb detaches.
        b"qAttached" => reply(b"1"),
        b"qC" => reply(format!("QC{tid}").as_bytes()),
        b"qfThreadInfo" => reply(format!("m{tid}").as_bytes()),
        b"qsThreadInfo" => reply(b"l"),
        _ => reply(b""),
    }
}

/// A `qXfer` read of `OFFSET,LENGTH` from `object`: `m` and a part, or
/// `l` and the last part.
fn xfer(object: &[u8], range: &[u8]) -> Action {
    let Some((offset, length)) = address_and_length(range) else { return reply(INVALID) };
    let start = (offset as usize).min(object.len());
    let end = start.saturating_add(length).min(object.len());
    let mut out = vec![if end == object.len() { b'l' } else { b'm' }];
    out.extend_from_slice(&object[start..end]);
    Action::Reply(out)
}

/// `vCont?` and `vCont;ACTION[:TID]...`: this thread takes the action that
/// names it, or else the default one (all-stop: the others are not held).
fn v_packet(packet: &[u8], t: &mut Stopped) -> Action {
    if packet == b"vCont?" {
        return reply(b"vCont;c;C;s;S");
    }
    let Some(actions) = packet.strip_prefix(b"vCont;") else {
        // vMustReplyEmpty and the rest.
        return reply(b"");
    };
    let mut chosen: Option<&[u8]> = None;
    for action in actions.split(|&b| b == b';') {
        match split_once(action, b':') {
            Some((a, tid)) if parse_hex(tid) == Some(t.tid) || tid == b"-1" => {
                chosen = Some(a);
                break;
            }
            Some(_) => {}
            None => {
                chosen.get_or_insert(action);
            }
        }
    }
    let Some(action) = chosen else { return reply(INVALID) };
    let signal = parse_hex(action.get(1..).unwrap_or_default()).map(|s| s as i32).filter(|&s| s != 0);
    match action.first() {
        Some(b'c') => Action::Resume { how: Resume::Continue, signal: None },
        Some(b's') => Action::Resume { how: Resume::Step, signal: None },
        Some(b'C') => Action::Resume { how: Resume::Continue, signal },
        Some(b'S') => Action::Resume { how: Resume::Step, signal },
        _ => reply(b""),
    }
}

/// `c [ADDR]`, `s [ADDR]`: resume, at ADDR if given.
fn resume_at(addr: &[u8], t: &mut Stopped, how: Resume, signal: Option<i32>) -> Action {
    if !addr.is_empty() {
        match parse_hex(addr) {
            Some(a) => t.state.rip = a,
            None => return reply(INVALID),
        }
    }
    Action::Resume { how, signal }
}

/// `Z0,ADDR,KIND` / `z0,ADDR,KIND`: software breakpoints (no guest memory
/// changes: translation stops at them). Other kinds are unsupported.
fn breakpoint(insert: bool, rest: &[u8], t: &mut Stopped) -> Action {
    let mut fields = rest.split(|&b| b == b',');
    let (Some(b"0"), Some(addr)) = (fields.next(), fields.next().and_then(parse_hex)) else { return reply(b"") };
    if insert {
        t.translator.insert_breakpoint(addr);
    } else {
        t.translator.remove_breakpoint(addr);
    }
    reply(b"OK")
}

fn write_all_registers(state: &mut CpuState, hex: &[u8]) -> bool {
    let Some(bytes) = from_hex(hex) else { return false };
    let mut new = state.clone();
    let mut at = 0;
    for n in 0..target::register_count() {
        let width = target::read_register(state, n).map_or(0, |v| v.len());
        let Some(value) = bytes.get(at..at + width) else { break };
        // Registers gdb may not change pass when it sends them unchanged.
        if !target::write_register(&mut new, n, value) {
            return false;
        }
        at += width;
    }
    *state = new;
    true
}

/// Reads guest memory, every page probed first: a bad address is the
/// reply E14, never a fault in Transit.
fn read_memory(addr: u64, len: usize) -> Option<Vec<u8>> {
    pages_accessible(addr, len, false)?;
    // SAFETY: every page of the range was just probed readable.
    Some(unsafe { std::slice::from_raw_parts(addr as *const u8, len) }.to_vec())
}

fn write_memory(addr: u64, data: &[u8]) -> bool {
    if pages_accessible(addr, data.len(), true).is_none() {
        return false;
    }
    // SAFETY: every page of the range was just probed writable; the guest
    // thread is stopped (another one may race, as with ptrace).
    unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), addr as *mut u8, data.len()) };
    // Code there may have been translated.
    transit_translator::cache::code_watch::code_changed(addr, data.len() as u64);
    true
}

fn pages_accessible(addr: u64, len: usize, write: bool) -> Option<()> {
    if len == 0 {
        return Some(());
    }
    let end = addr.checked_add(len as u64)?;
    let mut at = addr;
    while at < end {
        probe::check(at, 1, write).ok()?;
        at = (at | 0xfff) + 1;
    }
    Some(())
}

fn address_and_length(text: &[u8]) -> Option<(u64, usize)> {
    let (addr, len) = split_once(text, b',')?;
    Some((parse_hex(addr)?, parse_hex(len)? as usize))
}

fn split_once(text: &[u8], sep: u8) -> Option<(&[u8], &[u8])> {
    let at = text.iter().position(|&b| b == sep)?;
    Some((&text[..at], &text[at + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use transit_translator::exit::debug_stops;

    fn with_stopped(f: impl FnOnce(&mut Stopped)) {
        let mut state = CpuState::default();
        let mut translator = Translator::new().expect("a code cache");
        let mut t = Stopped { state: &mut state, translator: &mut translator, tid: 0x2a, reply: b"T05thread:2a;", auxv: b"\x06\0\0\0\0\0\0\0" };
        f(&mut t);
    }

    fn text(action: Action) -> Vec<u8> {
        match action {
            Action::Reply(text) => text,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn vcont_takes_the_action_naming_this_thread_else_the_default() {
        with_stopped(|t| {
            let step = Action::Resume { how: Resume::Step, signal: None };
            let cont = Action::Resume { how: Resume::Continue, signal: None };
            assert_eq!(handle(b"vCont;s:2a;c", t), step);
            assert_eq!(handle(b"vCont;s:99;c", t), cont);
            assert_eq!(handle(b"vCont;C0b:2a", t), Action::Resume { how: Resume::Continue, signal: Some(11) });
            assert_eq!(handle(b"vCont;c", t), cont);
            assert_eq!(text(handle(b"vCont?", t)), b"vCont;c;C;s;S");
        });
    }

    #[test]
    fn queries_threads_stop_reply_and_objects_in_parts() {
        with_stopped(|t| {
            assert_eq!(text(handle(b"?", t)), b"T05thread:2a;");
            assert_eq!(text(handle(b"qfThreadInfo", t)), b"m2a");
            assert_eq!(text(handle(b"qsThreadInfo", t)), b"l");
            assert_eq!(text(handle(b"qC", t)), b"QC2a");
            assert_eq!(text(handle(b"qXfer:auxv:read::0,4", t)), b"m\x06\0\0\0");
            assert_eq!(text(handle(b"qXfer:auxv:read::4,100", t)), b"l\0\0\0\0");
            let xml = text(handle(b"qXfer:features:read:target.xml:0,ffff", t));
            assert!(xml.starts_with(b"l<?xml") && xml.ends_with(b"</target>"));
            assert_eq!(text(handle(b"qUnknownThing", t)), b"");
        });
    }

    #[test]
    fn registers_by_number_and_breakpoints_by_address() {
        with_stopped(|t| {
            t.state.rip = 0x401000;
            assert_eq!(text(handle(b"p10", t)), b"0010400000000000");
            assert_eq!(text(handle(b"P0=efbeadde00000000", t)), b"OK");
            assert_eq!(t.state.gpr[0], 0xdead_beef);
            assert_eq!(text(handle(b"p999", t)), INVALID);
            debug_stops::set_attached(true);
            assert_eq!(text(handle(b"Z0,401234,1", t)), b"OK");
            assert!(debug_stops::contains(0x401234));
            assert_eq!(text(handle(b"z0,401234,1", t)), b"OK");
            assert!(!debug_stops::contains(0x401234));
            assert_eq!(text(handle(b"Z2,401234,8", t)), b"", "watchpoints are not supported");
            debug_stops::set_attached(false);
        });
    }
}
