//! The OpenAPI document is the truth: every answer the running server gives
//! is documented for its operation, and the field limits in the document
//! are exactly where the server starts refusing.
//!
//! The document is read from the server (`/api/openapi.json`), the answers
//! come from real requests against it, and the limits are checked against
//! `mostrador_core`'s constants and the validators themselves.

mod common;

use common::{Backend, TestServer};
use mostrador_core::auth::Role;
use mostrador_core::ApiError;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

async fn spec(server: &TestServer) -> Value {
    reqwest::get(format!("{}/api/openapi.json", server.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// (method, path template, operation) for every operation in the document.
fn operations(spec: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((method.to_owned(), path.clone(), op.clone()));
            }
        }
    }
    out
}

fn params_in(op: &Value, place: &str) -> usize {
    op["parameters"]
        .as_array()
        .map_or(0, |ps| ps.iter().filter(|p| p["in"] == place).count())
}

/// The response documented for `status`, with `$ref`s to shared
/// components resolved.
fn documented<'a>(spec: &'a Value, op: &'a Value, status: u16) -> Option<&'a Value> {
    let response = op["responses"].get(status.to_string())?;
    match response.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.strip_prefix("#/components/responses/").unwrap();
            spec["components"]["responses"].get(name)
        }
        None => Some(response),
    }
}

