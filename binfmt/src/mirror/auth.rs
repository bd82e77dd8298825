//! Registry authentication as upstreams ask for it: a `WWW-Authenticate`
//! challenge on a 401, answered with a bearer token from the challenge's
//! realm (the Docker token protocol, anonymous unless credentials are
//! configured) or with basic credentials.

use super::config::Credentials;
use base64::Engine as _;

/// A parsed `WWW-Authenticate` header (RFC 7235 auth-params).
#[derive(Debug, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: Scheme,
    pub realm: Option<String>,
    pub service: Option<String>,
    pub scope: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Scheme {
    Bearer,
    Basic,
    Other(String),
}

impl Challenge {
    pub fn parse(header: &str) -> Challenge {
        let header = header.trim();
        let (scheme, mut rest) = header.split_once(' ').unwrap_or((header, ""));
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "bearer" => Scheme::Bearer,
            "basic" => Scheme::Basic,
            other => Scheme::Other(other.to_string()),
        };
        let mut challenge = Challenge { scheme, realm: None, service: None, scope: None };
        // key=value or key="quoted, value", separated by commas.
        loop {
            rest = rest.trim_start_matches([' ', ',']);
            let Some((key, after)) = rest.split_once('=') else { break };
            let (value, after) = match after.strip_prefix('"') {
                Some(quoted) => {
                    let end = quoted.find('"').unwrap_or(quoted.len());
                    (&quoted[..end], quoted.get(end + 1..).unwrap_or(""))
                }
                None => after.split_once(',').unwrap_or((after, "")),
            };
            let value = Some(value.trim().to_string());
            match key.trim().to_ascii_lowercase().as_str() {
                "realm" => challenge.realm = value,
                "service" => challenge.service = value,
                "scope" => challenge.scope = value,
                _ => {}
            }
            rest = after;
        }
        challenge
    }
}

/// The `Authorization` value for basic credentials.
pub fn basic(credentials: &Credentials) -> String {
    let pair = format!("{}:{}", credentials.username, credentials.password);
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
}

/// A token endpoint's answer (Docker's token spec names it `token`, OAuth
/// `access_token`; registries send either or both).
#[derive(serde::Deserialize)]
pub struct TokenResponse {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub access_token: Option<String>,
    #[serde(default)]
    pub expires_in: Option<u64>,
}

impl TokenResponse {
    pub fn bearer(&self) -> Option<String> {
        let token = self.token.as_deref().or(self.access_token.as_deref()).filter(|t| !t.is_empty())?;
        Some(format!("Bearer {token}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_hub_challenges() {
        let c = Challenge::parse(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull,push""#,
        );
        assert_eq!(c.scheme, Scheme::Bearer);
        assert_eq!(c.realm.as_deref(), Some("https://auth.docker.io/token"));
        assert_eq!(c.service.as_deref(), Some("registry.docker.io"));
        assert_eq!(c.scope.as_deref(), Some("repository:library/alpine:pull,push"));
        let c = Challenge::parse(r#"Basic realm="Registry Realm""#);
        assert_eq!((c.scheme, c.realm.as_deref()), (Scheme::Basic, Some("Registry Realm")));
        let c = Challenge::parse("bearer realm=https://r/token, service=s");
        assert_eq!((c.realm.as_deref(), c.service.as_deref(), c.scope), (Some("https://r/token"), Some("s"), None));
    }

    #[test]
    fn encodes_basic_credentials() {
        let credentials = Credentials { username: "Aladdin".into(), password: "open sesame".into() };
        assert_eq!(basic(&credentials), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    }

    #[test]
    fn reads_either_token_field() {
        let answer: TokenResponse = serde_json::from_str(r#"{"access_token":"abc","expires_in":300}"#).unwrap();
        assert_eq!(answer.bearer().as_deref(), Some("Bearer abc"));
        let answer: TokenResponse = serde_json::from_str(r#"{"token":""}"#).unwrap();
        assert_eq!(answer.bearer(), None);
    }
}
