//! `POST /dlq/replay` and `fte dlq replay`: dead letters put back on their
//! origin topics, each once (see [`super::dead_letters`] for the rules).
//!
//! The request is audited (`dlq.replay.request`, a refused one too); each
//! replay is claimed in `dlq_replays` and audited (`dlq.replay`) in a
//! transaction that commits only after the broker took the message: a
//! failed publish leaves no claim behind, and a claim found means the dead
//! letter was replayed before. By id, every dead letter named must exist
//! (404), have a topic to go back to and not have been replayed
//! (409 `not_replayable`, `already_replayed`) before any is replayed; a
//! time range or `all` replays what it can and reports the rest as skipped.

use axum::Json;
use axum::extract::State;
use fte_bus::dead_letters::{DeadLetter, DeadLetterId, DeadLetterReader, ReplayError, Window};
use fte_store::dead_letters::{self as replays, Claim};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::ToSchema;

use super::dead_letters::{find, kafka_unavailable, reader, window};
use crate::auth::{StaffAuth, Target};
use crate::error::{AppJson, ErrorBody, FieldError};
use crate::{ApiError, AppState};

/// The most ids one replay request names.
pub const MAX_REPLAY_IDS: usize = 100;

/// `POST /dlq/replay` body: `ids`, or a time range (`since` and/or
/// `until`), or `all: true` — exactly one of the three (the document's
/// schema is written out in `crate::openapi`). A field sent as `null` is
/// refused like any other wrong type.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// Dead letter ids (1 to 100).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>)]
    pub ids: Option<Vec<String>>,
    /// Replay those dead-lettered at or after this time (RFC 3339).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub since: Option<String>,
    /// Replay those dead-lettered before this time (RFC 3339).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub until: Option<String>,
    /// Replay every dead letter not replayed yet (only `true`).
    #[serde(default, deserialize_with = "present")]
    pub all: Option<bool>,
}

/// A field that, when present, must hold a value (not `null`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// A dead letter put back on its topic.
#[derive(Debug, Serialize, ToSchema)]
pub struct Replayed {
    /// The dead letter.
    pub id: String,
    /// Where it went.
    pub topic: String,
    /// Its partition there.
    pub partition: i32,
    /// Its offset there.
    pub offset: i64,
}

/// A dead letter a range or `all` replay left alone.
#[derive(Debug, Serialize, ToSchema)]
pub struct Skipped {
    /// The dead letter.
    pub id: String,
    /// `already_replayed` or `not_replayable`.
    pub reason: String,
}

/// `POST /dlq/replay`.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ReplayReport {
    /// Replayed now.
    pub replayed: Vec<Replayed>,
    /// Left alone.
    pub skipped: Vec<Skipped>,
}

/// Puts dead letters back on their origin topics, each once.
#[utoipa::path(
    post,
    path = "/dlq/replay",
    tag = "staff",
    security(("staff_key" = [])),
    request_body = ReplayRequest,
    responses(
        (status = 200, description = "What was replayed and what was left alone", body = ReplayReport),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 401, description = "No or wrong staff key", body = ErrorBody),
        (status = 404, description = "An id names no dead letter in fte.dlq", body = ErrorBody),
        (status = 409, description = "An id was replayed before (`already_replayed`) or has no topic to go back to (`not_replayable`)", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "Not exactly one of ids, a time range or all; or a malformed id or time (each named)", body = ErrorBody),
        (status = 429, description = "Rate limited; see Retry-After", body = ErrorBody),
        (status = 503, description = "Kafka unreachable (what was replayed before stays recorded); see Retry-After", body = ErrorBody),
    )
)]
pub async fn replay(
    staff: StaffAuth,
    State(state): State<AppState>,
    AppJson(body): AppJson<ReplayRequest>,
) -> Result<Json<ReplayReport>, ApiError> {
    let reader = reader(&state)?;
    Ok(Json(
        replay_dead_letters(&state.pool, reader, &staff, &body).await?,
    ))
}

/// What a replay request selects.
enum Selection {
    Ids(Vec<DeadLetterId>),
    Window(Window),
}

