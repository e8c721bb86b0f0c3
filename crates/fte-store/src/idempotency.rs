//! Idempotency keys of the web form's writes (`idempotency_keys`).
//!
//! A key is claimed in the transaction that performs the write, before the
//! write itself: `insert … on conflict do nothing` waits for a concurrent
//! transaction holding the same key and then skips, so two concurrent
//! requests with one key write once. The caller then reads the winner's
//! row ([`find`]) and answers with it. Hashes only: the key, the email it is
//! scoped to and the request's content never reach this table in clear.

use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::StoreError;

/// A write's claim on its key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewClaim {
    /// sha256 of the key and its scope.
    pub scope_hash: [u8; 32],
    /// sha256 of the request's content.
    pub request_hash: [u8; 32],
    /// The ticket the write creates or writes into.
    pub ticket_id: Uuid,
    /// A submission's access key, sealed.
    pub sealed_access_key: Option<[u8; 32]>,
    /// A follow-up's message.
    pub message_id: Option<Uuid>,
}

/// What the first write with a key stored.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredClaim {
    /// sha256 of the first request's content.
    pub request_hash: Vec<u8>,
    /// The ticket it created or wrote into.
    pub ticket_id: Uuid,
    /// Its sealed access key (a submission).
    pub sealed_access_key: Option<Vec<u8>>,
    /// Its message (a follow-up).
    pub message_id: Option<Uuid>,
}

impl StoredClaim {
    /// Whether `request_hash` is the content the key was first used with.
    pub fn same_request(&self, request_hash: &[u8; 32]) -> bool {
        self.request_hash.as_slice() == request_hash
    }
}

/// The claim stored under `scope_hash`, if any.
pub async fn find(
    executor: impl PgExecutor<'_>,
    scope_hash: &[u8; 32],
) -> Result<Option<StoredClaim>, StoreError> {
    Ok(sqlx::query_as(
        "select request_hash, ticket_id, sealed_access_key, message_id
         from idempotency_keys where scope_hash = $1",
    )
    .bind(scope_hash.as_slice())
    .fetch_optional(executor)
    .await?)
}

/// Claims every key of `claims` that nobody holds yet and returns the scope
/// hashes this transaction now holds. A key held by a concurrent transaction
/// is waited for: if that transaction commits, the key is not returned. The
/// caller passes each scope hash at most once.
pub async fn claim(
    conn: &mut PgConnection,
    claims: &[NewClaim],
) -> Result<Vec<[u8; 32]>, StoreError> {
    if claims.is_empty() {
        return Ok(Vec::new());
    }
    let scopes: Vec<&[u8]> = claims.iter().map(|c| c.scope_hash.as_slice()).collect();
    let requests: Vec<&[u8]> = claims.iter().map(|c| c.request_hash.as_slice()).collect();
    let tickets: Vec<Uuid> = claims.iter().map(|c| c.ticket_id).collect();
    let sealed: Vec<Option<&[u8]>> = claims
        .iter()
        .map(|c| c.sealed_access_key.as_ref().map(|k| k.as_slice()))
        .collect();
    let messages: Vec<Option<Uuid>> = claims.iter().map(|c| c.message_id).collect();
    let claimed: Vec<Vec<u8>> = sqlx::query_scalar(
        "insert into idempotency_keys
             (scope_hash, request_hash, ticket_id, sealed_access_key, message_id)
         select * from unnest($1::bytea[], $2::bytea[], $3::uuid[], $4::bytea[], $5::uuid[])
         on conflict (scope_hash) do nothing
         returning scope_hash",
    )
    .bind(&scopes)
    .bind(&requests)
    .bind(&tickets)
    .bind(&sealed)
    .bind(&messages)
    .fetch_all(&mut *conn)
    .await?;
    Ok(claimed
        .into_iter()
        .filter_map(|hash| <[u8; 32]>::try_from(hash.as_slice()).ok())
        .collect())
}
