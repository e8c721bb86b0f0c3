//! The dead-letter topic for operators: `GET /dlq`, `GET /dlq/{id}` and
//! `POST /dlq/replay` ([`super::dlq_replay`]) behind the staff key, and the same operations for
//! `fte dlq list|show|replay`, which calls them with the operator's name.
//!
//! Dead letters are read from `fte.dlq` itself
//! ([`fte_bus::dead_letters`]: partitions assigned, read from the low to the
//! high watermark, nothing committed), so the topic stays the one source of
//! truth and reading moves no consumer group. A dead letter's id is
//! `<partition>-<offset>` in `fte.dlq`. A listing shows where each came
//! from, its error kind and content-free reason and its key (for an inbound
//! message the customer's email or phone: staff see it, logs never do),
//! never the payload; one dead letter (`GET /dlq/{id}`) shows its payload
//! too, to staff only.
//!
//! Replaying republishes the original payload under its key to its origin
//! topic with an `fte.replay.of` header, audited per dead letter. Each dead
//! letter is replayed once: the replay is claimed in `dlq_replays` in the
//! transaction that commits after the broker took the message, so asking
//! again is refused (`409 already_replayed` by id; skipped and reported for
//! a time range or `all`). Replaying is safe for the customer either way:
//! the worker deduplicates on the channel message id, so a message that was
//! answered meanwhile is not answered twice. Dead letters that did not come
//! from a topic (a failed reply: origin `reply_outbox`; a refused Gmail
//! push: `webhooks.gmail`) cannot be replayed; failed replies are re-driven
//! with `POST /outbox/{id}/retry` ([`super::failed_replies`]).

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use fte_bus::dead_letters::{DeadLetter, DeadLetterId, DeadLetterReader, Window};
use fte_store::dead_letters as replays;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};

use super::staff_input::parse_count;
use crate::auth::{StaffAuth, Target};
use crate::error::{ErrorBody, FieldError};
use crate::{ApiError, AppState};

/// Dead letters listed unless `limit` says otherwise.
pub const DEFAULT_LIST_LIMIT: i64 = 100;
/// The longest listing.
pub const MAX_LIST_LIMIT: i64 = 1000;
/// The pattern of a dead letter id.
pub const ID_PATTERN: &str = r"^[0-9]{1,5}-[0-9]{1,18}$";

/// `GET /dlq` query; read as text so a bad value is a 422 naming it.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Dead-lettered at or after this time (RFC 3339).
    #[param(value_type = Option<DateTime<Utc>>)]
    pub since: Option<String>,
    /// Dead-lettered before this time (RFC 3339); a window ending before
    /// it starts is empty.
    #[param(value_type = Option<DateTime<Utc>>)]
    pub until: Option<String>,
    /// How many to list, 1 to 1000 (default 100), newest first.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
}

/// One dead letter, without its payload.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterSummary {
    /// `<partition>-<offset>` in `fte.dlq`.
    #[schema(example = "0-42")]
    pub id: String,
    /// When it was dead-lettered.
    pub dead_lettered_at: DateTime<Utc>,
    /// Where it came from: a topic, `reply_outbox` or `webhooks.gmail`.
    #[schema(example = "fte.tickets.incoming")]
    pub origin_topic: Option<String>,
    /// Its partition there, when it came from a topic.
    pub origin_partition: Option<i32>,
    /// Its offset there, when it came from a topic.
    pub origin_offset: Option<i64>,
    /// The error kind (`undecodable`, `invalid`, `agent_unavailable`, …).
    #[schema(example = "unsupported_version")]
    pub error: Option<String>,
    /// Why, readable and content-free.
    pub reason: Option<String>,
    /// The message key: an inbound message's customer identity (email or
    /// phone, which is why only staff see it), a failed reply's
    /// conversation id.
    pub key: Option<String>,
    /// Whether it can be replayed onto its origin topic.
    pub replayable: bool,
    /// When it was replayed, if it was.
    pub replayed_at: Option<DateTime<Utc>>,
    /// Who replayed it, if anyone.
    pub replayed_by: Option<String>,
}

/// `GET /dlq`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterList {
    /// Newest first.
    pub items: Vec<DeadLetterSummary>,
    /// How many dead letters the window holds in all.
    pub total: usize,
    /// The limit used.
    pub limit: i64,
}