fn selection(request: &ReplayRequest) -> Result<Selection, ApiError> {
    let mut errors = Vec::new();
    if request.all == Some(false) {
        return Err(ApiError::Validation(vec![FieldError::new(
            "all",
            "must be true when given",
        )]));
    }
    let ranged = request.since.is_some() || request.until.is_some();
    let all = request.all == Some(true);
    let chosen = usize::from(request.ids.is_some()) + usize::from(ranged) + usize::from(all);
    if chosen != 1 {
        return Err(ApiError::Validation(vec![FieldError::new(
            "ids",
            "give exactly one of ids, a time range (since and/or until) or all: true",
        )]));
    }
    if let Some(raw_ids) = &request.ids {
        if raw_ids.is_empty() || raw_ids.len() > MAX_REPLAY_IDS {
            errors.push(FieldError::new(
                "ids",
                format!("must hold 1 to {MAX_REPLAY_IDS} dead letter ids"),
            ));
        }
        let mut ids = Vec::new();
        for raw in raw_ids {
            match raw.parse::<DeadLetterId>() {
                Ok(id) if !ids.contains(&id) => ids.push(id),
                Ok(_) => {}
                Err(_) => errors.push(FieldError::new(
                    "ids",
                    "each must be <partition>-<offset>, such as 0-42",
                )),
            }
        }
        return if errors.is_empty() {
            Ok(Selection::Ids(ids))
        } else {
            Err(ApiError::Validation(errors))
        };
    }
    let window = window(
        request.since.as_deref(),
        request.until.as_deref(),
        &mut errors,
    );
    if errors.is_empty() {
        Ok(Selection::Window(window))
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Replays what `request` selects, by `staff` (each replay audited); see
/// the module docs for what is refused and what is skipped.
pub async fn replay_dead_letters(
    pool: &PgPool,
    reader: &DeadLetterReader,
    staff: &StaffAuth,
    request: &ReplayRequest,
) -> Result<ReplayReport, ApiError> {
    // The request itself is audited first (a refused one too); each dead
    // letter replayed adds its own `dlq.replay` row.
    staff
        .audit(pool, "dlq.replay.request", Target::all("dead_letter"))
        .await?;
    let mut report = ReplayReport::default();
    let letters = match selection(request)? {
        Selection::Ids(ids) => {
            let mut letters = Vec::new();
            for id in ids {
                let letter = find(reader, id).await?;
                if let Err(refusal) = letter.replay_target() {
                    return Err(ApiError::Conflict {
                        code: "not_replayable",
                        message: format!("Dead letter {id}: {refusal}."),
                    });
                }
                letters.push(letter);
            }
            let ids: Vec<String> = letters.iter().map(|l| l.id.to_string()).collect();
            let done = replays::replays_of(pool, &ids).await?;
            if let Some(earlier) = done.iter().find(|r| {
                letters
                    .iter()
                    .any(|l| l.id.to_string() == r.dead_letter_id && l.at == r.dead_lettered_at)
            }) {
                return Err(already_replayed(earlier));
            }
            letters
        }
        Selection::Window(window) => {
            let letters = reader.list(window).await.map_err(kafka_unavailable)?;
            let (replayable, not): (Vec<DeadLetter>, Vec<DeadLetter>) =
                letters.into_iter().partition(|l| l.replay_target().is_ok());
            report.skipped.extend(not.iter().map(|l| Skipped {
                id: l.id.to_string(),
                reason: "not_replayable".into(),
            }));
            replayable
        }
    };
    for letter in &letters {
        replay_one(pool, reader, staff, letter, &mut report).await?;
    }
    Ok(report)
}

fn already_replayed(earlier: &replays::Replay) -> ApiError {
    ApiError::Conflict {
        code: "already_replayed",
        message: format!(
            "Dead letter {} was replayed to {} at {}; it is replayed once.",
            earlier.dead_letter_id,
            earlier.origin_topic,
            earlier.replayed_at.to_rfc3339()
        ),
    }
}

/// Claims, audits and publishes one replay; the claim and the audit row
/// commit only once the broker took the message.
async fn replay_one(
    pool: &PgPool,
    reader: &DeadLetterReader,
    staff: &StaffAuth,
    letter: &DeadLetter,
    report: &mut ReplayReport,
) -> Result<(), ApiError> {
    let id = letter.id.to_string();
    let topic = letter
        .replay_target()
        .map_err(|refusal| ApiError::Conflict {
            code: "not_replayable",
            message: format!("Dead letter {id}: {refusal}."),
        })?;
    let mut tx = pool.begin().await.map_err(fte_store::StoreError::from)?;
    match replays::claim_replay(&mut tx, &id, letter.at, topic, staff.name()).await? {
        Claim::Claimed => {}
        Claim::AlreadyReplayed(_) => {
            report.skipped.push(Skipped {
                id,
                reason: "already_replayed".into(),
            });
            return Ok(());
        }
    }
    staff
        .audit(&mut *tx, "dlq.replay", Target::one("dead_letter", &id))
        .await?;
    let delivery = reader.replay(letter).await.map_err(|error| match error {
        ReplayError::Bus(error) => kafka_unavailable(error),
        ReplayError::NotReplayable(refusal) => ApiError::Conflict {
            code: "not_replayable",
            message: format!("Dead letter {id}: {refusal}."),
        },
    })?;
    tx.commit().await.map_err(fte_store::StoreError::from)?;
    report.replayed.push(Replayed {
        id,
        topic: topic.to_owned(),
        partition: delivery.partition,
        offset: delivery.offset,
    });
    Ok(())
}
