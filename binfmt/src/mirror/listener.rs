//! The TCP socket clients connect to, in front of tiny_http.
//!
//! Clients told that a mirror is `insecure` (containers/image: podman,
//! skopeo, buildah, CRI-O) try TLS first and fall back to plain HTTP only
//! when the handshake fails. tiny_http reads a TLS ClientHello as the start
//! of a request line that never ends, so each pull waited for the client's
//! handshake timeout (10 s). Here a connection whose first byte opens a TLS
//! handshake record is answered with a fatal TLS alert and closed at once;
//! every other one is relayed to tiny_http, which listens on a private
//! abstract Unix socket (it only serves connections it accepts itself).

use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr as UnixAddr, UnixListener, UnixStream};
use std::time::Duration;

/// A TLS record's first byte, content type handshake (RFC 8446, 5.1).
const TLS_HANDSHAKE: u8 = 0x16;
/// A TLS record: alert, version 3.1 (what every TLS version accepts in a
/// first record), length 2, fatal, handshake_failure.
const TLS_ALERT: [u8; 7] = [0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 40];
/// How long a refused TLS client has to close its side.
const DRAIN: Duration = Duration::from_secs(5);
/// How long a new connection may keep its first byte: a client that never
/// writes must not keep a thread forever.
const FIRST_BYTE: Duration = Duration::from_secs(30);

pub struct Listener {
    tcp: TcpListener,
    backend: UnixAddr,
}

/// Binds `addr` and the Unix socket tiny_http is to serve.
pub fn bind(addr: SocketAddr) -> io::Result<(Listener, UnixListener)> {
    let tcp = TcpListener::bind(addr)?;
    // Unique on this network namespace, as the bound TCP address is; the pid
    // keeps another user from taking the name before the mirror starts.
    let name = format!("transit-mirror {} {}", std::process::id(), tcp.local_addr()?);
    let backend = UnixAddr::from_abstract_name(name)?;
    let unix = UnixListener::bind_addr(&backend)?;
    Ok((Listener { tcp, backend }, unix))
}

impl Listener {
    pub fn local_addr(&self) -> SocketAddr {
        self.tcp.local_addr().expect("a bound TCP socket has an address")
    }

    /// Accepts until the process ends, a thread per connection: the first
    /// byte may be long in coming.
    pub fn run(self) {
        for client in self.tcp.incoming() {
            match client {
                Ok(client) => {
                    let backend = self.backend.clone();
                    std::thread::spawn(move || {
                        if let Err(e) = serve(client, &backend) {
                            tracing::debug!("connection ended: {e}");
                        }
                    });
                }
                Err(e) => tracing::warn!("accept: {e}"),
            }
        }
    }
}

fn serve(client: TcpStream, backend: &UnixAddr) -> io::Result<()> {
    let mut first = [0u8];
    client.set_read_timeout(Some(FIRST_BYTE))?;
    if client.peek(&mut first)? == 0 {
        return Ok(());
    }
    if first[0] == TLS_HANDSHAKE {
        tracing::debug!(peer = %client.peer_addr()?, "TLS handshake on the plain HTTP mirror: refused");
        (&client).write_all(&TLS_ALERT)?;
        client.shutdown(Shutdown::Write)?;
        // Closing with the hello unread would reset the connection, and a
        // reset can discard the alert before the client reads it: read
        // until the client, alerted, closes.
        client.set_read_timeout(Some(DRAIN))?;
        return io::copy(&mut &client, &mut io::sink()).map(drop);
    }
    // Requests stream as slowly as their clients send them (blob uploads are
    // refused, but a pull may pause): tiny_http decides when one is too slow.
    client.set_read_timeout(None)?;
    relay(client, UnixStream::connect_addr(backend)?)
}

/// Copies both ways until tiny_http closes its side.
fn relay(client: TcpStream, server: UnixStream) -> io::Result<()> {
    // Chunks go out as tiny_http wrote them, not held back for an ACK.
    client.set_nodelay(true)?;
    let (from_client, to_server) = (client.try_clone()?, server.try_clone()?);
    let requests = std::thread::spawn(move || {
        let _ = io::copy(&mut &from_client, &mut &to_server);
        let _ = to_server.shutdown(Shutdown::Write);
    });
    let result = io::copy(&mut &server, &mut &client);
    // Also ends the copy of requests: nothing reads them any more.
    let _ = client.shutdown(Shutdown::Both);
    let _ = requests.join();
    result.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// A listener in front of a backend that answers each connection with
    /// what it read up to the first blank line, then closes.
    fn echoing() -> SocketAddr {
        let (listener, unix) = bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr();
        std::thread::spawn(move || listener.run());
        std::thread::spawn(move || {
            for stream in unix.incoming() {
                let mut stream = stream.unwrap();
                let mut request = Vec::new();
                let mut byte = [0u8];
                while !request.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap() == 1 {
                    request.push(byte[0]);
                }
                stream.write_all(&request).unwrap();
            }
        });
        addr
    }

    #[test]
    fn a_tls_hello_gets_an_alert_at_once() {
        let mut client = TcpStream::connect(echoing()).unwrap();
        client.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        // The start of a ClientHello: handshake record, TLS 1.0, length.
        client.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]).unwrap();
        let mut answer = Vec::new();
        client.read_to_end(&mut answer).expect("closed, not left waiting");
        assert_eq!(answer, TLS_ALERT);
    }

    #[test]
    fn plain_http_is_relayed_both_ways() {
        let mut client = TcpStream::connect(echoing()).unwrap();
        client.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let request = b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n";
        client.write_all(request).unwrap();
        let mut answer = Vec::new();
        client.read_to_end(&mut answer).expect("the backend's answer, then the end");
        assert_eq!(answer, request);
    }
}
