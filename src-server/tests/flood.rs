//! A flood of registrations and sign-ins against the real server binary, as
//! its own process: password hashing is bounded, so the server's peak
//! resident memory (VmHWM) stays small however many arrive at once.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// Peak resident memory the flood may raise the server to. One Argon2id hash
/// holds about 19 MiB; unbounded, this flood took the server to 4.6 GB
/// (measured before the fix; about 70 MB after).
const PEAK_BOUND_KB: u64 = 200 * 1024;

fn status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

/// Starts the server binary with `extra` flags; returns it and its URL.
async fn spawn(dir: &std::path::Path, extra: &[&str]) -> (tokio::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mostrador-server"))
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args(extra)
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.strip_prefix("mostrador-server listening on ") {
                return url.trim().to_owned();
            }
        }
        panic!("server exited before listening")
    })
    .await
    .unwrap();
    (child, base)
}

/// One process serves an embedded SQLite file (it remembers sessions and
/// routes live pokes in-process): a second server on the same data folder
/// refuses to start, saying why; once the first has stopped, it starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_one_sqlite_file_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let (mut first, base) = spawn(dir.path(), &[]).await;
    let second = Command::new(env!("CARGO_BIN_EXE_mostrador-server"))
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    assert!(!second.status.success());
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(
        said.contains("another mostrador-server is serving"),
        "{said}"
    );
    // The first one was not disturbed.
    let health = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    first.kill().await.unwrap();
    first.wait().await.unwrap();
    let (_again, base) = spawn(dir.path(), &[]).await;
    let health = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saturated_hashing_answers_503_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = spawn(
        dir.path(),
        &["--hash-concurrency", "1", "--hash-wait-seconds", "0", "--login-per-address", "100000"],
    )
    .await;
    let http = reqwest::Client::new();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (http, base) = (http.clone(), base.clone());
            tokio::spawn(async move {
                let res = http
                    .post(format!("{base}/api/v1/auth/login"))
                    .json(&serde_json::json!({"email": format!("n{i}@example.com"), "password": "wrong password 1"}))
                    .send()
                    .await
                    .unwrap();
                let status = res.status().as_u16();
                let retry = res.headers().get("retry-after").cloned();
                let v: serde_json::Value = res.json().await.unwrap_or_default();
                (status, retry, v)
            })
        })
        .collect();
    let mut busy = 0;
    for t in tasks {
        let (status, retry, v) = t.await.unwrap();
        assert!([401, 503].contains(&status), "{status}: {v}");
        if status == 503 {
            busy += 1;
            assert_eq!(v["code"], "unavailable", "{v}");
            assert!(retry.is_some_and(|r| r.to_str().unwrap().parse::<u64>().unwrap() >= 1));
        }
    }
    assert!(busy > 0, "20 sign-ins at once with one hashing turn and no wait: none refused");
    let _ = child.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_and_login_flood_keeps_memory_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = spawn(
        dir.path(),
        // Measure the hashing bound alone, not the per-address throttles.
        &[
            "--register-per-address",
            "100000",
            "--login-per-address",
            "100000",
            "--connections-per-address",
            "1000",
        ],
    )
    .await;
    let pid = child.id().unwrap();
    let before = status_kb(pid, "VmRSS:");
    let http = reqwest::Client::new();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let (http, base) = (http.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let (path, body) = if i % 2 == 0 {
                (
                    "register",
                    serde_json::json!({"email": format!("flood{i}@example.com"), "password": "correct horse battery", "display_name": "Flood"}),
                )
            } else {
                (
                    "login",
                    serde_json::json!({"email": format!("nobody{i}@example.com"), "password": "wrong password 123"}),
                )
            };
            let res = http
                .post(format!("{base}/api/v1/auth/{path}"))
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let retry = res.headers().get("retry-after").is_some();
            let v: serde_json::Value = res.json().await.unwrap_or_default();
            (status, retry, v)
        }));
    }
    let mut peak_rss = 0;
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    let all = futures_util::future::join_all(tasks);
    tokio::pin!(all);
    let results = loop {
        tokio::select! {
            r = &mut all => break r,
            () = tokio::time::sleep(Duration::from_millis(20)) => {
                peak_rss = peak_rss.max(status_kb(pid, "VmRSS:"));
            }
        }
    };
    for r in results {
        let (status, retry, v) = r.unwrap();
        *statuses.entry(status).or_default() += 1;
        if status == 503 {
            assert!(retry, "503 without Retry-After");
            assert_eq!(v["code"], "unavailable", "{v}");
        }
        assert!(
            [201, 401, 503].contains(&status),
            "unexpected answer {status}: {v}"
        );
    }
    let hwm = status_kb(pid, "VmHWM:");
    println!(
        "flood: RSS before {before} kB, sampled peak {peak_rss} kB, VmHWM {hwm} kB; answers {statuses:?}"
    );
    assert!(
        hwm < PEAK_BOUND_KB,
        "peak memory {hwm} kB over {PEAK_BOUND_KB} kB"
    );
    assert!(statuses.get(&201).copied().unwrap_or(0) > 0, "no registration got through");
    let _ = child.kill().await;
}
