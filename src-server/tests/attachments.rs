//! Attachments: typed by content, size-limited, idempotent upload, served
//! only to those who may see them; on SQLite and PostgreSQL.

mod common;

use common::{Backend, TestServer};
use mostrador_core::auth::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR fake but typed by its signature";

async fn put(
    s: &TestServer,
    token: &str,
    conv: &str,
    id: Uuid,
    name: &str,
    bytes: Vec<u8>,
) -> (StatusCode, Value) {
    let res = s
        .http
        .put(format!(
            "{}/api/v1/conversations/{conv}/attachments/{id}?filename={name}",
            s.base
        ))
        .bearer_auth(token)
        .header("content-type", "image/png")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let st = res.status();
    (st, res.json().await.unwrap_or(Value::Null))
}

async fn fetch(s: &TestServer, token: &str, id: Uuid) -> (StatusCode, Vec<u8>, String) {
    let res = s
        .http
        .get(format!("{}/api/v1/attachments/{id}", s.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let st = res.status();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (st, res.bytes().await.unwrap().to_vec(), ct)
}

async fn attachments_are_checked_stored_and_served_to_the_allowed(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (a, _) = s.customer("a@example.com").await;
    let (b, _) = s.customer("b@example.com").await;
    let (agent, _) = s.staff("agent@shop.test", Role::Agent).await;
    let conv = Uuid::new_v4().to_string();
    s.post(
        "/api/v1/conversations",
        Some(&a),
        json!({"id": conv, "subject": "Broken", "message_id": Uuid::new_v4(), "body": "see photo"}),
    )
    .await;

    let (st, v) = put(
        &s,
        &a,
        &conv,
        Uuid::new_v4(),
        "virus.png",
        b"MZ\x90\0 executable".to_vec(),
    )
    .await;
    assert_eq!(
        (st.as_u16(), v["details"]["fields"]["file"].as_str()),
        (422, Some("not_an_image_or_pdf"))
    );
    let mut big = PNG.to_vec();
    big.resize(10 * 1024 * 1024 + 1, 0);
    let (st, v) = put(&s, &a, &conv, Uuid::new_v4(), "big.png", big).await;
    assert_eq!(
        (st.as_u16(), v["code"].as_str()),
        (413, Some("payload_too_large"))
    );
    assert_eq!(
        put(&s, &b, &conv, Uuid::new_v4(), "x.png", PNG.to_vec())
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    let photo = Uuid::new_v4();
    let (st, att) = put(&s, &a, &conv, photo, "broken%20mug.png", PNG.to_vec()).await;
    assert_eq!(st, StatusCode::CREATED, "{att}");
    assert_eq!(
        (att["content_type"].as_str(), att["filename"].as_str()),
        (Some("image/png"), Some("broken mug.png"))
    );
    assert_eq!(
        put(&s, &a, &conv, photo, "broken mug.png", PNG.to_vec())
            .await
            .0,
        StatusCode::CREATED,
        "idempotent"
    );
    // Not sent yet: only its uploader (and staff) can read it.
    assert_eq!(fetch(&s, &b, photo).await.0, StatusCode::NOT_FOUND);

    let (st, msg) = s
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            Some(&a),
            json!({"id": Uuid::new_v4(), "body": "", "attachment_ids": [photo]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{msg}");
    assert_eq!(msg["attachments"][0]["id"], photo.to_string());
    let (st, bytes, ct) = fetch(&s, &agent, photo).await;
    assert_eq!(
        (st, bytes.as_slice(), ct.as_str()),
        (StatusCode::OK, PNG, "image/png")
    );
    assert_eq!(fetch(&s, &a, photo).await.0, StatusCode::OK);
    assert_eq!(fetch(&s, &b, photo).await.0, StatusCode::NOT_FOUND);
    let (_, thread) = s
        .get(&format!("/api/v1/conversations/{conv}"), &agent)
        .await;
    assert_eq!(
        thread["messages"][1]["attachments"][0]["filename"],
        "broken mug.png"
    );
    // An attachment cannot be sent twice.
    let (st, _) = s
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            Some(&a),
            json!({"id": Uuid::new_v4(), "body": "again", "attachment_ids": [photo]}),
        )
        .await;
    assert_eq!(st.as_u16(), 422);

    // A file on an internal note stays with the staff.
    let internal = Uuid::new_v4();
    put(
        &s,
        &agent,
        &conv,
        internal,
        "invoice.pdf",
        b"%PDF-1.7\n...".to_vec(),
    )
    .await;
    s.post(
        &format!("/api/v1/conversations/{conv}/messages"),
        Some(&agent),
        json!({"id": Uuid::new_v4(), "body": "supplier invoice", "kind": "note", "attachment_ids": [internal]}),
    )
    .await;
    assert_eq!(fetch(&s, &a, internal).await.0, StatusCode::NOT_FOUND);
    assert_eq!(fetch(&s, &agent, internal).await.2, "application/pdf");
    s.finish().await;
}

/// Account deletions sweep files no row refers to; uploads by other
/// people in flight at that moment must keep theirs. Several accounts
/// upload many files at once while other accounts are deleted; afterwards
/// every upload that was answered 201 downloads with its bytes.
async fn uploads_survive_concurrent_account_deletions(backend: Backend) {
    // 300 uploads, at most the unsent quota per person, 30 in flight.
    const UPLOADERS: usize = 15;
    const UPLOADS_EACH: usize =
        mostrador_server::routes::attachments::MAX_UNSENT_UPLOADS as usize;
    const IN_FLIGHT_EACH: usize = 2;
    const DELETIONS: usize = 16;
    let s = std::sync::Arc::new(TestServer::start(backend).await);
    let mut uploaders = Vec::new();
    for i in 0..UPLOADERS {
        let (token, _) = s.customer(&format!("up{i}@example.com")).await;
        let conv = Uuid::new_v4().to_string();
        let (st, v) = s
            .post(
                "/api/v1/conversations",
                Some(&token),
                json!({"id": conv, "subject": "Photos", "message_id": Uuid::new_v4(), "body": "see"}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        uploaders.push((token, conv));
    }
    let mut doomed = Vec::new();
    for i in 0..DELETIONS {
        let (token, _) = s.customer(&format!("gone{i}@example.com")).await;
        doomed.push(token);
    }

    let mut tasks = Vec::new();
    for (u, (token, conv)) in uploaders.iter().enumerate() {
        for lane in 0..IN_FLIGHT_EACH {
            let (s, token, conv) = (s.clone(), token.clone(), conv.clone());
            tasks.push(tokio::spawn(async move {
                let mut done = Vec::new();
                for n in (lane..UPLOADS_EACH).step_by(IN_FLIGHT_EACH) {
                    let id = Uuid::new_v4();
                    let mut bytes = PNG.to_vec();
                    bytes.extend_from_slice(format!("{u}/{n}/{id}").as_bytes());
                    let (st, v) = put(&s, &token, &conv, id, "p.png", bytes.clone()).await;
                    assert_eq!(st, StatusCode::CREATED, "{v}");
                    done.push((token.clone(), conv.clone(), id, bytes));
                }
                done
            }));
        }
    }
    let deleter = {
        let s = s.clone();
        tokio::spawn(async move {
            for token in doomed {
                tokio::time::sleep(std::time::Duration::from_millis(15)).await;
                let (st, v) = s
                    .call(reqwest::Method::DELETE, "/api/v1/me", Some(&token), None)
                    .await;
                assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
            }
        })
    };
    let mut uploaded = Vec::new();
    for t in tasks {
        uploaded.extend(t.await.unwrap());
    }
    deleter.await.unwrap();
    assert_eq!(uploaded.len(), UPLOADERS * UPLOADS_EACH);

    let mut lost = Vec::new();
    for (token, _, id, bytes) in &uploaded {
        let (st, got, _) = fetch(&s, token, *id).await;
        if st != StatusCode::OK || &got != bytes {
            lost.push((*id, st));
        }
    }
    assert!(
        lost.is_empty(),
        "{} of {} uploads lost their file: {:?}",
        lost.len(),
        uploaded.len(),
        &lost[..lost.len().min(5)]
    );
    // No temporary file is left behind, and resending an upload whose file
    // went missing puts it back.
    let dir = &s.state.config.upload_dir;
    let names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".part")), "{names:?}");
    let (token, conv, id, bytes) = &uploaded[0];
    std::fs::remove_file(dir.join(id.to_string())).unwrap();
    let (st, _) = put(&s, token, conv, *id, "p.png", bytes.clone()).await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(&fetch(&s, token, *id).await.1, bytes);
    match std::sync::Arc::try_unwrap(s) {
        Ok(s) => s.finish().await,
        Err(_) => panic!("server still shared"),
    }
}

/// A log sink for one future: what `tracing` wrote while it ran.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The sweep removes temporary files left behind long ago (and keeps
/// fresh ones: an upload may be writing them), and names in the log every
/// file it could not remove.
async fn the_sweep_clears_stale_parts_and_logs_what_it_cannot_remove(backend: Backend) {
    use tracing::instrument::WithSubscriber;
    let s = TestServer::start(backend).await;
    let dir = s.state.config.upload_dir.clone();
    std::fs::create_dir_all(&dir).unwrap();
    let stale = dir.join(format!("{}.0123.part", Uuid::new_v4()));
    let fresh = dir.join(format!("{}.4567.part", Uuid::new_v4()));
    for p in [&stale, &fresh] {
        std::fs::write(p, PNG).unwrap();
    }
    let two_days_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 86_400);
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(two_days_ago)
        .unwrap();
    // An orphan that cannot be removed as a file.
    let stuck = Uuid::new_v4();
    std::fs::create_dir(dir.join(stuck.to_string())).unwrap();

    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    mostrador_server::routes::attachments::sweep_orphans(&s.state)
        .with_subscriber(subscriber)
        .await;
    let log = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(!stale.exists(), "a stale temporary file is removed");
    assert!(fresh.exists(), "a fresh temporary file is kept");
    assert!(
        log.contains("WARN") && log.contains(&stuck.to_string()),
        "the file it could not remove is named: {log:?}"
    );
    s.finish().await;
}

on_both_backends!(
    attachments_are_checked_stored_and_served_to_the_allowed,
    uploads_survive_concurrent_account_deletions,
    the_sweep_clears_stale_parts_and_logs_what_it_cannot_remove,
);
