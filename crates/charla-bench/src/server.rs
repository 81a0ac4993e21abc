//! The server under test: a separate `charla serve` process, so that its memory and start-up
//! time are its own and not the load generator's.

use anyhow::{Context, bail};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// How to start a server: the binary, its data folder and database.
#[derive(Debug, Clone)]
pub struct Target {
    pub exe: PathBuf,
    pub data: PathBuf,
    /// None: SQLite in the data folder.
    pub database_url: Option<String>,
}

impl Target {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.exe);
        cmd.args(args).arg("--data").arg(&self.data);
        if let Some(url) = &self.database_url {
            cmd.arg("--database-url").arg(url);
        }
        // The bench decides where the server stores things, not the caller's environment.
        for var in ["CHARLA_LISTEN", "CHARLA_DATA", "CHARLA_DATABASE_URL", "CHARLA_NATS_URL"] {
            cmd.env_remove(var);
        }
        cmd.env("RUST_LOG", "warn");
        cmd
    }

    /// The database URL as the store crate takes it.
    pub fn store_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}", self.data.join("charla.db").display()),
        }
    }

    /// `charla admin create` with the real CLI (creates the workspace on first use).
    pub async fn create_admin(&self, email: &str, password: &str) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.data)?;
        let out = self
            .command(&["admin", "create", "--email", email, "--password", password, "--name", "Bench Admin"])
            .stdin(Stdio::null())
            .output()
            .await
            .with_context(|| format!("cannot run {}", self.exe.display()))?;
        if !out.status.success() {
            bail!("admin create failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    }
}

/// A running `charla serve`.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub base: String,
    /// From spawning the process to the first `200` of `/healthz`.
    pub ready_after: Duration,
}

impl Server {
    pub async fn start(target: &Target) -> anyhow::Result<Server> {
        std::fs::create_dir_all(&target.data)?;
        let log = std::fs::OpenOptions::new().create(true).append(true).open(target.data.join("server.log"))?;
        let started = Instant::now();
        let mut child = target
            .command(&["serve", "--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", target.exe.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let addr = tokio::time::timeout(Duration::from_secs(120), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(rest) = line.strip_prefix("charla listening on http://") {
                    return Ok::<_, anyhow::Error>(rest.trim().parse::<SocketAddr>()?);
                }
            }
            bail!("the server exited before listening (see {})", target.data.join("server.log").display())
        })
        .await
        .context("the server did not start within 120 s")??;
        // Keep reading so that the pipe never fills.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        loop {
            if healthz(addr).await {
                break;
            }
            if started.elapsed() > Duration::from_secs(120) {
                bail!("/healthz did not answer 200 within 120 s");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let ready_after = started.elapsed();
        Ok(Server { child, addr, base: format!("http://{addr}"), ready_after })
    }

    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// Resident memory of the server process, in KiB.
    pub fn rss_kib(&self) -> anyhow::Result<u64> {
        rss_kib(self.pid())
    }

    /// SIGTERM (graceful: the SQLite writer commits what it holds), then waits.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(pid) = self.child.id().and_then(|p| rustix::process::Pid::from_raw(p as i32)) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        match tokio::time::timeout(Duration::from_secs(60), self.child.wait()).await {
            Ok(status) => {
                status?;
            }
            Err(_) => {
                self.child.kill().await?;
            }
        }
        Ok(())
    }
}

/// VmRSS of a process, in KiB.
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .context("no VmRSS in /proc/<pid>/status")
}

/// One `GET /healthz` on a fresh connection: true on 200. No client library in the way of the
/// start-up measurement.
pub async fn healthz(addr: SocketAddr) -> bool {
    let attempt = async {
        let mut s = tokio::net::TcpStream::connect(addr).await?;
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n").await?;
        let mut buf = Vec::with_capacity(256);
        s.read_to_end(&mut buf).await?;
        Ok::<bool, std::io::Error>(buf.starts_with(b"HTTP/1.1 200"))
    };
    matches!(tokio::time::timeout(Duration::from_secs(5), attempt).await, Ok(Ok(true)))
}

/// Removes a folder the bench made, ignoring one that is already gone.
pub fn remove_dir(path: &Path) {
    if path.exists()
        && let Err(e) = std::fs::remove_dir_all(path)
    {
        eprintln!("warning: cannot remove {}: {e}", path.display());
    }
}
