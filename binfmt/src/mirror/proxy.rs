//! Relaying between the client and an upstream: which headers cross, and
//! answers sent with their bodies streamed (blobs never sit in memory).

use std::io::{Cursor, Read};

/// Client request headers that mean something to the upstream. Host,
/// credentials and connection management are the mirror's own business.
const FORWARDED_REQUEST_HEADERS: &[&str] =
    &["accept", "range", "if-none-match", "if-match", "if-modified-since", "if-range", "user-agent"];

/// Upstream response headers that stay behind: hop-by-hop ones, the body
/// length (tiny_http writes its own), and upstream auth challenges, which
/// would send the client to a token server the mirror does not honour.
const DROPPED_RESPONSE_HEADERS: &[&str] = &[
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authenticate",
    "proxy-connection",
    "content-length",
    "www-authenticate",
    "date",
    "server",
];

/// The largest manifest the mirror reads into memory (Distribution's own
/// limit for manifests it accepts).
pub const MANIFEST_LIMIT: u64 = 4 << 20;

pub type Headers = Vec<(String, String)>;

pub fn request_headers(request: &tiny_http::Request) -> Headers {
    let mut headers = Headers::new();
    for header in request.headers() {
        let Some(name) = FORWARDED_REQUEST_HEADERS.iter().find(|name| header.field.equiv(name)) else { continue };
        let value = header.value.as_str();
        // Go clients send one Accept line per media type: one list upstream.
        match headers.iter_mut().find(|(n, _)| n == name) {
            Some((_, values)) => {
                values.push_str(", ");
                values.push_str(value);
            }
            None => headers.push((name.to_string(), value.to_string())),
        }
    }
    headers
}

/// The headers of an upstream response that the client receives.
pub fn response_headers(response: &ureq::Response) -> Headers {
    let mut headers = Headers::new();
    for name in response.headers_names() {
        if DROPPED_RESPONSE_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            continue;
        }
        for value in response.all(&name) {
            headers.push((name.clone(), value.to_string()));
        }
    }
    headers
}

pub fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

pub fn set_header(headers: &mut Headers, name: &str, value: &str) {
    headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    headers.push((name.to_string(), value.to_string()));
}

/// A whole (small) upstream answer: a manifest.
pub struct Buffered {
    pub status: u16,
    pub headers: Headers,
    pub body: Vec<u8>,
}

impl Buffered {
    pub fn read(response: ureq::Response) -> std::io::Result<Buffered> {
        let status = response.status();
        let headers = response_headers(&response);
        let mut body = Vec::new();
        response.into_reader().take(MANIFEST_LIMIT + 1).read_to_end(&mut body)?;
        if body.len() as u64 > MANIFEST_LIMIT {
            return Err(std::io::Error::other(format!("a manifest larger than {MANIFEST_LIMIT} bytes")));
        }
        Ok(Buffered { status, headers, body })
    }

    pub fn content_type(&self) -> &str {
        header(&self.headers, "content-type").unwrap_or("")
    }

    pub fn send(self, request: tiny_http::Request) {
        let length = self.body.len();
        send(request, self.status, self.headers, Cursor::new(self.body), Some(length));
    }
}

/// Relays an upstream answer as it arrives.
pub fn stream(request: tiny_http::Request, response: ureq::Response) {
    let status = response.status();
    let headers = response_headers(&response);
    let length = response.header("content-length").and_then(|v| v.trim().parse().ok());
    send(request, status, headers, response.into_reader(), length);
}

/// An error in the distribution API's format (its spec, "Error codes").
pub fn error(request: tiny_http::Request, status: u16, code: &str, message: &str) {
    let body = serde_json::json!({ "errors": [{ "code": code, "message": message }] }).to_string().into_bytes();
    let headers = vec![("Content-Type".to_string(), "application/json".to_string())];
    let length = body.len();
    send(request, status, headers, Cursor::new(body), Some(length));
}

fn send(request: tiny_http::Request, status: u16, headers: Headers, body: impl Read, length: Option<usize>) {
    let headers = headers
        .into_iter()
        .chain([("Docker-Distribution-API-Version".to_string(), "registry/2.0".to_string())])
        .filter_map(|(name, value)| tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).ok());
    let mut unique: Vec<tiny_http::Header> = Vec::new();
    for header in headers {
        if !unique.iter().any(|h| h.field == header.field) || !header.field.equiv("Docker-Distribution-API-Version") {
            unique.push(header);
        }
    }
    // A known length is always sent as Content-Length (tiny_http would
    // otherwise switch large bodies to chunked encoding): clients compare
    // it with the descriptor's size, and HEAD answers need it.
    let response = tiny_http::Response::new(tiny_http::StatusCode(status), unique, body, length, None)
        .with_chunked_threshold(usize::MAX);
    if let Err(e) = request.respond(response) {
        tracing::debug!("client went away: {e}");
    }
}
