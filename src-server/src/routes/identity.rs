//! Signed identity: the shop vouches for its shopper, and the shopper gets a
//! session without a second password (`POST /api/v1/auth/identity`).
//!
//! The shop's backend signs a JWT (HS256, the per-shop secret
//! `--identity-secret`) with the claims `email` (required), `name`, `sub`,
//! `exp` (required, at most 24 h ahead), `iat`, `jti` (required). The widget
//! hands it to the web app, which exchanges it here for a session answered
//! exactly like a login. Checks, in order: a secret is configured (else 503
//! `identity_not_configured`), the token is three base64url parts whose
//! header says `HS256` and nothing we do not understand (`none`, `RS256`,
//! `crit` are refused), the HMAC matches (constant time), the claims are
//! present and sane (else 401 `identity_invalid`), `exp` has not passed
//! (401 `identity_expired`), and the `jti` was never exchanged before (401
//! `identity_replayed`; used ids are kept in `identity_jtis` until their
//! `exp`, so every server instance sharing the database refuses a replay).
//! Identities not signed with the shop's secret count against the sign-in
//! throttle of the client address (429 with `Retry-After`), as failed
//! logins do; refusals of identities the shop did sign do not (an expired
//! page is no attack).
//!
//! The account: the verified holder of the address, if a customer; else a
//! new customer created with the address already verified (the shop
//! vouches for it) and no password (`'!'`, which no password matches;
//! a password reset by mail can set one), linked to the orders the shop
//! already sent for the address. Unverified claims of the address by other
//! accounts are left alone: they never get the orders. Staff and disabled
//! accounts cannot be entered this way.
//!
//! **Invariant:** the token is never logged, echoed in an error or stored;
//! only a hash of its `jti` is kept.

use axum::extract::State;
use base64::Engine;
use hmac::{Hmac, Mac};
use mostrador_core::auth::{
    normalize_email, AuthResponse, IdentityRequest, Role, MAX_IDENTITY_TTL_SECS,
};
use mostrador_core::{ApiError, ErrorCode};
use serde_json::Value;
use sha2::Sha256;
use sqlx::Row;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::accounts::{create_session, insert_user_with_id, validate_name_field};
use super::credentials::link_orders;
use super::users::{audit, load_me};
use crate::auth::{self, ClientAddr};
use crate::db::{now_ms, ts, uuid, Tx};
use crate::error::{AppError, AppResult};
use crate::extract::Json;
use crate::feed::{self, Change, Entity};
use crate::state::AppState;

/// Longest identity token accepted, in bytes.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Longest `jti` and `sub`, in characters.
pub const MAX_ID_CHARS: usize = 255;
/// Clock difference between the shop and us tolerated on `exp`, `iat`
/// and `nbf`, in seconds.
pub const LEEWAY_SECS: i64 = 60;
/// The stored password hash of an account that has none.
const NO_PASSWORD: &str = "!";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(exchange))
}

/// What a valid identity says.
#[derive(Clone, PartialEq, Eq)]
pub struct Claims {
    /// Normalized (`normalize_email`).
    pub email: String,
    pub name: Option<String>,
    pub sub: Option<String>,
    /// Unix seconds.
    pub exp: i64,
    pub jti: String,
}

impl std::fmt::Debug for Claims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claims")
            .field("exp", &self.exp)
            .finish_non_exhaustive()
    }
}

/// Why an identity is refused. The messages say what, for the shop's
/// developers (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not signed with the shop's secret (or not a JWT, or not HS256):
    /// possibly a guess, so it counts against the client's throttle.
    Forged(String),
    /// Signed by the shop, but its claims are not acceptable.
    Invalid(String),
    Expired,
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Forged(why) | Refusal::Invalid(why) => AppError::new(
                ErrorCode::IdentityInvalid,
                format!("the signed identity is not valid: {why}"),
            ),
            Refusal::Expired => AppError::new(
                ErrorCode::IdentityExpired,
                "the signed identity has expired; the shop must sign a fresh one",
            ),
        }
    }
}

fn invalid(why: impl Into<String>) -> Refusal {
    Refusal::Invalid(why.into())
}

fn forged(why: &str) -> Refusal {
    Refusal::Forged(why.into())
}

/// A JWS part: base64url without padding (RFC 7515), nothing else, so
/// one signed identity has one spelling.
fn b64(part: &str) -> Result<Vec<u8>, Refusal> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| forged("a part is not base64url without padding"))
}

