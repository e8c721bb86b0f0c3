//! The daily cap on replies by email to addresses that never proved
//! themselves.
//!
//! Anyone can type an address into the web form (or forge a From header),
//! and every reply to it is an email the system sends to that address. So
//! before a reply goes out by email the sender reserves it here: an
//! address that proved itself ([`crate::links::email_proven`]) is never
//! capped; any other gets at most `cap` emails per window. Reservations are
//! keyed by the reply's outbox row (a retried reply reuses its own) and
//! counted per sha256 of the normalised address, under a transaction-scoped
//! advisory lock on that digest, so two senders cannot both take the last
//! slot.

use std::time::Duration;

use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use crate::StoreError;
use crate::links::email_proven;

/// Whether a reply may go out by email.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmailAllowance {
    /// Send it (the send is recorded against the address).
    Allowed,
    /// The address never proved itself and already got `cap` emails in
    /// the window: do not send.
    Capped,
}

/// The digest an address is counted under (hex sha256 of the normalised
/// address).
pub fn recipient_hash(address: &str) -> String {
    let digest = Sha256::digest(address.trim().to_lowercase().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reserves an email for the reply in `outbox_id` to `address`, or refuses
/// it when an address that never proved itself is over `cap` in `window`.
pub async fn reserve(
    pool: &PgPool,
    outbox_id: Uuid,
    address: &str,
    cap: u32,
    window: Duration,
) -> Result<EmailAllowance, StoreError> {
    let hash = recipient_hash(address);
    let mut tx = pool.begin().await?;
    sqlx::query("select pg_advisory_xact_lock(hashtextextended($1, 7301))")
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
    let reserved: bool =
        sqlx::query_scalar("select exists (select 1 from email_sends where outbox_id = $1)")
            .bind(outbox_id)
            .fetch_one(&mut *tx)
            .await?;
    if reserved {
        tx.commit().await?;
        return Ok(EmailAllowance::Allowed);
    }
    let normalised = address.trim().to_lowercase();
    if !email_proven(&mut *tx, &normalised).await? {
        let window_secs = window.as_secs_f64();
        let sent: i64 = sqlx::query_scalar(
            "select count(*) from email_sends
             where recipient_hash = $1 and created_at > now() - make_interval(secs => $2)",
        )
        .bind(&hash)
        .bind(window_secs)
        .fetch_one(&mut *tx)
        .await?;
        if sent >= i64::from(cap) {
            tx.commit().await?;
            return Ok(EmailAllowance::Capped);
        }
    }
    sqlx::query("insert into email_sends (outbox_id, recipient_hash) values ($1, $2)")
        .bind(outbox_id)
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(EmailAllowance::Allowed)
}
