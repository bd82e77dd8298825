//! One pod through containerd's CRI plugin, in the order kubelet makes the
//! calls: Version, PullImage, RunPodSandbox (containerd pulls the sandbox
//! image itself), CreateContainer, StartContainer, ContainerStatus until the
//! container has exited, its log file, then StopPodSandbox and
//! RemovePodSandbox. The pod uses the node's network namespace, as a
//! `hostNetwork: true` pod does, so that no CNI plugin is needed.
//!
//! Prints one line per call, then the content of the container's log lines;
//! exits non-zero, after removing the pod, if any call fails, the container
//! does not exit with status 0 or its log is not in the CRI format.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, ensure, Context, Result};
use clap::Parser;
use hyper_util::rt::TokioIo;
use k8s_cri::v1::image_service_client::ImageServiceClient;
use k8s_cri::v1::runtime_service_client::RuntimeServiceClient;
use k8s_cri::v1::{
    ContainerConfig, ContainerMetadata, ContainerState, ContainerStatusRequest, CreateContainerRequest,
    ImageSpec, KeyValue, LinuxContainerConfig, LinuxContainerSecurityContext, LinuxPodSandboxConfig,
    LinuxSandboxSecurityContext, NamespaceMode, NamespaceOption, PodSandboxConfig, PodSandboxMetadata,
    PodSandboxState, PodSandboxStatusRequest, PullImageRequest, RemovePodSandboxRequest, RunPodSandboxRequest,
    StartContainerRequest, StopPodSandboxRequest, VersionRequest,
};
use tokio::net::UnixStream;
use tonic::transport::{Channel, Endpoint, Uri};

#[derive(Parser)]
#[command(about = "Runs one pod through containerd's CRI plugin, as kubelet would")]
struct Args {
    /// The CRI socket.
    #[arg(long, default_value = "/run/containerd/containerd.sock")]
    socket: PathBuf,
    /// The container's image.
    #[arg(long)]
    image: String,
    /// NAME=VALUE in the container's environment (repeatable).
    #[arg(long = "env", value_parser = parse_env)]
    envs: Vec<(String, String)>,
    /// How long the container may take to exit, in seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
    /// The container's command and arguments.
    #[arg(required = true, last = true)]
    command: Vec<String>,
}

