//! `transit mirror`: a pull-through registry mirror (OCI distribution API)
//! that lets runtimes on an arm64 host pull images published for amd64
//! only. When a tag names an index without an entry for the clients'
//! platform but with linux/amd64, and binfmt_misc runs x86_64 programs,
//! the mirror answers with the amd64 image manifest; every other answer is
//! the upstream's, byte for byte.
//!
//! config (file and options) -> listener (refuses TLS, relays the rest)
//!   -> server (routes, one thread per request)
//!   -> select (index or amd64 manifest?) with emulation (binfmt_misc) and
//!      platform; upstream (auth, redirects) and proxy (streamed relaying).

mod auth;
mod config;
mod emulation;
mod listener;
mod platform;
mod proxy;
mod select;
mod server;
mod upstream;

pub use config::{Config, Overrides};
pub use emulation::BinfmtMisc;
pub use platform::Platform;
pub use server::Server;

use clap::Parser;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "transit mirror",
    about = "Pull-through registry mirror: serves amd64 images where an index has none for this host's platform",
    after_help = "Logs go to stderr; TRANSIT_LOG (a tracing filter, default `info`) sets how much."
)]
struct Args {
    /// Address to listen on (port 0: any free port).
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Registry for requests that do not name one with containerd's `ns=`
    /// [default: https://registry-1.docker.io].
    #[arg(long, value_name = "URL")]
    upstream: Option<String>,
    /// Platform of the clients [default: the host's, linux/arm64 on arm64].
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    platform: Option<Platform>,
    /// TOML configuration; options given here override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Where to look for an x86_64 emulator's registration
    /// [default: /proc/sys/fs/binfmt_misc]; a stand-in directory in tests.
    #[arg(long, value_name = "DIR")]
    binfmt_misc: Option<PathBuf>,
}

/// The command line's definition (for man pages: `transit --package-files`).
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

/// Runs `transit mirror ARGS` (`args` starts with `mirror`); returns the
/// exit status.
pub fn main(args: impl IntoIterator<Item = OsString>) -> i32 {
    let args = Args::parse_from(args);
    init_logging();
    let overrides = Overrides { listen: args.listen, upstream: args.upstream, platform: args.platform, binfmt_misc: args.binfmt_misc };
    let server = match Config::load(args.config.as_deref(), overrides).and_then(Server::bind) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("transit mirror: {e}");
            return 2;
        }
    };
    // One plain line, whatever the log filter: scripts wait for it.
    eprintln!("transit mirror: listening on http://{}", server.local_addr());
    server.run();
    1
}

fn init_logging() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("TRANSIT_LOG").unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}
