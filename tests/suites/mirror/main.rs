//! `transit mirror` between a real registry and real arm64 clients.
//!
//! Each test starts Debian's `docker-registry` (Distribution 2.8) on
//! loopback with its own storage, pushes images built here over the
//! registry API, starts `transit mirror` (the aarch64 binary, under
//! `TRANSIT_RUNNER`) in front of it, and pulls as an arm64 client would,
//! with each client's own mirror setting. binfmt_misc is a stand-in
//! directory for the mirror (`--binfmt-misc`): with or without an x86_64
//! entry; `runc` then runs a pulled amd64 program through a real, private
//! binfmt_misc. Everything stops and is removed when a test ends.

use std::time::Duration;

mod containerd;
mod images;
mod podman;
mod runc;
mod services;
mod skopeo;

/// containers/image's own words when an index has no entry for the
/// platform (skopeo, podman).
const NO_ARM64: &str = "no image found in image index for architecture arm64";

/// containers/image's TLS handshake timeout: what a pull through a mirror
/// that left its TLS probe unanswered took at least. Its clients try TLS
/// first with an `insecure` registry.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