/// A header of a dead letter.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterHeader {
    /// Its name.
    pub name: String,
    /// Its value (as text).
    pub value: String,
}

/// `GET /dlq/{id}`: the dead letter with its headers and payload.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterDetail {
    /// Everything the listing shows.
    #[serde(flatten)]
    pub summary: DeadLetterSummary,
    /// Every header, in order.
    pub headers: Vec<DeadLetterHeader>,
    /// `utf8` when the payload is text (most are JSON events), else `base64`.
    #[schema(example = "utf8")]
    pub payload_encoding: String,
    /// The original payload.
    pub payload: String,
}

/// The dead letters in a time window, newest first, without payloads.
#[utoipa::path(
    get,
    path = "/dlq",
    tag = "staff",
    security(("staff_key" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "The dead letters", body = DeadLetterList),
        (status = 400, description = "A query parameter given twice (`invalid_query`)", body = ErrorBody),
        (status = 401, description = "No or wrong staff key", body = ErrorBody),
        (status = 422, description = "`since`, `until` or `limit` malformed (each named)", body = ErrorBody),
        (status = 429, description = "Rate limited; see Retry-After", body = ErrorBody),
        (status = 503, description = "Kafka unreachable; see Retry-After", body = ErrorBody),
    )
)]
pub async fn list(
    staff: StaffAuth,
    State(state): State<AppState>,
    crate::error::AppQuery(query): crate::error::AppQuery<ListQuery>,
) -> Result<Json<DeadLetterList>, ApiError> {
    let reader = reader(&state)?;
    Ok(Json(
        list_dead_letters(&state.pool, reader, &staff, &query).await?,
    ))
}

/// One dead letter with its headers and original payload.
#[utoipa::path(
    get,
    path = "/dlq/{id}",
    tag = "staff",
    security(("staff_key" = [])),
    params(("id" = String, Path, pattern = r"^[0-9]{1,5}-[0-9]{1,18}$",
            description = "`<partition>-<offset>` in fte.dlq")),
    responses(
        (status = 200, description = "The dead letter", body = DeadLetterDetail),
        (status = 400, description = "Not a dead letter id (`invalid_dead_letter_id`)", body = ErrorBody),
        (status = 401, description = "No or wrong staff key", body = ErrorBody),
        (status = 404, description = "fte.dlq holds no such dead letter", body = ErrorBody),
        (status = 429, description = "Rate limited; see Retry-After", body = ErrorBody),
        (status = 503, description = "Kafka unreachable; see Retry-After", body = ErrorBody),
    )
)]
pub async fn show(
    staff: StaffAuth,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> Result<Json<DeadLetterDetail>, ApiError> {
    let reader = reader(&state)?;
    Ok(Json(
        show_dead_letter(&state.pool, reader, &staff, &raw_id).await?,
    ))
}

pub(super) fn reader(state: &AppState) -> Result<&DeadLetterReader, ApiError> {
    state
        .dead_letters
        .as_deref()
        .ok_or_else(|| ApiError::unavailable("This gateway has no dead-letter reader."))
}

pub(super) fn kafka_unavailable(error: fte_bus::BusError) -> ApiError {
    tracing::warn!(%error, "fte.dlq could not be read or written");
    ApiError::unavailable("Kafka is unreachable; retry shortly.")
}

fn parse_time(
    raw: Option<&str>,
    field: &str,
    errors: &mut Vec<FieldError>,
) -> Option<DateTime<Utc>> {
    let raw = raw?;
    match DateTime::parse_from_rfc3339(raw.trim()) {
        Ok(time) => Some(time.with_timezone(&Utc)),
        Err(_) => {
            errors.push(FieldError::new(
                field,
                "must be an RFC 3339 time such as 2026-12-05T13:00:00Z",
            ));
            None
        }
    }
}

pub(super) fn window(
    since: Option<&str>,
    until: Option<&str>,
    errors: &mut Vec<FieldError>,
) -> Window {
    // A window that ends before it starts is empty, not an error.
    let since = parse_time(since, "since", errors);
    let until = parse_time(until, "until", errors);
    Window { since, until }
}

/// The dead letters in `query`'s window, newest first, listed by `staff`
/// (audited).
pub async fn list_dead_letters(
    pool: &PgPool,
    reader: &DeadLetterReader,
    staff: &StaffAuth,
    query: &ListQuery,
) -> Result<DeadLetterList, ApiError> {
    // Audited first, so a refused request leaves its row too.
    staff
        .audit(pool, "dlq.list", Target::all("dead_letter"))
        .await?;
    let mut errors = Vec::new();
    let window = window(query.since.as_deref(), query.until.as_deref(), &mut errors);
    let limit = parse_count(
        query.limit.as_deref(),
        "limit",
        DEFAULT_LIST_LIMIT,
        1..=MAX_LIST_LIMIT,
    )
    .map_err(|e| errors.push(e))
    .unwrap_or_default();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let mut letters = reader.list(window).await.map_err(kafka_unavailable)?;
    let total = letters.len();
    letters.reverse();
    letters.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let items = summaries(pool, &letters).await?;
    Ok(DeadLetterList {
        items,
        total,
        limit,
    })
}

async fn summaries(
    pool: &PgPool,
    letters: &[DeadLetter],
) -> Result<Vec<DeadLetterSummary>, ApiError> {
    let ids: Vec<String> = letters.iter().map(|l| l.id.to_string()).collect();
    let done = replays::replays_of(pool, &ids).await?;
    Ok(letters
        .iter()
        .map(|letter| {
            let id = letter.id.to_string();
            let replay = done
                .iter()
                .find(|r| r.dead_letter_id == id && r.dead_lettered_at == letter.at);
            DeadLetterSummary {
                replayable: letter.replay_target().is_ok(),
                replayed_at: replay.map(|r| r.replayed_at),
                replayed_by: replay.map(|r| r.replayed_by.clone()),
                id,
                dead_lettered_at: letter.at,
                origin_topic: letter.origin_topic.clone(),
                origin_partition: letter.origin_partition,
                origin_offset: letter.origin_offset,
                error: letter.error.clone(),
                reason: letter.reason.clone(),
                key: letter.key.clone(),
            }
        })
        .collect())
}

fn parse_dead_letter_id(raw: &str) -> Result<DeadLetterId, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::bad_request(
            "invalid_dead_letter_id",
            "Not a dead letter ID: <partition>-<offset>, such as 0-42.",
        )
    })
}

