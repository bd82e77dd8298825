//! Manifest selection: what the mirror answers when a tag names an image
//! index (OCI) or a manifest list (Docker) — the same bytes, or the amd64
//! image manifest when the client's platform has no entry.

use super::platform::Platform;
use serde::Deserialize;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// Every manifest type the mirror understands: the Accept header for
/// clients that send none (the upstream would answer with schema 1).
pub fn accept_all() -> String {
    [OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST].join(", ")
}

/// One entry of an index: the image manifest for one platform.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Descriptor {
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    pub digest: String,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub platform: Option<Platform>,
}

#[derive(Deserialize)]
struct Index {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Selection {
    /// Serve the upstream bytes unchanged.
    PassThrough(Why),
    /// Serve this entry's manifest instead.
    Amd64(Descriptor),
}

#[derive(Debug, PartialEq, Eq)]
pub enum Why {
    NotAnIndex,
    HasPlatform,
    NoAmd64,
    NotEmulated,
}

/// The decision for an upstream manifest of `content_type` (its
/// Content-Type header) and `body`. `emulated` is asked only when the
/// decision depends on it: whether this host runs x86_64 programs.
pub fn select(content_type: &str, body: &[u8], wanted: &Platform, emulated: impl FnOnce() -> bool) -> Selection {
    let Some(index) = as_index(content_type, body) else { return Selection::PassThrough(Why::NotAnIndex) };
    let platforms = || index.manifests.iter().filter_map(|entry| Some((entry, entry.platform.as_ref()?)));
    if platforms().any(|(_, platform)| wanted.accepts(platform)) {
        return Selection::PassThrough(Why::HasPlatform);
    }
    // The lowest level on offer: a plain (or v1) entry, else v2, else v3
    // (what Transit presents by default). The lower an image's level, the
    // more `TRANSIT_CPU` settings run it; v4 needs AVX-512, which Transit
    // does not present.
    let amd64 = Platform::amd64();
    let level = |platform: &Platform| match platform.variant.as_deref() {
        _ if platform.os != amd64.os || platform.architecture != amd64.architecture => None,
        None | Some("") | Some("v1") => Some(1),
        Some("v2") => Some(2),
        Some("v3") => Some(3),
        Some(_) => None,
    };
    let Some((entry, _)) = platforms().filter(|(_, platform)| level(platform).is_some()).min_by_key(|(_, platform)| level(platform)) else {
        return Selection::PassThrough(Why::NoAmd64);
    };
    if !emulated() {
        return Selection::PassThrough(Why::NotEmulated);
    }
    Selection::Amd64(entry.clone())
}

/// The index in `body`, if the Content-Type or, for servers that send a
/// generic type, the document's own mediaType says it is one.
fn as_index(content_type: &str, body: &[u8]) -> Option<Index> {
    let content_type = content_type.split(';').next().unwrap_or("").trim();
    let is_index = |media_type: &str| media_type == OCI_INDEX || media_type == DOCKER_LIST;
    let claimed = is_index(content_type);
    if !claimed && content_type != "application/json" && !content_type.is_empty() {
        return None;
    }
    let index: Index = serde_json::from_slice(body).ok()?;
    (claimed || index.media_type.as_deref().is_some_and(is_index)).then_some(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(entries: &[(&str, &str)]) -> Vec<u8> {
        let manifests: Vec<String> = entries
            .iter()
            .map(|(digest, platform)| {
                let p: Platform = platform.parse().unwrap();
                let variant = p.variant.map(|v| format!(r#","variant":"{v}""#)).unwrap_or_default();
                format!(
                    r#"{{"mediaType":"{OCI_MANIFEST}","digest":"{digest}","size":10,"platform":{{"os":"{}","architecture":"{}"{variant}}}}}"#,
                    p.os, p.architecture
                )
            })
            .collect();
        format!(r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{}]}}"#, manifests.join(",")).into_bytes()
    }

    fn arm64() -> Platform {
        "linux/arm64".parse().unwrap()
    }

    #[test]
    fn keeps_an_index_with_the_clients_platform() {
        let body = index(&[("sha256:a", "linux/amd64"), ("sha256:b", "linux/arm64/v8")]);
        let asked = std::cell::Cell::new(false);
        let selection = select(OCI_INDEX, &body, &arm64(), || {
            asked.set(true);
            true
        });
        assert_eq!(selection, Selection::PassThrough(Why::HasPlatform));
        assert!(!asked.get(), "binfmt_misc is not consulted when nothing is substituted");
    }

    #[test]
    fn substitutes_amd64_only_when_emulated() {
        let body = index(&[("sha256:v3", "linux/amd64/v3"), ("sha256:a", "linux/amd64"), ("sha256:u", "unknown/unknown")]);
        match select(DOCKER_LIST, &body, &arm64(), || true) {
            Selection::Amd64(entry) => assert_eq!(entry.digest, "sha256:a"),
            other => panic!("{other:?}"),
        }
        assert_eq!(select(OCI_INDEX, &body, &arm64(), || false), Selection::PassThrough(Why::NotEmulated));
        let v2_and_v3 = index(&[("sha256:v3", "linux/amd64/v3"), ("sha256:v2", "linux/amd64/v2")]);
        match select(OCI_INDEX, &v2_and_v3, &arm64(), || true) {
            Selection::Amd64(entry) => assert_eq!(entry.digest, "sha256:v2", "the lowest level on offer"),
            other => panic!("{other:?}"),
        }
        let v3_and_v4 = index(&[("sha256:v4", "linux/amd64/v4"), ("sha256:v3", "linux/amd64/v3")]);
        match select(OCI_INDEX, &v3_and_v4, &arm64(), || true) {
            Selection::Amd64(entry) => assert_eq!(entry.digest, "sha256:v3", "the level Transit presents"),
            other => panic!("{other:?}"),
        }
        let v4 = index(&[("sha256:v4", "linux/amd64/v4")]);
        assert_eq!(select(OCI_INDEX, &v4, &arm64(), || true), Selection::PassThrough(Why::NoAmd64));
        let s390x = index(&[("sha256:s", "linux/s390x")]);
        assert_eq!(select(OCI_INDEX, &s390x, &arm64(), || true), Selection::PassThrough(Why::NoAmd64));
    }

    #[test]
    fn recognises_indexes_by_type_or_content() {
        let body = index(&[("sha256:a", "linux/amd64")]);
        assert!(matches!(select("application/json", &body, &arm64(), || true), Selection::Amd64(_)));
        assert!(matches!(select("", &body, &arm64(), || true), Selection::Amd64(_)));
        assert_eq!(select(OCI_MANIFEST, &body, &arm64(), || true), Selection::PassThrough(Why::NotAnIndex));
        assert_eq!(select(OCI_INDEX, b"not json", &arm64(), || true), Selection::PassThrough(Why::NotAnIndex));
        let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}"#;
        assert_eq!(select("application/json", manifest, &arm64(), || true), Selection::PassThrough(Why::NotAnIndex));
    }
}