fn parse_env(pair: &str) -> Result<(String, String), String> {
    pair.split_once('=')
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .ok_or_else(|| format!("{pair:?} is not NAME=VALUE"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(error) = run(Args::parse()).await {
        eprintln!("cri-client: {error:#}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<()> {
    let channel = connect(&args.socket).await?;
    let mut runtime = RuntimeServiceClient::new(channel.clone());
    let mut images = ImageServiceClient::new(channel);

    let version = runtime.version(VersionRequest { version: "v1".into() }).await.context("Version")?.into_inner();
    println!(
        "Version: {} {} (CRI {})",
        version.runtime_name, version.runtime_version, version.runtime_api_version
    );

    let image = ImageSpec { image: args.image.clone(), ..Default::default() };
    let pulled = images
        .pull_image(PullImageRequest { image: Some(image.clone()), ..Default::default() })
        .await
        .with_context(|| format!("PullImage {}", args.image))?
        .into_inner();
    println!("PullImage: {} -> {}", args.image, pulled.image_ref);

    let sandbox_config = sandbox_config()?;
    let sandbox = runtime
        .run_pod_sandbox(RunPodSandboxRequest { config: Some(sandbox_config.clone()), ..Default::default() })
        .await
        .context("RunPodSandbox")?
        .into_inner()
        .pod_sandbox_id;
    println!("RunPodSandbox: {sandbox}");

    // The pod is removed whatever happens in it, as kubelet would.
    let outcome = run_in_sandbox(&mut runtime, &sandbox, &sandbox_config, image, &args).await;
    let removed = remove_sandbox(&mut runtime, &sandbox).await;
    let log = outcome?;
    removed?;
    for line in log {
        println!("{line}");
    }
    Ok(())
}

/// A channel to the CRI server on a unix socket (tonic needs a URI, which
/// the connector ignores).
async fn connect(socket: &Path) -> Result<Channel> {
    let path = socket.to_path_buf();
    Endpoint::try_from("http://[::]:50051")?
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let path = path.clone();
            async move { Ok::<_, std::io::Error>(TokioIo::new(UnixStream::connect(path).await?)) }
        }))
        .await
        .with_context(|| format!("cannot connect to {}", socket.display()))
}

/// What kubelet sends for a `hostNetwork: true` pod: the node's network
/// namespace, the pod's own PID namespace per container, and a log
/// directory under /var/log/pods (kubelet creates it; so do we).
fn sandbox_config() -> Result<PodSandboxConfig> {
    let uid = format!("{:x}", SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos());
    let (namespace, name) = ("default", "transit-cri");
    let log_directory = format!("/var/log/pods/{namespace}_{name}_{uid}");
    std::fs::create_dir_all(&log_directory).with_context(|| format!("cannot create {log_directory}"))?;
    Ok(PodSandboxConfig {
        metadata: Some(PodSandboxMetadata { name: name.into(), uid, namespace: namespace.into(), attempt: 0 }),
        // None, as kubelet sends for a `hostNetwork` pod: it has the node's
        // UTS namespace, whose hostname runc may not set.
        hostname: String::new(),
        log_directory,
        linux: Some(LinuxPodSandboxConfig {
            security_context: Some(LinuxSandboxSecurityContext {
                namespace_options: Some(node_network()),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    })
}

fn node_network() -> NamespaceOption {
    NamespaceOption {
        network: NamespaceMode::Node.into(),
        pid: NamespaceMode::Container.into(),
        ipc: NamespaceMode::Pod.into(),
        ..Default::default()
    }
}

/// Creates and starts the container, waits for it to exit with status 0
/// and returns the content of its log lines.
async fn run_in_sandbox(
    runtime: &mut RuntimeServiceClient<Channel>,
    sandbox: &str,
    sandbox_config: &PodSandboxConfig,
    image: ImageSpec,
    args: &Args,
) -> Result<Vec<String>> {
    sandbox_ready(runtime, sandbox).await?;
    let name = "workload";
    let config = ContainerConfig {
        metadata: Some(ContainerMetadata { name: name.into(), attempt: 0 }),
        image: Some(image),
        command: args.command.clone(),
        envs: args.envs.iter().map(|(key, value)| KeyValue { key: key.clone(), value: value.clone() }).collect(),
        // kubelet's layout: LOG_DIRECTORY/CONTAINER/ATTEMPT.log.
        log_path: format!("{name}/0.log"),
        linux: Some(LinuxContainerConfig {
            security_context: Some(LinuxContainerSecurityContext {
                namespace_options: Some(node_network()),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let container = runtime
        .create_container(CreateContainerRequest {
            pod_sandbox_id: sandbox.into(),
            config: Some(config.clone()),
            sandbox_config: Some(sandbox_config.clone()),
        })
        .await
        .context("CreateContainer")?
        .into_inner()
        .container_id;
    println!("CreateContainer: {container}");
    runtime
        .start_container(StartContainerRequest { container_id: container.clone() })
        .await
        .context("StartContainer")?;
    println!("StartContainer: {container}");

    let start = Instant::now();
    let status = loop {
        let status = runtime
            .container_status(ContainerStatusRequest { container_id: container.clone(), verbose: false })
            .await
            .context("ContainerStatus")?
            .into_inner()
            .status
            .context("ContainerStatus: no status")?;
        if status.state() == ContainerState::ContainerExited {
            break status;
        }
        ensure!(
            start.elapsed() < Duration::from_secs(args.timeout),
            "ContainerStatus: still {:?} after {} s",
            status.state(),
            args.timeout
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    println!(
        "ContainerStatus: {:?} exit_code={} reason={} after {:.1} s",
        status.state(),
        status.exit_code,
        status.reason,
        start.elapsed().as_secs_f64()
    );
    // The pause process must have outlived the container.
    sandbox_ready(runtime, sandbox).await?;
    let log = read_log(Path::new(&status.log_path)).await?;
    ensure!(status.exit_code == 0, "the container exited with status {}; its log:\n{}", status.exit_code, log.join("\n"));
    Ok(log)
}

async fn sandbox_ready(runtime: &mut RuntimeServiceClient<Channel>, sandbox: &str) -> Result<()> {
    let status = runtime
        .pod_sandbox_status(PodSandboxStatusRequest { pod_sandbox_id: sandbox.into(), verbose: false })
        .await
        .context("PodSandboxStatus")?
        .into_inner()
        .status
        .context("PodSandboxStatus: no status")?;
    ensure!(status.state() == PodSandboxState::SandboxReady, "PodSandboxStatus: {:?}", status.state());
    println!("PodSandboxStatus: {:?}", status.state());
    Ok(())
}

/// The CRI log format: "TIMESTAMP STREAM TAG CONTENT" per line, TIMESTAMP
/// in RFC 3339 with nanoseconds, STREAM stdout or stderr, TAG F for a full
/// line or P for a part that the next line continues.
async fn read_log(path: &Path) -> Result<Vec<String>> {
    let text = tokio::fs::read_to_string(path).await.with_context(|| format!("cannot read the log {}", path.display()))?;
    println!("log: {} ({} lines)", path.display(), text.lines().count());
    let mut lines = Vec::new();
    let mut partial = String::new();
    for line in text.lines() {
        let mut fields = line.splitn(4, ' ');
        let (Some(timestamp), Some(stream), Some(tag)) = (fields.next(), fields.next(), fields.next()) else {
            bail!("not a CRI log line: {line:?}");
        };
        let content = fields.next().unwrap_or("");
        let rfc3339 = timestamp.len() >= 20 && timestamp.as_bytes()[4] == b'-' && timestamp.as_bytes()[10] == b'T';
        ensure!(rfc3339, "not an RFC 3339 timestamp in {line:?}");
        ensure!(matches!(stream, "stdout" | "stderr"), "not a stream in {line:?}");
        partial.push_str(content);
        match tag {
            "F" => lines.push(std::mem::take(&mut partial)),
            "P" => {}
            _ => bail!("not a tag in {line:?}"),
        }
    }
    ensure!(partial.is_empty(), "the log ends in a partial line: {partial:?}");
    Ok(lines)
}

async fn remove_sandbox(runtime: &mut RuntimeServiceClient<Channel>, sandbox: &str) -> Result<()> {
    runtime
        .stop_pod_sandbox(StopPodSandboxRequest { pod_sandbox_id: sandbox.into() })
        .await
        .context("StopPodSandbox")?;
    println!("StopPodSandbox: {sandbox}");
    runtime
        .remove_pod_sandbox(RemovePodSandboxRequest { pod_sandbox_id: sandbox.into() })
        .await
        .context("RemovePodSandbox")?;
    println!("RemovePodSandbox: {sandbox}");
    Ok(())
}
