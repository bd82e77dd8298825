//! The mirror's configuration: a TOML file (`--config`), then command-line
//! options over it. binfmt/mirror.toml.example shows every key.

use super::emulation::BinfmtMisc;
use super::platform::Platform;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:5000";
pub const DOCKER_HUB: &str = "https://registry-1.docker.io";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    pub listen: Option<SocketAddr>,
    /// The registry for requests that do not name one (`ns=`).
    pub upstream: Option<String>,
    /// `os/arch[/variant]` of the clients: the host's by default.
    pub platform: Option<String>,
    /// Where binfmt_misc is read (a stand-in directory in tests).
    pub binfmt_misc: Option<PathBuf>,
    /// Registries by the host name containerd's `ns=` parameter gives.
    #[serde(default)]
    pub registries: BTreeMap<String, RegistryFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryFile {
    pub url: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// A file holding the password (its first line), so the configuration
    /// itself can stay world-readable.
    pub password_file: Option<PathBuf>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// One upstream registry: its base URL (`https://host[:port]`, no
/// trailing slash) and the credentials to present when it asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registry {
    pub url: String,
    pub credentials: Option<Credentials>,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub platform: Platform,
    pub binfmt_misc: BinfmtMisc,
    pub default: Registry,
    /// By `ns=` host name.
    pub registries: BTreeMap<String, Registry>,
}

/// What the command line may set over the file.
#[derive(Debug, Default)]
pub struct Overrides {
    pub listen: Option<SocketAddr>,
    pub upstream: Option<String>,
    pub platform: Option<Platform>,
    pub binfmt_misc: Option<PathBuf>,
}

impl Config {
    pub fn load(file: Option<&Path>, overrides: Overrides) -> Result<Config, String> {
        let parsed = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?
            }
            None => File::default(),
        };
        Config::from_file(parsed, overrides)
    }

    pub fn from_file(file: File, overrides: Overrides) -> Result<Config, String> {
        let mut registries = BTreeMap::new();
        for (host, entry) in file.registries {
            let url = normalise_url(entry.url.as_deref().unwrap_or(&default_url(&host)))?;
            let password = match (entry.password, entry.password_file) {
                (Some(_), Some(_)) => return Err(format!("registry {host}: both password and password_file")),
                (Some(password), None) => Some(password),
                (None, Some(path)) => Some(
                    std::fs::read_to_string(&path)
                        .map_err(|e| format!("registry {host}: cannot read {}: {e}", path.display()))?
                        .lines()
                        .next()
                        .unwrap_or("")
                        .to_string(),
                ),
                (None, None) => None,
            };
            let credentials = match (entry.username, password) {
                (Some(username), Some(password)) => Some(Credentials { username, password }),
                (None, None) => None,
                _ => return Err(format!("registry {host}: a username needs a password and a password a username")),
            };
            registries.insert(host, Registry { url, credentials });
        }
        let upstream = overrides.upstream.or(file.upstream).unwrap_or_else(|| DOCKER_HUB.to_string());
        let upstream = normalise_url(&upstream)?;
        // The default upstream shares the credentials of the registry entry
        // with the same URL, so `upstream` need not repeat them.
        let credentials = registries.values().find(|r| r.url == upstream).and_then(|r| r.credentials.clone());
        let platform = match (overrides.platform, file.platform) {
            (Some(platform), _) => platform,
            (None, Some(text)) => text.parse()?,
            (None, None) => Platform::host(),
        };
        Ok(Config {
            listen: overrides.listen.or(file.listen).unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("valid address")),
            platform,
            binfmt_misc: BinfmtMisc::new(
                overrides.binfmt_misc.or(file.binfmt_misc).unwrap_or_else(|| BinfmtMisc::KERNEL_DIR.into()),
            ),
            default: Registry { url: upstream, credentials },
            registries,
        })
    }

    /// The registry a request is for: the one its `ns=` parameter names
    /// (configured, or `https://HOST`), else the default upstream.
    pub fn registry(&self, ns: Option<&str>) -> Registry {
        match ns {
            None | Some("") => self.default.clone(),
            Some(host) => self
                .registries
                .get(host)
                .cloned()
                .unwrap_or_else(|| Registry { url: default_url(host), credentials: None }),
        }
    }
}

/// The URL of a registry named as image references name it: Docker Hub's
/// `docker.io` is served from registry-1.docker.io.
fn default_url(host: &str) -> String {
    match host {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB.to_string(),
        host => format!("https://{host}"),
    }
}

fn normalise_url(url: &str) -> Result<String, String> {
    let url = url.trim_end_matches('/');
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains('/') => Ok(url.to_string()),
        _ => Err(format!("`{url}` is not a registry URL: expected http(s)://HOST[:PORT]")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_overrides() {
        let file: File = toml::from_str(
            r#"
            listen = "0.0.0.0:5001"
            upstream = "https://registry.example/"
            platform = "linux/arm64"
            [registries."registry.example"]
            username = "me"
            password = "secret"
            [registries."docker.io"]
            "#,
        )
        .unwrap();
        let config = Config::from_file(file, Overrides { platform: Some("linux/riscv64".parse().unwrap()), ..Overrides::default() }).unwrap();
        assert_eq!(config.listen.to_string(), "0.0.0.0:5001");
        assert_eq!(config.platform.to_string(), "linux/riscv64");
        assert_eq!(config.default.url, "https://registry.example");
        assert_eq!(config.default.credentials.as_ref().unwrap().username, "me");
        assert_eq!(config.registry(Some("docker.io")).url, DOCKER_HUB);
        assert_eq!(config.registry(Some("ghcr.io")), Registry { url: "https://ghcr.io".into(), credentials: None });
        assert_eq!(config.registry(None).url, "https://registry.example");
    }

    #[test]
    fn defaults_and_errors() {
        let config = Config::from_file(File::default(), Overrides::default()).unwrap();
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(config.default.url, DOCKER_HUB);
        assert_eq!(config.platform, Platform::host());
        let bad = Overrides { upstream: Some("registry.example".into()), ..Overrides::default() };
        assert!(Config::from_file(File::default(), bad).is_err());
        assert!(toml::from_str::<File>("[registries.x]\nusername = \"me\"\n").map_err(|e| e.to_string()).and_then(|f| Config::from_file(f, Overrides::default())).is_err());
        assert!(toml::from_str::<File>("unknown = 1\n").is_err());
    }
}
