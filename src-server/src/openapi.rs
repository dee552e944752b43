//! What the generated OpenAPI document adds to the handlers' annotations:
//! the error answers every operation can give, by rule, and the field
//! limits the server enforces, read from the same constants its checks use.
//!
//! Both are derived rather than written per handler so the document cannot
//! fall behind the code: an operation that takes a body can always be
//! answered 400/413/422 by the extractors (`extract.rs`), a secured one 401
//! by `Actor`, one with a path resource 404, and every one 503 (the
//! per-request timeout in `serve.rs`, an unreachable database). Business
//! answers (403 for a role, 409, 429, 410) stay explicit in the handlers'
//! `#[utoipa::path]` blocks; an explicit answer without a description is
//! replaced by the shared component so every error reads the same.

use mostrador_core::{agent, auth, callbacks, chat, phone, sync, ErrorCode};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{Schema, Type};
use utoipa::openapi::{ContentBuilder, Header, ObjectBuilder, OpenApi, Ref, RefOr};

/// One error answer in the one shape (`ApiError`), kept once under
/// `components/responses/<name>`.
struct ErrorAnswer {
    code: ErrorCode,
    name: &'static str,
    description: &'static str,
    /// Whether the answer carries `Retry-After` (seconds).
    retry_after: bool,
    /// Which operations can give it without saying so themselves; `None`:
    /// only those that list it explicitly.
    applies: Option<fn(&Operation) -> bool>,
}

const ANSWERS: &[ErrorAnswer] = &[
    ErrorAnswer {
        code: ErrorCode::BadRequest,
        name: "BadRequest",
        description: "Malformed request: JSON that does not parse, a missing `Content-Type: application/json`, a path or query value of the wrong type (`bad_request`)",
        retry_after: false,
        applies: Some(takes_input),
    },
    ErrorAnswer {
        code: ErrorCode::Unauthorized,
        name: "Unauthorized",
        description: "No bearer token, or one that is unknown, revoked or expired (`unauthorized`)",
        retry_after: false,
        applies: Some(is_secured),
    },
    ErrorAnswer {
        code: ErrorCode::Forbidden,
        name: "Forbidden",
        description: "Signed in, but this needs another role (`forbidden`)",
        retry_after: false,
        applies: None,
    },
    ErrorAnswer {
        code: ErrorCode::NotFound,
        name: "NotFound",
        description: "The resource in the path does not exist or is not the caller's to see (`not_found`)",
        retry_after: false,
        applies: Some(has_path_resource),
    },
    ErrorAnswer {
        code: ErrorCode::Conflict,
        name: "Conflict",
        description: "The request conflicts with the resource's current state (`conflict`)",
        retry_after: false,
        applies: None,
    },
    ErrorAnswer {
        code: ErrorCode::ResyncRequired,
        name: "ResyncRequired",
        description: "The cursor is older than the feed keeps; start a full resync (`resync_required`)",
        retry_after: false,
        applies: None,
    },
    ErrorAnswer {
        code: ErrorCode::PayloadTooLarge,
        name: "PayloadTooLarge",
        description: "The body is larger than this endpoint accepts (`payload_too_large`)",
        retry_after: false,
        applies: Some(has_body),
    },
    ErrorAnswer {
        code: ErrorCode::ValidationFailed,
        name: "ValidationFailed",
        description: "A field failed validation; `details.fields` names it and the problem, e.g. `{\"body\": \"too_long\"}` (`validation_failed`)",
        retry_after: false,
        applies: Some(is_validated),
    },
    ErrorAnswer {
        code: ErrorCode::RateLimited,
        name: "RateLimited",
        description: "Too many attempts; try again after `Retry-After` seconds (`rate_limited`)",
        retry_after: true,
        applies: None,
    },
    ErrorAnswer {
        code: ErrorCode::Unavailable,
        name: "Unavailable",
        description: "The database is busy or unreachable, or the request took too long; try again after `Retry-After` seconds (`unavailable`)",
        retry_after: true,
        applies: Some(|_| true),
    },
];

fn takes_input(op: &Operation) -> bool {
    has_body(op) || op.parameters.as_ref().is_some_and(|p| !p.is_empty())
}

fn is_secured(op: &Operation) -> bool {
    op.security.as_ref().is_some_and(|s| !s.is_empty())
}

fn has_body(op: &Operation) -> bool {
    op.request_body.is_some()
}

fn has_param(op: &Operation, place: fn(&ParameterIn) -> bool) -> bool {
    op.parameters
        .iter()
        .flatten()
        .any(|p| place(&p.parameter_in))
}

fn has_path_resource(op: &Operation) -> bool {
    has_param(op, |p| matches!(p, ParameterIn::Path))
}

/// Bodies and query strings are checked field by field (422); a path
/// value only parses or not (400).
fn is_validated(op: &Operation) -> bool {
    has_body(op) || has_param(op, |p| matches!(p, ParameterIn::Query))
}

