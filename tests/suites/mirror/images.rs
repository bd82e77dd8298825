//! Images built by the tests: one uncompressed tar layer, a config, a
//! manifest per platform, an index. Everything is fixed bytes, so digests
//! are known before a push and compared after a pull.

use sha2::Digest as _;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";

pub fn sha256(bytes: &[u8]) -> String {
    let hash = sha2::Sha256::digest(bytes);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// A one-file tar archive (POSIX ustar), all metadata but the mode fixed.
fn tar_with(name: &str, mode: u32, contents: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name.as_bytes());
    let octal = |field: &mut [u8], value: u64| {
        let text = format!("{value:0width$o}", width = field.len() - 1);
        field[..text.len()].copy_from_slice(text.as_bytes());
    };
    octal(&mut header[100..108], mode.into());
    octal(&mut header[108..116], 0);
    octal(&mut header[116..124], 0);
    octal(&mut header[124..136], contents.len() as u64);
    octal(&mut header[136..148], 0);
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    // The checksum is computed with its own field as spaces.
    header[148..156].fill(b' ');
    let sum: u64 = header.iter().map(|&b| b as u64).sum();
    let text = format!("{sum:06o}\0 ");
    header[148..156].copy_from_slice(text.as_bytes());
    let mut tar = header.to_vec();
    tar.extend_from_slice(contents);
    tar.resize(tar.len().div_ceil(512) * 512 + 1024, 0);
    tar
}

pub struct Blob {
    pub media_type: &'static str,
    pub bytes: Vec<u8>,
}

impl Blob {
    pub fn digest(&self) -> String {
        sha256(&self.bytes)
    }

    fn descriptor(&self) -> String {
        format!(r#"{{"mediaType":"{}","digest":"{}","size":{}}}"#, self.media_type, self.digest(), self.bytes.len())
    }
}

/// One platform's image: its layer, config and manifest.
pub struct Image {
    pub architecture: &'static str,
    pub layer: Blob,
    pub config: Blob,
    pub manifest: Blob,
}

impl Image {
    /// A layer holding `/hello`, a text file naming the architecture.
    pub fn new(architecture: &'static str) -> Image {
        let text = format!("built for {architecture}\n");
        Image::with_file(architecture, "hello", 0o644, text.as_bytes(), &["/hello"])
    }

    /// A layer holding the file `/NAME`; `cmd` is the image's command.
    pub fn with_file(architecture: &'static str, name: &str, mode: u32, contents: &[u8], cmd: &[&str]) -> Image {
        let layer = Blob { media_type: OCI_LAYER, bytes: tar_with(name, mode, contents) };
        let cmd: Vec<String> = cmd.iter().map(|arg| format!("{arg:?}")).collect();
        let config = Blob {
            media_type: OCI_CONFIG,
            bytes: format!(
                r#"{{"architecture":"{architecture}","os":"linux","config":{{"Cmd":[{}]}},"rootfs":{{"type":"layers","diff_ids":["{}"]}}}}"#,
                cmd.join(","),
                layer.digest()
            )
            .into_bytes(),
        };
        let manifest = Blob {
            media_type: OCI_MANIFEST,
            bytes: format!(
                r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{},"layers":[{}]}}"#,
                config.descriptor(),
                layer.descriptor()
            )
            .into_bytes(),
        };
        Image { architecture, layer, config, manifest }
    }
}

pub fn index_of(images: &[&Image]) -> Blob {
    let entries: Vec<String> = images
        .iter()
        .map(|image| {
            let descriptor = image.manifest.descriptor();
            format!(r#"{},"platform":{{"architecture":"{}","os":"linux"}}}}"#, &descriptor[..descriptor.len() - 1], image.architecture)
        })
        .collect();
    Blob {
        media_type: OCI_INDEX,
        bytes: format!(r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{}]}}"#, entries.join(",")).into_bytes(),
    }
}
