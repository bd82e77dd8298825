//! The HTTP side: the distribution API routes a pulling client uses, one
//! thread per request, behind `listener`. Manifests named by tag go
//! through `select`; everything else is relayed by `proxy`.

use super::config::Config;
use super::listener::{self, Listener};
use super::proxy::{self, Buffered};
use super::select::{self, Selection, Why};
use super::upstream::{Unreachable, Upstream};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub struct Server {
    listener: Listener,
    http: tiny_http::Server,
    mirror: Arc<Mirror>,
}

struct Mirror {
    config: Config,
    /// By upstream URL, so each keeps its tokens and connections.
    upstreams: Mutex<HashMap<String, Arc<Upstream>>>,
}

impl Server {
    pub fn bind(config: Config) -> Result<Server, String> {
        let cannot_listen = |e: &dyn std::fmt::Display| format!("cannot listen on {}: {e}", config.listen);
        let (listener, backend) = listener::bind(config.listen).map_err(|e| cannot_listen(&e))?;
        let http = tiny_http::Server::from_listener(backend, None).map_err(|e| cannot_listen(&e))?;
        Ok(Server { listener, http, mirror: Arc::new(Mirror { config, upstreams: Mutex::new(HashMap::new()) }) })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr()
    }

    /// Serves until the process ends.
    pub fn run(self) {
        let Server { listener, http, mirror } = self;
        std::thread::spawn(move || listener.run());
        for request in http.incoming_requests() {
            let mirror = Arc::clone(&mirror);
            std::thread::spawn(move || mirror.handle(request));
        }
    }
}

/// What a request path asks for.
#[derive(Debug, PartialEq, Eq)]
enum Route<'a> {
    /// `/v2/`: the API version check.
    Base,
    Manifest { name: &'a str, reference: &'a str },
    /// Blobs, tag lists, referrers: relayed as they are.
    Other,
    NotFound,
}

fn route(path: &str) -> Route<'_> {
    if path == "/v2" || path == "/v2/" {
        return Route::Base;
    }
    let Some(rest) = path.strip_prefix("/v2/") else { return Route::NotFound };
    match rest.rsplit_once("/manifests/") {
        Some((name, reference)) if !name.is_empty() && !reference.is_empty() && !reference.contains('/') => {
            Route::Manifest { name, reference }
        }
        _ => Route::Other,
    }
}