fn answer_component(answer: &ErrorAnswer) -> Response {
    let mut builder = ResponseBuilder::new()
        .description(answer.description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ApiError")))
                .build(),
        );
    if answer.retry_after {
        builder = builder.header(
            "Retry-After",
            Header::new(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0)),
            ),
        );
    }
    builder.build()
}

/// Adds the standard error answers to every operation of `api`.
pub fn add_error_answers(api: &mut OpenApi) {
    let components = api.components.get_or_insert_with(Default::default);
    for answer in ANSWERS {
        components
            .responses
            .insert(answer.name.to_owned(), RefOr::T(answer_component(answer)));
    }
    for item in api.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
            &mut item.trace,
        ];
        for op in ops.into_iter().flatten() {
            for answer in ANSWERS {
                let status = answer.code.http_status().to_string();
                let reference = RefOr::Ref(Ref::from_response_name(answer.name));
                match op.responses.responses.get(&status) {
                    // A bare explicit answer gets the shared description.
                    Some(RefOr::T(r)) if r.description.is_empty() => {
                        op.responses.responses.insert(status, reference);
                    }
                    Some(_) => {}
                    None if answer.applies.is_some_and(|applies| applies(op)) => {
                        op.responses.responses.insert(status, reference);
                    }
                    None => {}
                }
            }
        }
    }
}

/// A limit the server enforces on one field, in JSON Schema terms.
enum Limit {
    /// Free text (`extract::check_text`): at most `max` characters, none of
    /// the refused control characters; `required` text must hold something
    /// besides white space (the server trims before checking).
    Text { max: usize, required: bool },
    /// A person's or staff member's name (`extract::check_name`).
    Name { max: usize },
    /// A password: counted in characters.
    Chars { min: usize, max: usize },
    /// An integer range, both ends included.
    Range { min: i64, max: i64 },
    /// An array's length.
    Items { max: usize },
    /// What `phone::E164::parse` accepts (separators allowed), or blank
    /// (the server reads a blank number as none).
    Phone,
    /// An address as `auth::normalize_email` accepts it.
    Email,
    /// One of a fixed set of strings (or absent / null).
    OneOf(&'static [&'static str]),
}

/// (schema, property, limit): the request bodies' fields and their limits,
/// with the constants the checks in `routes/` use.
fn field_limits() -> Vec<(&'static str, &'static str, Limit)> {
    use Limit::*;
    let password = || Chars {
        min: auth::MIN_PASSWORD_LEN,
        max: auth::MAX_PASSWORD_LEN,
    };
    let name = || Name {
        max: auth::MAX_NAME_CHARS,
    };
    vec![
        ("RegisterRequest", "password", password()),
        ("RegisterRequest", "display_name", name()),
        ("CreateStaffRequest", "password", password()),
        ("CreateStaffRequest", "display_name", name()),
        ("ChangePasswordRequest", "new_password", password()),
        ("PasswordResetConfirm", "new_password", password()),
        (
            "OpenConversation",
            "subject",
            Text {
                max: chat::MAX_SUBJECT_CHARS,
                required: true,
            },
        ),
        (
            "OpenConversation",
            "body",
            Text {
                max: chat::MAX_MESSAGE_CHARS,
                required: true,
            },
        ),
        // Empty is allowed when the message carries attachments.
        (
            "SendMessage",
            "body",
            Text {
                max: chat::MAX_MESSAGE_CHARS,
                required: false,
            },
        ),
        ("Rating", "score", Range { min: 1, max: 5 }),
        (
            "Rating",
            "comment",
            Text {
                max: chat::MAX_COMMENT_CHARS,
                required: false,
            },
        ),
        (
            "PutCanned",
            "title",
            Text {
                max: agent::MAX_CANNED_TITLE_CHARS,
                required: true,
            },
        ),
        (
            "PutCanned",
            "body",
            Text {
                max: agent::MAX_CANNED_BODY_CHARS,
                required: true,
            },
        ),
        (
            "RequestCallback",
            "topic",
            Text {
                max: callbacks::MAX_TOPIC_CHARS,
                required: true,
            },
        ),
        (
            "RequestCallback",
            "windows",
            Items {
                max: callbacks::MAX_WINDOWS,
            },
        ),
        ("RequestCallback", "phone", Phone),
        (
            "RescheduleCallback",
            "windows",
            Items {
                max: callbacks::MAX_WINDOWS,
            },
        ),
        (
            "CallbackOutcome",
            "note",
            Text {
                max: callbacks::MAX_OUTCOME_NOTE_CHARS,
                required: false,
            },
        ),
        ("ProfileUpdate", "display_name", name()),
        ("ProfileUpdate", "phone", Phone),
        (
            "ProfileUpdate",
            "language",
            OneOf(&mostrador_core::profile::LANGUAGES),
        ),
        ("RegisterRequest", "email", Email),
        ("CreateStaffRequest", "email", Email),
        ("PasswordResetRequest", "email", Email),
        (
            "PushRequest",
            "mutations",
            Items {
                max: sync::MAX_PUSH,
            },
        ),
    ]
}

