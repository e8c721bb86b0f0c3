//! `POST /support/submit`: a web form request becomes a ticket.

use axum::Json;
use axum::extract::State;
use fte_channels::web_identity::verify_identity_token;
use fte_domain::{EmailAddress, TicketId};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use utoipa::ToSchema;

use super::form::{SubmitRequest, ValidSubmission};
use crate::error::{AppJson, ErrorBody, FieldError};
use crate::estimate::Estimate;
use crate::idempotency::{self, IdempotencyKey, SubmitKey};
use crate::ratelimit::ClientIp;
use crate::submit::{Accepted, KeyClaim, SubmitError};
use crate::ticket_access::{self, NewAccessKey};
use crate::{ApiError, AppState};

/// `200` of `POST /support/submit`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmitResponse {
    /// The new ticket's id; keep it to follow the conversation.
    pub ticket_id: String,
    /// The ticket's access key, shown this once: it lets its holder read the
    /// ticket's thread and write into it (`X-Ticket-Access-Key` or
    /// `?access_key=`). Only its digest is stored.
    pub access_key: String,
    /// A confirmation for the customer.
    pub message: String,
    /// When a reply can be expected, in English words.
    pub estimated_response_time: String,
    /// The same estimate as data (from the current queue).
    pub estimate: Estimate,
}

impl SubmitResponse {
    fn accepted(ticket_id: TicketId, key: NewAccessKey, estimate: Estimate) -> Self {
        Self {
            ticket_id: ticket_id.to_string(),
            access_key: key.key,
            message: "Thank you, we received your request. We will answer on this page and by \
                      email."
                .to_owned(),
            estimated_response_time: estimate.text.clone(),
            estimate,
        }
    }
}

/// Accepts a support request from the web form.
///
/// The ticket, its customer, conversation and first message, the digest of
/// its access key and the events announcing it commit in one transaction;
/// the events are then published (or, if Kafka is down, published later by
/// the outbox relay). A 200 therefore always means the request is durable
/// and will be processed.
///
/// Send an `Idempotency-Key` (a UUID made once per submission) to retry
/// safely: a retry with the same key, email and fields answers the first
/// ticket again, with the same access key, and stores nothing new.
#[utoipa::path(
    post,
    path = "/support/submit",
    tag = "support",
    params(
        ("Idempotency-Key" = Option<String>, Header, nullable = false, description = "Optional; 16 to 255 visible ASCII characters, one per submission (a UUID), reused on every retry of it. A retry with the same key, email and fields answers the first ticket and access key; the key is bound to the submitted email, so it opens nothing for another address.", min_length = 16, max_length = 255, pattern = "^[!-~]{16,255}$"),
    ),
    request_body = SubmitRequest,
    responses(
        (status = 200, description = "Accepted: the ticket exists (or, for a retried Idempotency-Key, existed already)", body = SubmitResponse),
        (status = 400, description = "Not JSON, a value the database refuses, or a malformed Idempotency-Key (`invalid_idempotency_key`)", body = ErrorBody),
        (status = 403, description = "The bot challenge did not pass (`challenge_failed`), or identity_token does not verify for this email (or no WEB_IDENTITY_SECRET is set; the field is named)", body = ErrorBody),
        (status = 413, description = "Body over the limit", body = ErrorBody),
        (status = 409, description = "The Idempotency-Key was first used with other fields (`idempotency_key_reused`)", body = ErrorBody),
        (status = 422, description = "Fields failed validation (each one named)", body = ErrorBody),
        (status = 429, description = "Rate limited; see Retry-After", body = ErrorBody),
        (status = 503, description = "Database or challenge provider unavailable; see Retry-After", body = ErrorBody),
    )
)]
pub async fn submit(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    IdempotencyKey(idempotency_key): IdempotencyKey,
    AppJson(form): AppJson<SubmitRequest>,
) -> Result<Json<SubmitResponse>, ApiError> {
    // The rules first, for everyone: a filled honeypot does not turn an
    // invalid submission into a 200, so the document's rules hold for every
    // body (the rules are public; the honeypot's verdict stays hidden).
    let mut submission = form.validate().map_err(ApiError::Validation)?;
    if form.is_bot() {
        // Look accepted, store nothing: the sender learns nothing.
        tracing::info!(channel = "web_form", "honeypot submission dropped");
        let estimate = state.estimator.bot(&state.pool).await;
        return Ok(Json(SubmitResponse::accepted(
            TicketId::new(),
            ticket_access::new_key()?,
            estimate,
        )));
    }
    submission.email_verified = email_proof(
        state.api.web_identity_secret.as_ref(),
        &submission.email,
        form.identity_token.as_deref(),
    )?;
    let idempotency = idempotency_key
        .as_deref()
        .map(|key| SubmitKey::new(key, &submission));
    if let Some(idempotency) = &idempotency {
        // A retry answers before the challenge: its token was spent.
        if let Some(stored) =
            fte_store::idempotency::find(&state.pool, &idempotency.scope_hash).await?
        {
            return replay(&state, idempotency, &stored).await;
        }
    }
    crate::challenge::check(&state, form.challenge_token.as_deref(), client).await?;
    let key = ticket_access::new_key()?;
    let claim = idempotency.as_ref().map(|idempotency| KeyClaim {
        scope_hash: idempotency.scope_hash,
        request_hash: idempotency.request_hash,
        sealed_access_key: idempotency.seal(&key.bytes),
    });
    let ticket_id = match accept(&state, submission, key.hash, claim).await? {
        Accepted::Created(ticket_id) => ticket_id,
        Accepted::Replayed(stored) => {
            let idempotency = idempotency.as_ref().ok_or_else(|| {
                ApiError::Internal(anyhow::anyhow!("a submission without a key was replayed"))
            })?;
            return replay(&state, idempotency, &stored).await;
        }
    };
    tracing::info!(ticket.id = %ticket_id, channel = "web_form", "web form request accepted");
    let estimate = state.estimator.bot(&state.pool).await;
    Ok(Json(SubmitResponse::accepted(ticket_id, key, estimate)))
}