/// Splits containerd's `ns=HOST` (the registry a mirror request is for,
/// see containerd's docs/hosts.md) off the query; the rest goes upstream.
fn split_ns(query: &str) -> (Option<String>, String) {
    let mut ns = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.strip_prefix("ns=") {
            Some(host) => {
                ns = Some(percent_decode(host));
                false
            }
            None => !pair.is_empty(),
        })
        .collect();
    (ns, rest.join("&"))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Mirror {
    fn upstream(&self, ns: Option<&str>) -> Arc<Upstream> {
        let registry = self.config.registry(ns);
        let mut upstreams = self.upstreams.lock().unwrap();
        Arc::clone(upstreams.entry(registry.url.clone()).or_insert_with(|| Arc::new(Upstream::new(registry))))
    }

    fn handle(&self, request: tiny_http::Request) {
        let url = request.url().to_string();
        let (path, query) = url.split_once('?').unwrap_or((&url, ""));
        let (ns, query) = split_ns(query);
        let path_and_query = if query.is_empty() { path.to_string() } else { format!("{path}?{query}") };
        let method = request.method().clone();
        tracing::debug!(%method, url, "request");
        let head = match method {
            tiny_http::Method::Get => false,
            tiny_http::Method::Head => true,
            _ => return proxy::error(request, 405, "UNSUPPORTED", "transit mirror only serves pulls"),
        };
        match route(path) {
            Route::Base => proxy::Buffered { status: 200, headers: json(), body: b"{}".to_vec() }.send(request),
            Route::NotFound => proxy::error(request, 404, "NOT_FOUND", "not a distribution API path"),
            Route::Manifest { name, reference } if !reference.contains(':') => {
                let upstream = self.upstream(ns.as_deref());
                self.manifest_by_tag(request, &upstream, name, reference, &path_and_query)
            }
            Route::Manifest { .. } | Route::Other => {
                let upstream = self.upstream(ns.as_deref());
                let headers = proxy::request_headers(&request);
                match upstream.send(if head { "HEAD" } else { "GET" }, &path_and_query, &headers) {
                    Ok(response) => proxy::stream(request, response),
                    Err(e) => unreachable_upstream(request, e),
                }
            }
        }
    }

    /// A manifest named by tag: the upstream's, or the amd64 image manifest
    /// in place of an index without an entry for the clients' platform. A
    /// manifest named by digest is always relayed: a client checks that
    /// what it receives has the digest it asked for.
    fn manifest_by_tag(&self, request: tiny_http::Request, upstream: &Upstream, name: &str, tag: &str, path_and_query: &str) {
        let mut headers = proxy::request_headers(&request);
        if proxy::header(&headers, "accept").is_none() {
            proxy::set_header(&mut headers, "Accept", &select::accept_all());
        }
        // GET even for HEAD: the decision needs the body.
        let index = match upstream.send("GET", path_and_query, &headers).map(Buffered::read) {
            Ok(Ok(index)) => index,
            Ok(Err(e)) => return proxy::error(request, 502, "UNKNOWN", &format!("reading the manifest from {}: {e}", upstream.url())),
            Err(e) => return unreachable_upstream(request, e),
        };
        if index.status != 200 {
            return index.send(request);
        }
        let platform = &self.config.platform;
        let mut emulator = None;
        let selection = select::select(index.content_type(), &index.body, platform, || {
            emulator = self.config.binfmt_misc.x86_64_entry();
            emulator.is_some()
        });
        let entry = match selection {
            Selection::Amd64(entry) => entry,
            Selection::PassThrough(Why::NotEmulated) => {
                tracing::warn!(
                    upstream = upstream.url(),
                    "{name}:{tag} has linux/amd64 but no {platform} image, and no enabled entry in {} runs x86_64 programs: \
                     passing the index through (register Transit with `transit binfmt install`)",
                    self.config.binfmt_misc.dir().display()
                );
                return index.send(request);
            }
            Selection::PassThrough(_) => return index.send(request),
        };
        let path = format!("/v2/{name}/manifests/{}", entry.digest);
        proxy::set_header(&mut headers, "Accept", &format!("{}, {}", entry.media_type, select::accept_all()));
        let amd64 = match upstream.send("GET", &path, &headers).map(Buffered::read) {
            Ok(Ok(manifest)) if manifest.status == 200 => manifest,
            outcome => {
                let why = match outcome {
                    Ok(Ok(manifest)) => format!("status {}", manifest.status),
                    Ok(Err(e)) => e.to_string(),
                    Err(Unreachable(e)) => e,
                };
                tracing::warn!("{name}:{tag}: cannot fetch the linux/amd64 manifest {} ({why}): passing the index through", entry.digest);
                return index.send(request);
            }
        };
        let mut amd64 = amd64;
        if proxy::header(&amd64.headers, "docker-content-digest").is_none() {
            proxy::set_header(&mut amd64.headers, "Docker-Content-Digest", &entry.digest);
        }
        if amd64.content_type().is_empty() && !entry.media_type.is_empty() {
            proxy::set_header(&mut amd64.headers, "Content-Type", &entry.media_type);
        }
        let interpreter = emulator.map(|e| format!("{} ({})", e.name, e.interpreter)).unwrap_or_default();
        tracing::info!(
            upstream = upstream.url(),
            "{name}:{tag}: no {platform} image in the index, serving linux/amd64 {} instead (runs through binfmt_misc entry {interpreter})",
            entry.digest
        );
        amd64.send(request);
    }
}

fn json() -> proxy::Headers {
    vec![("Content-Type".to_string(), "application/json".to_string())]
}

fn unreachable_upstream(request: tiny_http::Request, Unreachable(why): Unreachable) {
    tracing::warn!("upstream unreachable: {why}");
    proxy::error(request, 502, "UNAVAILABLE", &format!("upstream unreachable: {why}"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route("/v2/"), Route::Base);
        assert_eq!(route("/v2"), Route::Base);
        assert_eq!(route("/v2/library/alpine/manifests/3.20"), Route::Manifest { name: "library/alpine", reference: "3.20" });
        assert_eq!(route("/v2/a/manifests/b/manifests/sha256:00"), Route::Manifest { name: "a/manifests/b", reference: "sha256:00" });
        assert_eq!(route("/v2/library/alpine/blobs/sha256:00"), Route::Other);
        assert_eq!(route("/v2/library/alpine/tags/list"), Route::Other);
        assert_eq!(route("/v1/x"), Route::NotFound);
    }

    #[test]
    fn ns_parameter() {
        assert_eq!(split_ns("ns=docker.io"), (Some("docker.io".to_string()), String::new()));
        assert_eq!(split_ns("n=10&ns=127.0.0.1%3A5000&last=a"), (Some("127.0.0.1:5000".to_string()), "n=10&last=a".to_string()));
        assert_eq!(split_ns(""), (None, String::new()));
    }
}