fn mac(secret: &[u8], signed: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(signed.as_bytes());
    mac
}

/// An integer NumericDate claim (fractions are cut).
fn seconds(claims: &Value, name: &str) -> Result<Option<i64>, Refusal> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| invalid(format!("`{name}` is not a number of seconds"))),
    }
}

fn text<'a>(claims: &'a Value, name: &str) -> Result<Option<&'a str>, Refusal> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(invalid(format!("`{name}` is not a string"))),
    }
}

/// Checks an identity token signed with `secret` at `now` (Unix seconds).
/// Pure: the `jti`'s single use is the caller's to enforce.
pub fn verify(secret: &[u8], token: &str, now: i64) -> Result<Claims, Refusal> {
    let token = token.trim();
    if token.len() > MAX_TOKEN_BYTES {
        return Err(forged("the token is too long"));
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts[..] else {
        return Err(forged("a JWT has three dot-separated parts"));
    };
    let header: Value =
        serde_json::from_slice(&b64(header)?).map_err(|_| forged("the header is not JSON"))?;
    if header.get("alg").and_then(Value::as_str) != Some("HS256") {
        return Err(forged("only alg HS256 is accepted"));
    }
    if header
        .get("typ")
        .is_some_and(|t| !t.as_str().is_some_and(|t| t.eq_ignore_ascii_case("JWT")))
    {
        return Err(forged("typ must be JWT"));
    }
    if header.get("crit").is_some() {
        return Err(forged("critical header extensions are not supported"));
    }
    let signed_len = token.len() - signature.len() - 1;
    mac(secret, &token[..signed_len])
        .verify_slice(&b64(signature)?)
        .map_err(|_| forged("the signature does not match the shop's secret"))?;

    // Signed by the shop from here on.
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| invalid("the claims are not base64url without padding"))?;
    let claims: Value =
        serde_json::from_slice(&payload).map_err(|_| invalid("the claims are not JSON"))?;
    if !claims.is_object() {
        return Err(invalid("the claims are not a JSON object"));
    }
    let exp = seconds(&claims, "exp")?.ok_or_else(|| invalid("`exp` is required"))?;
    if exp.saturating_add(LEEWAY_SECS) <= now {
        return Err(Refusal::Expired);
    }
    if exp > now.saturating_add(MAX_IDENTITY_TTL_SECS + LEEWAY_SECS) {
        return Err(invalid("`exp` is more than 24 hours ahead"));
    }
    for name in ["iat", "nbf"] {
        if seconds(&claims, name)?.is_some_and(|t| t > now.saturating_add(LEEWAY_SECS)) {
            return Err(invalid(format!("`{name}` is in the future")));
        }
    }
    let email = text(&claims, "email")?
        .and_then(normalize_email)
        .ok_or_else(|| invalid("`email` is required and must be an email address"))?;
    let jti = text(&claims, "jti")?
        .filter(|j| !j.trim().is_empty())
        .ok_or_else(|| invalid("`jti` is required"))?;
    let sub = text(&claims, "sub")?;
    for (name, value) in [("jti", Some(jti)), ("sub", sub)] {
        if value.is_some_and(|v| v.chars().count() > MAX_ID_CHARS) {
            return Err(invalid(format!(
                "`{name}` is longer than {MAX_ID_CHARS} characters"
            )));
        }
    }
    let name = match text(&claims, "name")? {
        Some(n) if !n.trim().is_empty() => Some(validate_name_field("name", n).map_err(|e| {
            let problem = match &e {
                AppError::Api(api) => api.field_problem().map_or("invalid", |(_, p)| p),
                _ => "invalid",
            };
            invalid(format!("`name` is not an acceptable name ({problem})"))
        })?),
        _ => None,
    };
    Ok(Claims {
        email,
        name,
        sub: sub.map(str::to_owned),
        exp,
        jti: jti.to_owned(),
    })
}

