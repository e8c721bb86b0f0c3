//! Moving tickets and conversations along the domain's state machines: a
//! transition the domain refuses writes nothing and fails permanently; one
//! the database no longer matches (someone changed the state meanwhile)
//! fails like a lost row.

use fte_domain::{ConversationStatus, TicketStatus};
use fte_store::StoreError;
use fte_store::conversations;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::HandleError;

/// Parses a stored ticket status.
pub(crate) fn ticket_status(status: &str) -> Result<TicketStatus, HandleError> {
    status
        .parse()
        .map_err(|_| HandleError::Invalid("the stored ticket has an unknown status"))
}

/// Moves a ticket from `from` to `to`.
pub(crate) async fn move_ticket(
    conn: &mut PgConnection,
    id: Uuid,
    from: TicketStatus,
    to: TicketStatus,
) -> Result<TicketStatus, HandleError> {
    let to = from.transition(to)?;
    if !conversations::set_ticket_status(&mut *conn, id, from.as_str(), to.as_str()).await? {
        return Err(StoreError::Database(sqlx::Error::RowNotFound).into());
    }
    Ok(to)
}

/// Moves a conversation from its stored status `from` to `to`.
pub(crate) async fn move_conversation(
    conn: &mut PgConnection,
    id: Uuid,
    from: &str,
    to: ConversationStatus,
    resolution_type: Option<&str>,
) -> Result<(), HandleError> {
    let from_status: ConversationStatus = from
        .parse()
        .map_err(|_| HandleError::Invalid("the stored conversation has an unknown status"))?;
    let to = from_status.transition(to)?;
    conversations::set_status(&mut *conn, id, from, to.as_str(), resolution_type).await?;
    Ok(())
}
