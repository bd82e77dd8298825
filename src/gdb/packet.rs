//! The remote serial protocol's framing: `$payload#checksum`, the `+`/`-`
//! acknowledgements (until `QStartNoAckMode`), and hex encoding.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

/// What arrived from gdb.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    Packet(Vec<u8>),
    /// ^C (0x03) outside a packet: gdb asks to stop the program.
    Interrupt,
}

pub struct Connection {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    /// After `QStartNoAckMode`: no `+`/`-` either way.
    pub no_ack: bool,
}

impl Connection {
    pub fn new(stream: TcpStream) -> std::io::Result<Connection> {
        // Replies are small and a step waits for each: no Nagle delay.
        stream.set_nodelay(true)?;
        Ok(Connection { writer: stream.try_clone()?, reader: BufReader::new(stream), no_ack: false })
    }

    /// The next packet (acknowledged), or ^C. A packet with a wrong
    /// checksum is refused with `-`, and gdb sends it again.
    pub fn receive(&mut self) -> std::io::Result<Incoming> {
        loop {
            let mut byte = [0u8];
            self.reader.read_exact(&mut byte)?;
            match byte[0] {
                b'$' => {}
                0x03 => return Ok(Incoming::Interrupt),
                // Acknowledgements of our replies, and noise between packets.
                _ => continue,
            }
            let mut payload = Vec::new();
            self.reader.read_until(b'#', &mut payload)?;
            if payload.pop() != Some(b'#') {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            let mut sum = [0u8; 2];
            self.reader.read_exact(&mut sum)?;
            let good = parse_hex(&sum).is_some_and(|s| s == u64::from(checksum(&payload)));
            if !self.no_ack {
                self.writer.write_all(if good { b"+" } else { b"-" })?;
            }
            if good {
                return Ok(Incoming::Packet(payload));
            }
        }
    }

    /// Sends one packet, `payload` escaped as binary data must be; waits
    /// for gdb's `+` (resending on `-`) unless acknowledgements are off.
    pub fn send(&mut self, payload: &[u8]) -> std::io::Result<()> {
        let body = escape(payload);
        let mut frame = Vec::with_capacity(body.len() + 4);
        frame.push(b'$');
        frame.extend_from_slice(&body);
        frame.extend_from_slice(format!("#{:02x}", checksum(&body)).as_bytes());
        loop {
            self.writer.write_all(&frame)?;
            if self.no_ack {
                return Ok(());
            }
            loop {
                let mut byte = [0u8];
                self.reader.read_exact(&mut byte)?;
                match byte[0] {
                    b'+' => return Ok(()),
                    b'-' => break,
                    _ => {}
                }
            }
        }
    }
}

fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |s, &b| s.wrapping_add(b))
}

/// `}` then the byte XOR 0x20 for the protocol's special characters.
fn escape(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len());
    for &b in payload {
        if matches!(b, b'$' | b'#' | b'}' | b'*') {
            out.extend_from_slice(&[b'}', b ^ 0x20]);
        } else {
            out.push(b);
        }
    }
    out
}

/// A hex number as gdb writes addresses, lengths and register numbers.
pub fn parse_hex(text: &[u8]) -> Option<u64> {
    if text.is_empty() || text.len() > 16 {
        return None;
    }
    u64::from_str_radix(std::str::from_utf8(text).ok()?, 16).ok()
}

/// Bytes as two hex digits each (`m`, `g`, `p`).
pub fn to_hex(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().flat_map(|b| format!("{b:02x}").into_bytes()).collect()
}

/// The reverse of `to_hex`; `None` for an odd length or a non-hex digit.
pub fn from_hex(text: &[u8]) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.chunks(2).map(|pair| parse_hex(pair).map(|v| v as u8)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn hex_round_trips() {
        assert_eq!(to_hex(&[0x00, 0xab, 0x7f]), b"00ab7f");
        assert_eq!(from_hex(b"00ab7f").unwrap(), vec![0x00, 0xab, 0x7f]);
        assert_eq!(from_hex(b"0"), None);
        assert_eq!(parse_hex(b"401000"), Some(0x401000));
        assert_eq!(parse_hex(b"zz"), None);
    }

    #[test]
    fn frames_acknowledges_and_escapes() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut gdb = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let mut stub = Connection::new(listener.accept().unwrap().0).unwrap();
        // A bad checksum first: refused, then the good copy.
        gdb.write_all(b"+$g#00$g#67\x03").unwrap();
        assert_eq!(stub.receive().unwrap(), Incoming::Packet(b"g".to_vec()));
        assert_eq!(stub.receive().unwrap(), Incoming::Interrupt);
        let mut acks = [0u8; 2];
        gdb.read_exact(&mut acks).unwrap();
        assert_eq!(&acks, b"-+");
        gdb.write_all(b"+").unwrap();
        stub.send(b"a#b").unwrap();
        let mut frame = [0u8; 8];
        gdb.read_exact(&mut frame).unwrap();
        let sum = checksum(b"a}\x03b");
        assert_eq!(&frame[..], format!("$a}}\x03b#{sum:02x}").as_bytes());
    }
}
