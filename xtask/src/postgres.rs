//! A throwaway local PostgreSQL for the backend's tests, unless
//! `MOSTRADOR_TEST_POSTGRES_URL` names one. Installed from Debian's packages
//! if missing; its cluster lives in the temp dir, one per xtask process (so
//! a test run and a benchmark at once never stop each other's server), runs
//! on a free loopback port with fsync off (test data only), and is stopped
//! and deleted when the tests end. Clusters of runs that were killed are
//! stopped and deleted by the next run.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

use crate::setup;
use crate::util::{output, run};

pub const URL_VAR: &str = "MOSTRADOR_TEST_POSTGRES_URL";

/// Stops the server it started when dropped.
#[derive(Debug)]
pub struct LocalPostgres {
    bin: PathBuf,
    base: PathBuf,
    data: PathBuf,
    as_root: bool,
    pub url: String,
}

impl Drop for LocalPostgres {
    fn drop(&mut self) {
        let mut cmd = self.command("pg_ctl");
        cmd.arg("-D").arg(&self.data).args(["-m", "fast", "stop"]);
        let _ = cmd.output();
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

impl LocalPostgres {
    fn command(&self, tool: &str) -> Command {
        command(&self.bin, tool, self.as_root)
    }
}

fn command(bin: &Path, tool: &str, as_root: bool) -> Command {
    if as_root {
        // PostgreSQL refuses to run as root.
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(tool));
        c
    } else {
        Command::new(bin.join(tool))
    }
}

fn bin_dir() -> anyhow::Result<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .context("PostgreSQL is not installed under /usr/lib/postgresql")?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    dirs.sort();
    dirs.pop()
        .map(|(_, b)| b)
        .context("no initdb found under /usr/lib/postgresql/*/bin")
}

/// Each run's cluster is `<temp>/mostrador-test-pg-<xtask pid>`.
const CLUSTER_PREFIX: &str = "mostrador-test-pg-";

/// Stops and deletes the clusters of xtask runs that are gone (killed
/// before they could clean up).
fn forget_abandoned_clusters(bin: &Path, as_root: bool) {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(CLUSTER_PREFIX) else {
            continue;
        };
        if Path::new("/proc").join(pid).exists() {
            continue;
        }
        let data = e.path().join("data");
        if data.join("postmaster.pid").exists() {
            let mut stop = command(bin, "pg_ctl", as_root);
            stop.arg("-D").arg(&data).args(["-m", "immediate", "stop"]);
            let _ = stop.output();
        }
        let _ = std::fs::remove_dir_all(e.path());
    }
}

/// `Ok(None)` when the environment already names a server.
pub fn start() -> anyhow::Result<Option<LocalPostgres>> {
    if std::env::var_os(URL_VAR).is_some() {
        return Ok(None);
    }
    setup::debian_packages(&["postgresql"])?;
    let bin = bin_dir()?;
    let as_root = output(Command::new("id").arg("-u")).is_some_and(|s| s.trim() == "0");
    forget_abandoned_clusters(&bin, as_root);
    let base = std::env::temp_dir().join(format!("{CLUSTER_PREFIX}{}", std::process::id()));
    let data = base.join("data");
    if base.exists() {
        std::fs::remove_dir_all(&base)?;
    }
    std::fs::create_dir_all(&base)?;
    if as_root {
        run(Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&base))?;
    }
    if !data.join("PG_VERSION").exists() {
        eprintln!(
            "xtask: creating a throwaway PostgreSQL cluster in {}",
            data.display()
        );
        let mut init = command(&bin, "initdb", as_root);
        init.arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "-A", "trust", "--no-sync"]);
        let out = init.output().context("running initdb")?;
        if !out.status.success() {
            bail!("initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut start = command(&bin, "pg_ctl", as_root);
    start
        .arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(base.join("server.log"))
        .arg("-o")
        .arg(format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
            base.display()
        ))
        .args(["-w", "start"]);
    let out = start.output().context("running pg_ctl start")?;
    if !out.status.success() {
        bail!(
            "PostgreSQL did not start: {}{} (log: {})",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            base.join("server.log").display()
        );
    }
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    eprintln!("xtask: PostgreSQL for the tests at {url}");
    Ok(Some(LocalPostgres {
        bin,
        base,
        data,
        as_root,
        url,
    }))
}