/// Signs `claims` (a JSON object) as an HS256 JWT, the way a shop does
/// (for the demo shop page, tests and integrators).
pub fn sign(secret: &[u8], claims: &Value) -> String {
    let enc = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let signed = format!(
        "{}.{}",
        enc(br#"{"alg":"HS256","typ":"JWT"}"#),
        enc(claims.to_string().as_bytes())
    );
    let signature = enc(&mac(secret, &signed).finalize().into_bytes());
    format!("{signed}.{signature}")
}

/// Marks `jti` used until `exp` (Unix seconds); `false` if it already was.
/// Runs in the write transaction, so two exchanges of one identity are
/// serialised and only the first succeeds.
async fn use_jti(tx: &mut Tx, jti: &str, exp: i64) -> AppResult<bool> {
    let now = now_ms();
    sqlx::query("DELETE FROM identity_jtis WHERE expires_at < $1")
        .bind(now)
        .execute(&mut **tx)
        .await?;
    let hash = auth::hash_token(jti);
    let seen: Option<i64> =
        sqlx::query_scalar("SELECT expires_at FROM identity_jtis WHERE jti_hash = $1")
            .bind(&hash)
            .fetch_optional(&mut **tx)
            .await?;
    if seen.is_some() {
        return Ok(false);
    }
    // Kept past `exp` by the leeway, while the identity could still pass.
    let keep_until = exp
        .saturating_add(LEEWAY_SECS)
        .saturating_mul(1000)
        .max(now);
    sqlx::query("INSERT INTO identity_jtis (jti_hash, expires_at) VALUES ($1, $2)")
        .bind(&hash)
        .bind(keep_until)
        .execute(&mut **tx)
        .await?;
    Ok(true)
}

/// The customer account the identity signs in: the verified holder of the
/// address, or a new one (verified, no password, linked to the shop's
/// orders for the address).
async fn account_for(tx: &mut Tx, claims: &Claims) -> AppResult<Uuid> {
    let row =
        sqlx::query("SELECT id, role, disabled FROM users WHERE email = $1 AND deleted_at IS NULL")
            .bind(&claims.email)
            .fetch_optional(&mut **tx)
            .await?;
    if let Some(row) = row {
        let role = Role::parse(&row.try_get::<String, _>("role")?);
        if role != Some(Role::Customer) || row.try_get::<i64, _>("disabled")? != 0 {
            return Err(Refusal::Invalid(
                "this address belongs to an account that cannot sign in this way (staff sign in with their password)".into(),
            )
            .into());
        }
        return Ok(uuid(&row.try_get::<String, _>("id")?)?);
    }
    let id = Uuid::now_v7();
    let name = claims
        .name
        .clone()
        .unwrap_or_else(|| default_name(&claims.email));
    insert_user_with_id(
        tx,
        id,
        &claims.email,
        NO_PASSWORD,
        &name,
        Role::Customer,
        "en",
    )
    .await?;
    link_orders(tx, id, &claims.email).await?;
    feed::record(tx, Change::upsert(Entity::Profile, id, Some(id))).await?;
    audit(tx, None, "account.identity_created", Some(id)).await?;
    Ok(id)
}

/// A name for an account the shop sent none for: the address's local part
/// when it is an acceptable name.
fn default_name(email: &str) -> String {
    let local = email.split('@').next().unwrap_or_default();
    validate_name_field("name", local).unwrap_or_else(|_| "Customer".to_owned())
}

/// Exchanges a shop-signed identity for a session of that customer (created
/// on first use, with the orders the shop sent for the address). Answers
/// like `POST /api/v1/auth/login`. Identities not signed with the shop's
/// secret count against the sign-in throttle of the client address.
#[utoipa::path(post, path = "/api/v1/auth/identity", tag = "accounts", request_body = IdentityRequest,
    responses((status = 200, body = AuthResponse),
              (status = 401, description = "The identity is refused: `identity_invalid` (bad signature, algorithm or claims, an expiry more than 24 h ahead, or a staff address), `identity_expired`, or `identity_replayed` (its `jti` was used before)", body = ApiError),
              (status = 429, description = "Too many refused sign-ins from this client address", body = ApiError),
              (status = 503, description = "No identity secret is configured (`identity_not_configured`), or the database is busy", body = ApiError)))]
