//! The client side: requests to one upstream registry, authenticated as it
//! asks (see `auth`), with redirects followed (registries send blobs from
//! object stores and CDNs; credentials are not carried to another host).

use super::auth::{self, Challenge, Scheme, TokenResponse};
use super::config::Registry;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Upstream {
    registry: Registry,
    agent: ureq::Agent,
    /// `Authorization` values by repository ("" for `/v2/` itself): a
    /// bearer token's scope is one repository.
    authorizations: Mutex<HashMap<String, Authorization>>,
}

struct Authorization {
    header: String,
    expires: Instant,
}

/// Why an upstream could not be asked (no answer at all: an answer with an
/// error status is a `ureq::Response` like any other).
#[derive(Debug)]
pub struct Unreachable(pub String);

impl Upstream {
    pub fn new(registry: Registry) -> Upstream {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(15))
            .timeout_read(Duration::from_secs(120))
            .redirects(8)
            .redirect_auth_headers(ureq::RedirectAuthHeaders::SameHost)
            .user_agent(concat!("transit-mirror/", env!("CARGO_PKG_VERSION")))
            .build();
        Upstream { registry, agent, authorizations: Mutex::new(HashMap::new()) }
    }

    pub fn url(&self) -> &str {
        &self.registry.url
    }

    /// Sends `method path_and_query` (which starts with `/v2/`) with
    /// `headers`; on a 401 with a challenge it can answer, authenticates
    /// and sends it once more.
    pub fn send(&self, method: &str, path_and_query: &str, headers: &[(String, String)]) -> Result<ureq::Response, Unreachable> {
        let repository = repository(path_and_query).unwrap_or("").to_string();
        let url = format!("{}{}", self.registry.url, path_and_query);
        let cached = self.cached(&repository);
        let response = self.call(method, &url, headers, cached.as_deref())?;
        if response.status() != 401 {
            return Ok(response);
        }
        let Some(challenge) = response.header("www-authenticate").map(Challenge::parse) else { return Ok(response) };
        let Some((header, lifetime)) = self.answer(&challenge, &repository)? else { return Ok(response) };
        if Some(&header) == cached.as_ref() {
            return Ok(response);
        }
        tracing::debug!(upstream = %self.registry.url, repository, "authenticated");
        self.authorizations
            .lock()
            .unwrap()
            .insert(repository, Authorization { header: header.clone(), expires: Instant::now() + lifetime });
        self.call(method, &url, headers, Some(&header))
    }

    fn cached(&self, repository: &str) -> Option<String> {
        let mut authorizations = self.authorizations.lock().unwrap();
        match authorizations.get(repository) {
            Some(a) if a.expires > Instant::now() => Some(a.header.clone()),
            Some(_) => {
                authorizations.remove(repository);
                None
            }
            None => None,
        }
    }

    /// The `Authorization` value that answers `challenge`, and how long it
    /// may be reused; `None` if the mirror has nothing to answer with.
    fn answer(&self, challenge: &Challenge, repository: &str) -> Result<Option<(String, Duration)>, Unreachable> {
        match challenge.scheme {
            Scheme::Basic => Ok(self.registry.credentials.as_ref().map(|c| (auth::basic(c), Duration::from_secs(3600)))),
            Scheme::Bearer => {
                let Some(realm) = &challenge.realm else { return Ok(None) };
                let mut request = self.agent.get(realm);
                if let Some(service) = &challenge.service {
                    request = request.query("service", service);
                }
                let scope = challenge.scope.clone().or_else(|| (!repository.is_empty()).then(|| format!("repository:{repository}:pull")));
                if let Some(scope) = &scope {
                    request = request.query("scope", scope);
                }
                if let Some(credentials) = &self.registry.credentials {
                    request = request.set("Authorization", &auth::basic(credentials));
                }
                let answer = match request.call() {
                    Ok(response) => response,
                    Err(ureq::Error::Status(status, _)) => {
                        tracing::warn!(realm, status, "the token endpoint refused");
                        return Ok(None);
                    }
                    Err(e) => return Err(Unreachable(format!("token endpoint {realm}: {e}"))),
                };
                let token: TokenResponse = serde_json::from_reader(std::io::Read::take(answer.into_reader(), 1 << 20)).map_err(|e| Unreachable(format!("token endpoint {realm}: {e}")))?;
                // Docker's token spec: 60 s when the answer does not say;
                // renewed a little early so a pull does not race expiry.
                let lifetime = Duration::from_secs(token.expires_in.unwrap_or(60).saturating_sub(10).max(5));
                Ok(token.bearer().map(|header| (header, lifetime)))
            }
            Scheme::Other(_) => Ok(None),
        }
    }

    fn call(&self, method: &str, url: &str, headers: &[(String, String)], authorization: Option<&str>) -> Result<ureq::Response, Unreachable> {
        let mut request = self.agent.request(method, url);
        for (name, value) in headers {
            request = request.set(name, value);
        }
        if let Some(authorization) = authorization {
            request = request.set("Authorization", authorization);
        }
        match request.call() {
            Ok(response) | Err(ureq::Error::Status(_, response)) => Ok(response),
            Err(e) => Err(Unreachable(format!("{url}: {e}"))),
        }
    }
}