/// The characters `mostrador_core::text::is_allowed_char` refuses, as a
/// regular-expression class body (ECMA-262 and Rust `regex` alike).
const REFUSED_CONTROLS: &str = r"\u0000-\u0008\u000B\u000C\u000E-\u001F";
/// The direction controls `mostrador_core::text::is_bidi_control` refuses
/// in names.
const BIDI_CONTROLS: &str = r"\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C";

/// A pattern for text made of characters outside `refused`, with at least
/// one that is not white space when `required`.
pub fn text_pattern(refused: &str, required: bool) -> String {
    if required {
        format!(r"^[^{refused}]*[^\s{refused}][^{refused}]*$")
    } else {
        format!(r"^[^{refused}]*$")
    }
}

/// Free text as `extract::check_text` accepts it.
pub fn free_text_pattern(required: bool) -> String {
    text_pattern(REFUSED_CONTROLS, required)
}

/// A name as `extract::check_name` accepts it (never empty after trimming).
pub fn name_pattern() -> String {
    text_pattern(&format!("{REFUSED_CONTROLS}{BIDI_CONTROLS}"), true)
}

/// What `phone::E164::parse` accepts: `+`, then 7 to 15 digits, the first
/// not 0, with spaces, dashes, dots, brackets or no-break spaces between;
/// or nothing but white space.
pub fn phone_pattern() -> String {
    let sep = r"[ .()\u00A0-]*";
    let e164 = format!(
        r"\s*\+{sep}[1-9](?:{sep}[0-9]){{{},{}}}{sep}\s*",
        phone::MIN_DIGITS - 1,
        phone::MAX_DIGITS - 1
    );
    format!(r"^(?:{e164}|\s*)$")
}

/// What `auth::normalize_email` accepts (it trims first): no white space
/// or control characters, something before the first `@`, and after it a
/// domain with a dot that neither starts nor ends it. (Its 254-byte cap is
/// in bytes after lower-casing, which a pattern cannot count.)
pub fn email_pattern() -> String {
    let c = r"[^\s\u0000-\u001F\u007F-\u009F]";
    let cd = r"[^\s.\u0000-\u001F\u007F-\u009F]";
    format!(r"^\s*[^@\s\u0000-\u001F\u007F-\u009F]+@{cd}{c}*\.{c}*{cd}\s*$")
}

fn apply(limit: &Limit, schema: &mut Schema) {
    match (limit, schema) {
        (Limit::Text { max, required }, Schema::Object(o)) => {
            o.max_length = Some(*max);
            o.min_length = required.then_some(1);
            o.pattern = Some(free_text_pattern(*required));
        }
        (Limit::Name { max }, Schema::Object(o)) => {
            o.max_length = Some(*max);
            o.min_length = Some(1);
            o.pattern = Some(name_pattern());
        }
        (Limit::Chars { min, max }, Schema::Object(o)) => {
            o.min_length = Some(*min);
            o.max_length = Some(*max);
        }
        (Limit::Range { min, max }, Schema::Object(o)) => {
            o.minimum = Some((*min as isize).into());
            o.maximum = Some((*max as isize).into());
        }
        (Limit::Items { max }, Schema::Array(a)) => a.max_items = Some(*max),
        (Limit::Phone, Schema::Object(o)) => o.pattern = Some(phone_pattern()),
        (Limit::Email, Schema::Object(o)) => o.pattern = Some(email_pattern()),
        (Limit::OneOf(values), Schema::Object(o)) => {
            let mut allowed: Vec<serde_json::Value> = values.iter().map(|v| (*v).into()).collect();
            allowed.push(serde_json::Value::Null);
            o.enum_values = Some(allowed);
        }
        (_, other) => panic!(
            "OpenAPI field limit does not fit its schema: {}",
            serde_json::to_string(other).unwrap_or_default()
        ),
    }
}

/// Writes the server's field limits into the component schemas of `api`.
///
/// Panics (at start-up and in every test that builds the document) when a
/// named schema or property no longer exists, so a rename cannot silently
/// drop a limit from the document.
pub fn add_field_limits(api: &mut OpenApi) {
    let schemas = &mut api
        .components
        .as_mut()
        .expect("the document has components")
        .schemas;
    for (schema, property, limit) in field_limits() {
        let Some(RefOr::T(Schema::Object(object))) = schemas.get_mut(schema) else {
            panic!("OpenAPI schema {schema} is missing or not an object");
        };
        let Some(RefOr::T(field)) = object.properties.get_mut(property) else {
            panic!("OpenAPI schema {schema} has no inline property {property}");
        };
        apply(&limit, field);
    }
    // Query parameters are inline in their operations.
    if let Some(op) = api
        .paths
        .paths
        .get_mut("/api/v1/sync")
        .and_then(|item| item.get.as_mut())
    {
        for p in op.parameters.iter_mut().flatten() {
            if p.name == "since" {
                if let Some(RefOr::T(Schema::Object(o))) = p.schema.as_mut() {
                    o.minimum = Some(0isize.into());
                }
            }
        }
    }
}

/// The document's additions, in order.
pub fn complete(api: &mut OpenApi) {
    add_error_answers(api);
    add_field_limits(api);
}