pub(super) async fn find(
    reader: &DeadLetterReader,
    id: DeadLetterId,
) -> Result<DeadLetter, ApiError> {
    reader
        .get(id)
        .await
        .map_err(kafka_unavailable)?
        .ok_or_else(|| ApiError::NotFound(format!("fte.dlq holds no dead letter {id}.")))
}

/// Dead letter `raw_id` with its headers and payload, read by `staff`
/// (audited); 400 for a malformed id, 404 when `fte.dlq` does not hold it.
pub async fn show_dead_letter(
    pool: &PgPool,
    reader: &DeadLetterReader,
    staff: &StaffAuth,
    raw_id: &str,
) -> Result<DeadLetterDetail, ApiError> {
    // Audited first, so a refused request leaves its row too.
    let parsed = parse_dead_letter_id(raw_id);
    let target = parsed.as_ref().ok().map(ToString::to_string);
    staff
        .audit(
            pool,
            "dlq.read",
            Target {
                kind: "dead_letter",
                id: target.as_deref(),
            },
        )
        .await?;
    let id = parsed?;
    let letter = find(reader, id).await?;
    let summary = summaries(pool, std::slice::from_ref(&letter))
        .await?
        .pop()
        .ok_or_else(|| ApiError::NotFound(format!("fte.dlq holds no dead letter {id}.")))?;
    let (payload_encoding, payload) = match String::from_utf8(letter.payload.clone()) {
        Ok(text) => ("utf8", text),
        Err(_) => {
            use base64::Engine as _;
            let encoded = base64::engine::general_purpose::STANDARD.encode(&letter.payload);
            ("base64", encoded)
        }
    };
    Ok(DeadLetterDetail {
        summary,
        headers: letter
            .headers
            .into_iter()
            .map(|(name, value)| DeadLetterHeader { name, value })
            .collect(),
        payload_encoding: payload_encoding.to_owned(),
        payload,
    })
}