async fn every_operation_documents_the_standard_error_answers(backend: Backend) {
    let server = TestServer::start(backend).await;
    let spec = spec(&server).await;
    let ops = operations(&spec);
    assert!(ops.len() > 40, "only {} operations", ops.len());
    for (method, path, op) in &ops {
        let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
        let body = op.get("requestBody").is_some();
        let query = params_in(op, "query") > 0;
        let path_params = params_in(op, "path") > 0;
        let input = body || query || path_params || params_in(op, "header") > 0;
        let expected = [
            (400, input),
            (401, secured),
            (404, path_params),
            (413, body),
            (422, body || query),
            (503, true),
        ];
        for (status, applies) in expected {
            if applies {
                assert!(
                    documented(&spec, op, status).is_some(),
                    "{method} {path} does not document {status}"
                );
            }
        }
        // Every error answer is the one shape, with a description.
        for (status, _) in op["responses"].as_object().unwrap() {
            let status: u16 = status.parse().unwrap();
            if status < 400 {
                continue;
            }
            let response = documented(&spec, op, status).unwrap();
            assert!(
                !response["description"]
                    .as_str()
                    .unwrap_or_default()
                    .is_empty(),
                "{method} {path} {status} has no description"
            );
            assert_eq!(
                response["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ApiError",
                "{method} {path} {status} is not an ApiError"
            );
        }
    }
    for (status, name) in [(503, "Unavailable"), (429, "RateLimited")] {
        assert!(
            spec["components"]["responses"][name]["headers"]["Retry-After"].is_object(),
            "{status} documents Retry-After"
        );
    }
    server.finish().await;
}

/// Who sends the probing requests.
#[derive(Debug, Clone, Copy)]
enum Caller {
    Nobody,
    Customer,
    Admin,
}

/// Sends a request to every operation as `caller`, with made-up ids in the
/// path, and an empty object (or, with `malformed`, broken JSON) as the
/// body; whatever the server answers must be documented for that
/// operation, and an error must be an `ApiError`. `malformed` also puts
/// something that is not an id into the path.
async fn probe_every_operation(
    server: &TestServer,
    spec: &Value,
    caller: Caller,
    token: Option<&str>,
    malformed: bool,
) -> Vec<String> {
    let mut ops = operations(spec);
    // Signing out and deleting the account go last: they end the session.
    ops.sort_by_key(|(m, p, _)| {
        (p == "/api/v1/auth/logout") as u8 * 2 + (m == "delete" && p == "/api/v1/me") as u8
    });
    let mut undocumented = Vec::new();
    for (method, template, op) in &ops {
        let has_body = op.get("requestBody").is_some();
        let has_path = params_in(op, "path") > 0;
        if malformed && !has_body && !has_path {
            continue;
        }
        let mut path = template.clone();
        while let (Some(a), Some(b)) = (path.find('{'), path.find('}')) {
            let id = if malformed {
                "not-an-id".to_owned()
            } else {
                Uuid::new_v4().to_string()
            };
            path.replace_range(a..=b, &id);
        }
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let mut req = server
            .http
            .request(method.clone(), format!("{}{path}", server.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if has_body {
            req = req
                .header("content-type", "application/json")
                .body(if malformed { "{\"id\": " } else { "{}" });
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let bytes = res.bytes().await.unwrap();
        let what =
            format!("{method} {template} as {caller:?} (malformed: {malformed}) -> {status}");
        if documented(spec, op, status).is_none() {
            undocumented.push(what.clone());
        }
        if status >= 400 {
            assert!(
                serde_json::from_slice::<ApiError>(&bytes).is_ok(),
                "{what}: not an ApiError: {}",
                String::from_utf8_lossy(&bytes)
            );
        }
        assert!(status < 500 || status == 503, "{what}: server error");
    }
    undocumented
}

async fn every_answer_the_server_gives_is_documented(backend: Backend) {
    let server = TestServer::start(backend).await;
    let spec = spec(&server).await;
    let (customer, _) = server.customer("probe@example.com").await;
    let (admin, _) = server.staff("boss@example.com", Role::Admin).await;
    let mut undocumented = Vec::new();
    for (caller, token) in [
        (Caller::Nobody, None),
        (Caller::Admin, Some(admin.as_str())),
        (Caller::Customer, Some(customer.as_str())),
    ] {
        for malformed in [true, false] {
            undocumented
                .extend(probe_every_operation(&server, &spec, caller, token, malformed).await);
        }
    }
    assert!(
        undocumented.is_empty(),
        "answers missing from the OpenAPI document:\n{}",
        undocumented.join("\n")
    );
    server.finish().await;
}

/// A property of a component schema.
fn property<'a>(spec: &'a Value, schema: &str, field: &str) -> &'a Value {
    let p = &spec["components"]["schemas"][schema]["properties"][field];
    assert!(p.is_object(), "{schema}.{field} missing");
    p
}

fn limit(spec: &Value, schema: &str, field: &str, key: &str) -> usize {
    property(spec, schema, field)[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{schema}.{field} has no {key}")) as usize
}

async fn the_documented_limits_are_where_the_server_refuses(backend: Backend) {
    let server = TestServer::start(backend).await;
    let spec = spec(&server).await;

    // A message body: at most `maxLength` characters.
    let max_body = limit(&spec, "SendMessage", "body", "maxLength");
    assert_eq!(max_body, mostrador_core::chat::MAX_MESSAGE_CHARS);
    let (customer, _) = server.customer("limits@example.com").await;
    let conv = Uuid::new_v4();
    let (s, v) = server
        .post(
            "/api/v1/conversations",
            Some(&customer),
            json!({"id": conv, "subject": "Limits", "message_id": Uuid::new_v4(), "body": "hello"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let messages = format!("/api/v1/conversations/{conv}/messages");
    let send = |n: usize| {
        server.post(
            &messages,
            Some(&customer),
            json!({"id": Uuid::new_v4(), "body": "ñ".repeat(n)}),
        )
    };
    let (s, v) = send(max_body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = send(max_body + 1).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["details"]["fields"]["body"], "too_long");

    // A rating's score: `minimum` to `maximum`, both accepted.
    let score = property(&spec, "Rating", "score");
    let (min, max) = (
        score["minimum"].as_i64().unwrap(),
        score["maximum"].as_i64().unwrap(),
    );
    assert_eq!((min, max), (1, 5));
    let (agent, _) = server.staff("agent@example.com", Role::Agent).await;
    let (s, v) = server
        .call(
            Method::PATCH,
            &format!("/api/v1/conversations/{conv}"),
            Some(&agent),
            Some(json!({"status": "resolved"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let rating = format!("/api/v1/conversations/{conv}/rating");
    for (score, expected) in [
        (min - 1, StatusCode::UNPROCESSABLE_ENTITY),
        (min, StatusCode::OK),
        (max, StatusCode::OK),
        (max + 1, StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (s, v) = server
            .post(&rating, Some(&customer), json!({"score": score}))
            .await;
        assert_eq!(s, expected, "score {score}: {v}");
    }

    // A password: `minLength` to `maxLength` characters.
    let min_pw = limit(&spec, "RegisterRequest", "password", "minLength");
    let max_pw = limit(&spec, "RegisterRequest", "password", "maxLength");
    assert_eq!(min_pw, mostrador_core::auth::MIN_PASSWORD_LEN);
    assert_eq!(max_pw, mostrador_core::auth::MAX_PASSWORD_LEN);
    let max_name = limit(&spec, "RegisterRequest", "display_name", "maxLength");
    assert_eq!(max_name, mostrador_core::auth::MAX_NAME_CHARS);
    for (i, (password, name, expected)) in [
        (min_pw - 1, 1, StatusCode::UNPROCESSABLE_ENTITY),
        (min_pw, 1, StatusCode::CREATED),
        (max_pw, max_name, StatusCode::CREATED),
        (max_pw + 1, 1, StatusCode::UNPROCESSABLE_ENTITY),
        (min_pw, max_name + 1, StatusCode::UNPROCESSABLE_ENTITY),
    ]
    .into_iter()
    .enumerate()
    {
        let (s, v) = server
            .post(
                "/api/v1/auth/register",
                None,
                json!({"email": format!("pw{i}@example.com"), "password": "é".repeat(password), "display_name": "N".repeat(name)}),
            )
            .await;
        assert_eq!(s, expected, "password {password}, name {name}: {v}");
    }
    server.finish().await;
}

fn matches(pattern: &str, text: &str) -> bool {
    regex::Regex::new(pattern).unwrap().is_match(text)
}

/// The patterns in the document say exactly what the validators accept.
async fn the_documented_patterns_match_the_validators(backend: Backend) {
    let server = TestServer::start(backend).await;
    let spec = spec(&server).await;
    let pattern = |schema: &str, field: &str| {
        property(&spec, schema, field)["pattern"]
            .as_str()
            .unwrap_or_else(|| panic!("{schema}.{field} has no pattern"))
            .to_owned()
    };
    let free = pattern("SendMessage", "body");
    let required = pattern("OpenConversation", "subject");
    let name = pattern("RegisterRequest", "display_name");
    let text = regex::Regex::new(&free).unwrap();
    let name_re = regex::Regex::new(&name).unwrap();
    let required_re = regex::Regex::new(&required).unwrap();
    for c in (0..=0x3000u32)
        .chain(0xFFF0..=0x1_0000)
        .filter_map(char::from_u32)
    {
        let s = format!("a{c}b");
        assert_eq!(
            text.is_match(&s),
            mostrador_core::text::is_clean(&s),
            "text U+{:04X}",
            c as u32
        );
        assert_eq!(
            name_re.is_match(&s),
            mostrador_core::text::is_clean_name(&s),
            "name U+{:04X}",
            c as u32
        );
        let alone = c.to_string();
        assert_eq!(
            required_re.is_match(&alone),
            mostrador_core::text::is_clean(&alone) && !alone.trim().is_empty(),
            "required text U+{:04X}",
            c as u32
        );
    }

    let phone = pattern("RequestCallback", "phone");
    for input in [
        "+34911234567",
        "+34 911 23-45-67",
        "+1 (415) 555.0100",
        " +4915112345678 ",
        "+123456",
        "+1234567",
        "+123456789012345",
        "+1234567890123456",
        "+0123456789",
        "34911234567",
        "+34 911 x 234",
        "+(3)4911234567",
        "",
        "  ",
    ] {
        // A blank number is read as none.
        assert_eq!(
            matches(&phone, input),
            mostrador_core::phone::E164::parse(input).is_ok() || input.trim().is_empty(),
            "phone {input:?}"
        );
    }
    assert_eq!(pattern("ProfileUpdate", "phone"), phone);

    let email = pattern("RegisterRequest", "email");
    for input in [
        "ana@example.com",
        " Ana@Example.COM ",
        "a@b.c",
        "a@b@c.d",
        "a@b..c",
        "@example.com",
        "ana@example",
        "ana@.example.com",
        "ana@example.com.",
        "ana maria@example.com",
        "ana\u{7}@example.com",
        "ana@exa\u{85}mple.com",
        "",
    ] {
        assert_eq!(
            matches(&email, input),
            mostrador_core::auth::normalize_email(input).is_some(),
            "email {input:?}"
        );
    }

    // And the server agrees with a name the pattern refuses.
    let (s, v) = server
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": "bidi@example.com", "password": "correct horse battery", "display_name": "Ana\u{202E}nimda"}),
        )
        .await;
    assert!(!matches(&name, "Ana\u{202E}nimda"));
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    server.finish().await;
}

on_both_backends!(
    every_operation_documents_the_standard_error_answers,
    every_answer_the_server_gives_is_documented,
    the_documented_limits_are_where_the_server_refuses,
    the_documented_patterns_match_the_validators,
);
