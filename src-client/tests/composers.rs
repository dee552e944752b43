//! The composers' side of the engine against the real server: an agent's
//! reply carries files the customer can download, drafts outlive the app,
//! and a message over the server's limit is refused before it is queued.

use mostrador_core::chat::MAX_MESSAGE_CHARS;
use mostrador_core::ErrorCode;

mod support;
use support::app::{agent, engine, register};
use support::server::{free_port, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agents_reply_with_a_file_reaches_the_customer_who_can_download_it() {
    const PDF: &[u8] = b"%PDF-1.4 a return label";
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(dir.path(), port).await;
    let shopper = engine(port, &dir.path().join("shopper.sqlite3")).await;
    shopper
        .register(&register("ana@example.com"))
        .await
        .unwrap();
    let conv = shopper.ask(None, "I need to return it").await.unwrap();
    shopper.push_pending().await.unwrap();

    let agent = agent(&server, port, &dir.path().join("agent.sqlite3")).await;
    agent.pull().await.unwrap();
    let file = agent.attach(conv, "label.pdf", PDF.to_vec()).await.unwrap();
    agent
        .reply(conv, "Here is your label", false, vec![file])
        .await
        .unwrap();
    let report = agent.push_pending().await.unwrap();
    assert_eq!((report.applied, report.rejected), (1, 0));

    shopper.pull().await.unwrap();
    let lines = shopper.thread(conv).await.unwrap();
    let reply = lines
        .iter()
        .find(|l| l.body == "Here is your label")
        .expect("the reply reached the customer");
    assert_eq!(reply.attachments.len(), 1, "with its file");
    assert_eq!(reply.attachments[0].filename, "label.pdf");
    assert_eq!(reply.attachments[0].content_type, "application/pdf");
    assert_eq!(
        shopper
            .attachment_bytes(reply.attachments[0].id)
            .await
            .unwrap(),
        PDF,
        "the customer downloads the agent's file"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_outlives_the_app_until_it_is_cleared() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.sqlite3");
    let port = free_port();
    let conv = uuid::Uuid::new_v4();
    let other = uuid::Uuid::new_v4();
    {
        let app = engine(port, &store).await;
        assert_eq!(app.draft(conv).await.unwrap(), None);
        app.save_draft(conv, "Half-written").await.unwrap();
        app.save_draft(conv, "Half-written answer").await.unwrap();
        app.save_draft(other, "elsewhere").await.unwrap();
    }
    // The app restarts on the same store.
    let app = engine(port, &store).await;
    assert_eq!(
        app.draft(conv).await.unwrap().as_deref(),
        Some("Half-written answer")
    );
    assert_eq!(
        app.draft(other).await.unwrap().as_deref(),
        Some("elsewhere")
    );
    // Nothing but blanks is no draft.
    app.save_draft(conv, "  \n ").await.unwrap();
    assert_eq!(app.draft(conv).await.unwrap(), None);
    assert_eq!(
        app.draft(other).await.unwrap().as_deref(),
        Some("elsewhere")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_limit_is_refused_before_it_is_queued() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(dir.path(), port).await;
    let app = engine(port, &dir.path().join("store.sqlite3")).await;
    app.register(&register("kim@example.com")).await.unwrap();
    let long = "a".repeat(MAX_MESSAGE_CHARS + 1);
    let err = app.ask(None, &long).await.unwrap_err().to_api_error();
    assert_eq!(err.code, ErrorCode::ValidationFailed);
    assert_eq!(err.field_problem(), Some(("body", "too_long")));
    let conv = app.ask(None, "short").await.unwrap();
    let err = app
        .say(conv, &long, vec![])
        .await
        .unwrap_err()
        .to_api_error();
    assert_eq!(err.field_problem(), Some(("body", "too_long")));
    let err = app
        .reply(conv, &long, true, vec![])
        .await
        .unwrap_err()
        .to_api_error();
    assert_eq!(err.field_problem(), Some(("body", "too_long")));
    // Exactly the limit is fine.
    app.say(conv, &"b".repeat(MAX_MESSAGE_CHARS), vec![])
        .await
        .unwrap();
    assert_eq!(
        app.store().outbox().await.unwrap().len(),
        2,
        "nothing else queued"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_and_ratings_the_server_refuses_are_refused_before_they_are_queued() {
    use mostrador_core::chat::MAX_COMMENT_CHARS;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(dir.path(), port).await;
    let app = engine(port, &dir.path().join("store.sqlite3")).await;
    app.register(&register("lee@example.com")).await.unwrap();
    let conv = app.ask(None, "short").await.unwrap();
    let problem = |e: mostrador_client::ClientError| {
        let e = e.to_api_error();
        let (field, problem) = e.field_problem().expect("a field is named");
        (field.to_owned(), problem.to_owned())
    };
    // core's chat::check_body, as the server runs it.
    let err = app
        .say(conv, "ring \u{7} the bell", vec![])
        .await
        .unwrap_err();
    assert_eq!(problem(err), ("body".into(), "invalid_characters".into()));
    let err = app.reply(conv, "note\0", true, vec![]).await.unwrap_err();
    assert_eq!(problem(err), ("body".into(), "invalid_characters".into()));
    // core's Rating::check, as the server runs it.
    for score in [0, 6] {
        let err = app.rate(conv, score, None).await.unwrap_err();
        assert_eq!(problem(err), ("score".into(), "out_of_range".into()));
    }
    let long = "x".repeat(MAX_COMMENT_CHARS + 1);
    let err = app.rate(conv, 5, Some(long)).await.unwrap_err();
    assert_eq!(problem(err), ("comment".into(), "too_long".into()));
    let err = app
        .rate(conv, 5, Some("\u{1b}[31m".into()))
        .await
        .unwrap_err();
    assert_eq!(
        problem(err),
        ("comment".into(), "invalid_characters".into())
    );
    assert_eq!(
        app.store().outbox().await.unwrap().len(),
        1,
        "only the question is queued"
    );
    server.stop().await;
}