#[tracing::instrument(skip_all)]
pub async fn exchange(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Json(req): Json<IdentityRequest>,
) -> AppResult<Json<AuthResponse>> {
    let Some(secret) = state.config.identity_secret.as_deref() else {
        return Err(AppError::new(
            ErrorCode::IdentityNotConfigured,
            "this server accepts no signed identities: start it with --identity-secret",
        ));
    };
    // Not an email: the throttle's per-account key for identities from
    // this address (login keys are normalized addresses, never spaced).
    let key = format!("identity from {address}");
    if let Err(wait) = state.throttle.begin(&key, &address) {
        tracing::warn!(%address, "identity exchange throttled");
        return Err(auth::retry_later(
            ErrorCode::RateLimited,
            "too many refused sign-ins; try again later",
            wait.as_secs(),
        ));
    }
    let claims = match verify(secret.as_bytes(), &req.identity, now_ms() / 1000) {
        Ok(claims) => claims,
        Err(refusal @ Refusal::Forged(_)) => {
            tracing::info!("refused an identity not signed with the shop's secret");
            return Err(refusal.into());
        }
        Err(refusal) => {
            tracing::info!(?refusal, "refused a signed identity");
            // The shop signed it: not a guess, so not held against anyone.
            state.throttle.succeeded(&key, &address);
            return Err(refusal.into());
        }
    };
    state.throttle.succeeded(&key, &address);
    signed_in(&state, &req, claims).await.map(Json)
}