/// The first answer again, for a retry whose key found the submission it
/// made; a 422 when the key came with other fields.
async fn replay(
    state: &AppState,
    idempotency: &SubmitKey,
    stored: &fte_store::idempotency::StoredClaim,
) -> Result<Json<SubmitResponse>, ApiError> {
    if !stored.same_request(&idempotency.request_hash) {
        return Err(idempotency::reused());
    }
    let bytes = stored
        .sealed_access_key
        .as_deref()
        .and_then(|sealed| idempotency.unseal(sealed))
        .ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!(
                "a submission's idempotency row holds no sealed access key"
            ))
        })?;
    let ticket_id = TicketId(stored.ticket_id);
    tracing::info!(ticket.id = %ticket_id, channel = "web_form", "web form retry answered with its ticket");
    let estimate = state.estimator.bot(&state.pool).await;
    Ok(Json(SubmitResponse::accepted(
        ticket_id,
        ticket_access::key_of(bytes),
        estimate,
    )))
}

/// The field a wrong identity token is reported on.
pub const IDENTITY_TOKEN_FIELD: &str = "identity_token";

/// Whether `token` proves `email`: no token (or an empty one) proves
/// nothing; a token is refused (403 naming the field) when it does not
/// verify or when no secret is configured to verify it with. Refusing
/// rather than falling back to a claim makes a misconfigured embedding
/// visible at once, and costs a forger nothing they could use.
fn email_proof(
    secret: Option<&SecretString>,
    email: &EmailAddress,
    token: Option<&str>,
) -> Result<bool, ApiError> {
    let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(false);
    };
    let refused = |reason: &'static str, message: &str| {
        tracing::warn!(
            security = true,
            route = "/support/submit",
            reason,
            "refused a web form identity token"
        );
        ApiError::ForbiddenField {
            code: "identity_not_verified",
            field: FieldError::new(IDENTITY_TOKEN_FIELD, message),
        }
    };
    let Some(secret) = secret else {
        return Err(refused(
            "not_configured",
            "Identity verification is not enabled on this server: send the form without identity_token, or set WEB_IDENTITY_SECRET.",
        ));
    };
    if verify_identity_token(secret.expose_secret().as_bytes(), email, token) {
        Ok(true)
    } else {
        Err(refused(
            "token_mismatch",
            "The identity token does not match this email address.",
        ))
    }
}

async fn accept(
    state: &AppState,
    submission: ValidSubmission,
    access_key_hash: [u8; 32],
    claim: Option<KeyClaim>,
) -> Result<Accepted, ApiError> {
    state
        .submitter
        .submit(submission, access_key_hash, claim)
        .await
        .map_err(|error| match error {
            // Validation should have caught it; a retry would fail alike.
            SubmitError::Refused => ApiError::bad_request(
                "unstorable_submission",
                "The request holds a value that cannot be stored; check the fields for \
                 unusual characters.",
            ),
            SubmitError::Unavailable | SubmitError::Closed => {
                ApiError::unavailable("The service is temporarily unavailable.")
            }
        })
}

/// A ticket id from the path, or a 400.
pub fn parse_ticket_id(raw: &str) -> Result<TicketId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::bad_request("invalid_ticket_id", "The ticket ID is not a valid ID."))
}