/// The repository a distribution API path is about: `library/alpine` in
/// `/v2/library/alpine/manifests/latest`.
pub fn repository(path_and_query: &str) -> Option<&str> {
    let path = path_and_query.split('?').next()?.strip_prefix("/v2/")?;
    ["/manifests/", "/blobs/", "/tags/", "/referrers/"]
        .iter()
        .filter_map(|marker| path.rfind(marker).map(|at| &path[..at]))
        .max_by_key(|name| name.len())
        .filter(|name| !name.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mirror::config::Credentials;
    use std::io::Read;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    fn header(request: &tiny_http::Request, name: &'static str) -> Option<String> {
        request.headers().iter().find(|h| h.field.equiv(name)).map(|h| h.value.to_string())
    }

    fn answer(request: tiny_http::Request, status: u16, headers: &[(&str, &str)], body: &str) {
        let mut response = tiny_http::Response::from_string(body).with_status_code(status);
        for (name, value) in headers {
            response.add_header(tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap());
        }
        request.respond(response).unwrap();
    }

    /// A registry as Docker Hub behaves: a 401 with a bearer challenge, a
    /// token server that wants the configured credentials, blobs redirected
    /// to a store that rejects credentials (as presigned S3 URLs do).
    fn fake_registry(tokens_issued: Arc<AtomicUsize>) -> String {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let url = format!("http://{}", server.server_addr().to_ip().unwrap());
        let base = url.clone();
        std::thread::spawn(move || {
            for request in server.incoming_requests() {
                let path = request.url().to_string();
                let authorization = header(&request, "authorization");
                if path.starts_with("/token?") {
                    assert!(path.contains("service=fake") && path.contains("scope=repository%3Ateam%2Fapp%3Apull"), "{path}");
                    if authorization.as_deref() == Some("Basic bWU6c2VjcmV0") {
                        tokens_issued.fetch_add(1, Ordering::SeqCst);
                        answer(request, 200, &[], r#"{"token":"t1","expires_in":300}"#);
                    } else {
                        answer(request, 401, &[], "");
                    }
                } else if path.starts_with("/v2/team/app/") {
                    if authorization.as_deref() != Some("Bearer t1") {
                        let challenge = format!(r#"Bearer realm="{base}/token",service="fake",scope="repository:team/app:pull""#);
                        answer(request, 401, &[("WWW-Authenticate", &challenge)], "");
                    } else {
                        // Another host name for the same server: a CDN.
                        let store = base.replace("127.0.0.1", "localhost");
                        answer(request, 307, &[("Location", &format!("{store}/store/blob"))], "");
                    }
                } else if path == "/store/blob" {
                    let status = if authorization.is_some() { 400 } else { 200 };
                    answer(request, status, &[], "blob bytes");
                } else if path.starts_with("/v2/basic/") {
                    match authorization.as_deref() {
                        Some("Basic bWU6c2VjcmV0") => answer(request, 200, &[], "basic ok"),
                        _ => answer(request, 401, &[("WWW-Authenticate", r#"Basic realm="fake""#)], ""),
                    }
                } else {
                    answer(request, 404, &[], "");
                }
            }
        });
        url
    }

    fn body(response: ureq::Response) -> String {
        let mut text = String::new();
        response.into_reader().read_to_string(&mut text).unwrap();
        text
    }

    #[test]
    fn authenticates_as_the_upstream_asks_and_follows_redirects() {
        let tokens = Arc::new(AtomicUsize::new(0));
        let url = fake_registry(Arc::clone(&tokens));
        let credentials = Some(Credentials { username: "me".into(), password: "secret".into() });
        let upstream = Upstream::new(Registry { url: url.clone(), credentials });
        for _ in 0..2 {
            let response = upstream.send("GET", "/v2/team/app/blobs/sha256:00", &[]).unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(body(response), "blob bytes");
        }
        assert_eq!(tokens.load(Ordering::SeqCst), 1, "the token is reused");
        let response = upstream.send("GET", "/v2/basic/manifests/1", &[]).unwrap();
        assert_eq!((response.status(), body(response)), (200, "basic ok".to_string()));

        // Without credentials the token server refuses: the 401 is the answer.
        let anonymous = Upstream::new(Registry { url, credentials: None });
        assert_eq!(anonymous.send("GET", "/v2/team/app/blobs/sha256:00", &[]).unwrap().status(), 401);
        assert_eq!(anonymous.send("GET", "/v2/basic/manifests/1", &[]).unwrap().status(), 401);
    }

    #[test]
    fn repository_names() {
        assert_eq!(repository("/v2/library/alpine/manifests/latest"), Some("library/alpine"));
        assert_eq!(repository("/v2/a/blobs/uploads/x/blobs/sha256:1"), Some("a/blobs/uploads/x"));
        assert_eq!(repository("/v2/team/app/tags/list?n=10"), Some("team/app"));
        assert_eq!(repository("/v2/"), None);
        assert_eq!(repository("/v2/_catalog"), None);
    }
}
