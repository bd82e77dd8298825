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
    use super::repository;

    #[test]
    fn repository_names() {
        assert_eq!(repository("/v2/library/alpine/manifests/latest"), Some("library/alpine"));
        assert_eq!(repository("/v2/a/blobs/uploads/x/blobs/sha256:1"), Some("a/blobs/uploads/x"));
        assert_eq!(repository("/v2/team/app/tags/list?n=10"), Some("team/app"));
        assert_eq!(repository("/v2/"), None);
        assert_eq!(repository("/v2/_catalog"), None);
    }
}