async fn signed_in(
    state: &AppState,
    req: &IdentityRequest,
    claims: Claims,
) -> AppResult<AuthResponse> {
    let mut tx = state.db.begin_write().await?;
    if !use_jti(&mut tx, &claims.jti, claims.exp).await? {
        return Err(AppError::Api(ApiError::new(
            ErrorCode::IdentityReplayed,
            "this signed identity was already used; the shop must sign a fresh one (with a new jti) for each sign-in",
        )));
    }
    let user_id = account_for(&mut tx, &claims).await?;
    let device = req.device_name.clone().or_else(|| Some("Web".to_owned()));
    let (token, session_id, expires) = create_session(&mut tx, state, user_id, device).await?;
    let user = load_me(&mut tx, user_id).await?;
    feed::commit(state, tx).await?;
    tracing::info!(user.id = %user_id, "signed in with a shop-signed identity");
    Ok(AuthResponse {
        token,
        session_id,
        expires_at: ts(expires),
        user,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SECRET: &[u8] = b"shop secret";
    const NOW: i64 = 1_800_000_000;

    fn claims() -> Value {
        json!({"email": " Ana@Example.com ", "name": "Ana García", "sub": "c-1", "exp": NOW + 600, "iat": NOW, "jti": "j-1"})
    }

    fn with(change: impl FnOnce(&mut Value)) -> String {
        let mut c = claims();
        change(&mut c);
        sign(SECRET, &c)
    }

    fn refusal(token: &str) -> Refusal {
        verify(SECRET, token, NOW).unwrap_err()
    }

    #[test]
    fn a_signed_identity_gives_its_claims() {
        let c = verify(SECRET, &sign(SECRET, &claims()), NOW).unwrap();
        assert_eq!(c.email, "ana@example.com");
        assert_eq!(c.name.as_deref(), Some("Ana García"));
        assert_eq!(c.sub.as_deref(), Some("c-1"));
        assert_eq!((c.exp, c.jti.as_str()), (NOW + 600, "j-1"));
        assert!(!format!("{c:?}").contains("ana"), "Debug hides the claims");
    }

    #[test]
    fn forged_or_foreign_tokens_are_invalid() {
        let good = sign(SECRET, &claims());
        let other = sign(b"another secret", &claims());
        assert!(matches!(refusal(&other), Refusal::Forged(_)));
        // A changed claim breaks the signature.
        let (head, rest) = good.split_once('.').unwrap();
        let (_, sig) = rest.split_once('.').unwrap();
        let forged_claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
            json!({"email": "mallory@example.com", "exp": NOW + 600, "jti": "x"}).to_string(),
        );
        assert!(matches!(
            refusal(&format!("{head}.{forged_claims}.{sig}")),
            Refusal::Forged(_)
        ));
        // Padding, or a standard-alphabet character, is not base64url.
        assert!(matches!(refusal(&format!("{good}=")), Refusal::Forged(_)));
        let (signed, sig) = good.rsplit_once('.').unwrap();
        let std_sig = base64::engine::general_purpose::STANDARD_NO_PAD.encode(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(sig)
                .unwrap(),
        );
        if std_sig != sig {
            assert!(matches!(
                refusal(&format!("{signed}.{std_sig}")),
                Refusal::Forged(_)
            ));
        }
        for bad in ["", "a.b", "a.b.c.d", "!!.??.**", &good.replace('.', "")] {
            assert!(matches!(refusal(bad), Refusal::Forged(_)), "{bad}");
        }
    }

    #[test]
    fn only_hs256_is_accepted() {
        let enc =
            |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let body = enc(&claims());
        // alg none, with and without a signature.
        for header in [json!({"alg": "none"}), json!({"alg": "None", "typ": "JWT"})] {
            for sig in ["", "AAAA"] {
                let t = format!("{}.{body}.{sig}", enc(&header));
                assert!(matches!(refusal(&t), Refusal::Forged(_)));
            }
        }
        // HS512 / RS256 headers over a valid HS256 signature of the same text.
        for alg in ["HS512", "RS256", "hs256"] {
            let signed = format!("{}.{body}", enc(&json!({"alg": alg})));
            let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(mac(SECRET, &signed).finalize().into_bytes());
            assert!(
                matches!(refusal(&format!("{signed}.{sig}")), Refusal::Forged(_)),
                "{alg}"
            );
        }
        let signed = format!("{}.{body}", enc(&json!({"alg": "HS256", "crit": ["exp"]})));
        let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(mac(SECRET, &signed).finalize().into_bytes());
        assert!(matches!(
            refusal(&format!("{signed}.{sig}")),
            Refusal::Forged(_)
        ));
    }

    #[test]
    fn times_are_checked_with_a_small_leeway() {
        assert_eq!(
            refusal(&with(|c| c["exp"] = json!(NOW - LEEWAY_SECS))),
            Refusal::Expired
        );
        assert!(verify(
            SECRET,
            &with(|c| c["exp"] = json!(NOW - LEEWAY_SECS + 1)),
            NOW
        )
        .is_ok());
        let day = MAX_IDENTITY_TTL_SECS;
        assert!(verify(SECRET, &with(|c| c["exp"] = json!(NOW + day)), NOW).is_ok());
        assert!(matches!(
            refusal(&with(|c| c["exp"] = json!(NOW + day + LEEWAY_SECS + 1))),
            Refusal::Invalid(_)
        ));
        assert!(matches!(
            refusal(&with(|c| c["iat"] = json!(NOW + 3600))),
            Refusal::Invalid(_)
        ));
        assert!(matches!(
            refusal(&with(|c| c["nbf"] = json!(NOW + 3600))),
            Refusal::Invalid(_)
        ));
        assert!(verify(
            SECRET,
            &with(|c| c["exp"] = json!((NOW + 600) as f64 + 0.5)),
            NOW
        )
        .is_ok());
        assert!(matches!(
            refusal(&with(|c| c["exp"] = json!("soon"))),
            Refusal::Invalid(_)
        ));
    }

    #[test]
    fn required_and_checked_claims() {
        for drop in ["email", "exp", "jti"] {
            let t = with(|c| {
                c.as_object_mut().unwrap().remove(drop);
            });
            assert!(matches!(refusal(&t), Refusal::Invalid(_)), "{drop}");
        }
        assert!(matches!(
            refusal(&with(|c| c["email"] = json!("not-an-email"))),
            Refusal::Invalid(_)
        ));
        assert!(matches!(
            refusal(&with(|c| c["jti"] = json!("  "))),
            Refusal::Invalid(_)
        ));
        assert!(matches!(
            refusal(&with(|c| c["jti"] = json!("j".repeat(256)))),
            Refusal::Invalid(_)
        ));
        assert!(matches!(
            refusal(&with(|c| c["name"] = json!("N".repeat(101)))),
            Refusal::Invalid(_)
        ));
        assert!(matches!(
            refusal(&with(|c| c["name"] = json!("Ana\u{202E}x"))),
            Refusal::Invalid(_)
        ));
        let c = verify(SECRET, &with(|c| c["name"] = json!("  ")), NOW).unwrap();
        assert_eq!(c.name, None, "a blank name is no name");
        assert!(matches!(
            refusal(&"a".repeat(MAX_TOKEN_BYTES + 1)),
            Refusal::Forged(_)
        ));
    }

    #[test]
    fn a_refusal_never_echoes_the_token() {
        let t = with(|c| c["exp"] = json!("soon"));
        let AppError::Api(e) = AppError::from(refusal(&t)) else {
            panic!()
        };
        assert_eq!(e.code, ErrorCode::IdentityInvalid);
        assert!(!e.message.contains(&t[..20]));
        assert_eq!(default_name("ana.garcia@example.com"), "ana.garcia");
    }
}
