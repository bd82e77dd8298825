//! OCI platforms (`os/architecture[/variant]`) and how an index entry's
//! platform is compared with the one the mirror serves.

use serde::Deserialize;
use std::fmt;

/// A platform as image indexes describe it (OCI image-index spec,
/// "platform"): `linux/arm64`, `linux/arm/v7`, `linux/amd64`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
}

impl Platform {
    /// The platform whose images run here natively: the host's, as the
    /// runtimes (containerd's `platforms.DefaultSpec`) name it.
    pub fn host() -> Platform {
        let architecture = match std::env::consts::ARCH {
            "aarch64" => "arm64",
            "x86_64" => "amd64",
            "arm" => "arm",
            "riscv64" => "riscv64",
            "powerpc64" => "ppc64le",
            "s390x" => "s390x",
            other => other,
        };
        Platform { os: "linux".into(), architecture: architecture.into(), variant: None }
    }

    /// The platform Transit runs the images of.
    pub fn amd64() -> Platform {
        Platform { os: "linux".into(), architecture: "amd64".into(), variant: None }
    }

    /// Whether an index entry for `entry` can serve a client that wants
    /// `self`. A wanted platform without a variant accepts every variant,
    /// except on arm64, where no variant means `v8` on both sides (as
    /// containerd's platform normalisation has it).
    pub fn accepts(&self, entry: &Platform) -> bool {
        if self.os != entry.os || self.architecture != entry.architecture {
            return false;
        }
        let normal = |variant: &Option<String>| match variant.as_deref() {
            None | Some("") if self.architecture == "arm64" => Some("v8".to_string()),
            None | Some("") => None,
            Some(variant) => Some(variant.to_string()),
        };
        match (normal(&self.variant), normal(&entry.variant)) {
            (None, _) => true,
            (Some(wanted), Some(offered)) => wanted == offered,
            (Some(_), None) => false,
        }
    }
}

impl std::str::FromStr for Platform {
    type Err = String;

    fn from_str(text: &str) -> Result<Platform, String> {
        let parts: Vec<&str> = text.split('/').collect();
        match parts.as_slice() {
            [os, architecture] if !os.is_empty() && !architecture.is_empty() => {
                Ok(Platform { os: os.to_string(), architecture: architecture.to_string(), variant: None })
            }
            [os, architecture, variant] if !os.is_empty() && !architecture.is_empty() && !variant.is_empty() => Ok(Platform {
                os: os.to_string(),
                architecture: architecture.to_string(),
                variant: Some(variant.to_string()),
            }),
            _ => Err(format!("`{text}` is not a platform: expected OS/ARCH or OS/ARCH/VARIANT, like linux/arm64")),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Platform;

    fn p(text: &str) -> Platform {
        text.parse().unwrap()
    }

    #[test]
    fn parses_and_prints() {
        assert_eq!(p("linux/arm64").to_string(), "linux/arm64");
        assert_eq!(p("linux/arm/v7").variant.as_deref(), Some("v7"));
        assert!("linux".parse::<Platform>().is_err());
        assert!("linux//v7".parse::<Platform>().is_err());
        assert!("a/b/c/d".parse::<Platform>().is_err());
    }

    #[test]
    fn variants() {
        assert!(p("linux/arm64").accepts(&p("linux/arm64/v8")));
        assert!(p("linux/arm64/v8").accepts(&p("linux/arm64")));
        assert!(!p("linux/arm64/v8").accepts(&p("linux/arm64/v9")));
        assert!(p("linux/arm").accepts(&p("linux/arm/v7")));
        assert!(!p("linux/arm/v7").accepts(&p("linux/arm")));
        assert!(!p("linux/arm64").accepts(&p("linux/amd64")));
        assert!(!p("linux/arm64").accepts(&p("windows/arm64")));
        assert!(p("linux/amd64").accepts(&p("linux/amd64")));
    }
}
