//! `create_ticket` for staff: the customer's ticket on their open
//! conversation, by the worker's own rule — the newest unresolved
//! conversation of the last 24 hours (`CONVERSATION_WINDOW`) continues,
//! else one starts on the channel given; the conversation's unresolved
//! ticket is kept, else a new one is opened. One transaction, audited.

use fte_domain::{Category, Channel, Priority};
use fte_gateway::ApiError;
use fte_gateway::auth::{StaffAuth, Target};
use fte_gateway::error::FieldError;
use fte_store::conversations::{self, NewTicket};
use fte_store::customers;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::McpContext;
use crate::failure::parse_id;

/// The longest ticket subject (the column's width).
pub const MAX_SUBJECT_CHARS: usize = 500;

/// `create_ticket` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTicketInput {
    /// The customer (`customer_id` from lookup_customer).
    #[schemars(schema_with = "crate::schema::uuid")]
    pub customer_id: String,
    /// Where a new conversation starts (and the ticket's source).
    #[schemars(schema_with = "crate::schema::channel")]
    pub channel: String,
    /// What the ticket is about, in a line (1–500 characters).
    pub subject: String,
    /// The ticket's category, when known.
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::category")]
    pub category: Option<String>,
    /// The ticket's priority (medium when left out on a new ticket).
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::priority")]
    pub priority: Option<String>,
}

/// The ticket `create_ticket` opened or found.
#[derive(Debug, Serialize)]
pub struct CreatedTicket {
    /// The ticket.
    pub ticket_id: Uuid,
    /// Its conversation.
    pub conversation_id: Uuid,
    /// The customer.
    pub customer_id: Uuid,
    /// Where replies to the customer go now.
    pub channel: String,
    /// The ticket's status.
    pub status: String,
    /// Whether the ticket is new (false: the conversation's open ticket).
    pub created: bool,
}

struct Checked {
    customer_id: Uuid,
    channel: Channel,
    subject: String,
    category: Option<Category>,
    priority: Option<Priority>,
}

fn check(input: &CreateTicketInput) -> Result<Checked, ApiError> {
    let customer_id = parse_id(&input.customer_id, "customer_id")?;
    let mut errors = Vec::new();
    let channel = input.channel.trim().parse::<Channel>().unwrap_or_else(|_| {
        errors.push(FieldError::new(
            "channel",
            "must be email, whatsapp or web_form",
        ));
        Channel::Email
    });
    let subject = input.subject.trim().to_owned();
    if subject.is_empty() || subject.chars().count() > MAX_SUBJECT_CHARS {
        errors.push(FieldError::new(
            "subject",
            format!("must be 1 to {MAX_SUBJECT_CHARS} characters"),
        ));
    }
    let category = match input.category.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => raw.parse::<Category>().map(Some).unwrap_or_else(|_| {
            errors.push(FieldError::new(
                "category",
                "must be general, technical, billing, feedback or bug_report",
            ));
            None
        }),
    };
    let priority = match input.priority.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => raw.parse::<Priority>().map(Some).unwrap_or_else(|_| {
            errors.push(FieldError::new("priority", "must be low, medium or high"));
            None
        }),
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(Checked {
        customer_id,
        channel,
        subject,
        category,
        priority,
    })
}

/// Opens (or finds) the customer's ticket as `staff`; 404 for an unknown
/// customer, 422 naming each bad argument.
pub async fn create_ticket(
    ctx: &McpContext,
    staff: &StaffAuth,
    input: &CreateTicketInput,
) -> Result<CreatedTicket, ApiError> {
    let input = check(input)?;
    let mut tx = ctx
        .pool
        .begin()
        .await
        .map_err(fte_store::StoreError::from)?;
    if customers::customer(&mut *tx, input.customer_id)
        .await?
        .is_none()
    {
        return Err(ApiError::NotFound("No customer has this ID.".into()));
    }
    let window = ctx.conversation_window.as_secs() as i64;
    let conversation = match conversations::open_conversation(&mut *tx, input.customer_id, window)
        .await?
    {
        Some(open) => open,
        None => {
            conversations::start_conversation(&mut *tx, input.customer_id, input.channel.as_str())
                .await?
        }
    };
    let existing = conversations::unresolved_ticket(&mut *tx, conversation.id).await?;
    let created = existing.is_none();
    let ticket = match existing {
        Some(ticket) => {
            if let Some(category) = input.category {
                conversations::set_ticket_category(&mut *tx, ticket.id, category.as_str()).await?;
            }
            if let Some(priority) = input.priority {
                conversations::set_ticket_priority(&mut *tx, ticket.id, priority.as_str()).await?;
            }
            ticket
        }
        None => {
            conversations::ensure_ticket(
                &mut tx,
                &NewTicket {
                    id: Uuid::now_v7(),
                    conversation_id: conversation.id,
                    customer_id: input.customer_id,
                    source_channel: input.channel.as_str(),
                    subject: Some(&input.subject),
                    category: input.category.map(|c| c.as_str()),
                    priority: input.priority.unwrap_or_default().as_str(),
                },
            )
            .await?
        }
    };
    staff
        .audit(
            &mut *tx,
            "ticket.create",
            Target::one("ticket", &ticket.id.to_string()),
        )
        .await?;
    tx.commit().await.map_err(fte_store::StoreError::from)?;
    tracing::info!(
        ticket.id = %ticket.id,
        conversation.id = %conversation.id,
        created,
        "ticket opened by staff"
    );
    Ok(CreatedTicket {
        ticket_id: ticket.id,
        conversation_id: conversation.id,
        customer_id: input.customer_id,
        channel: conversation.current_channel,
        status: ticket.status,
        created,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(channel: &str, subject: &str, priority: Option<&str>) -> CreateTicketInput {
        CreateTicketInput {
            customer_id: Uuid::nil().to_string(),
            channel: channel.into(),
            subject: subject.into(),
            category: None,
            priority: priority.map(str::to_owned),
        }
    }

    #[test]
    fn every_bad_argument_is_named() {
        let Err(ApiError::Validation(fields)) = check(&input("fax", " ", Some("urgent"))) else {
            panic!("expected a validation failure");
        };
        let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["channel", "subject", "priority"]);
        assert!(check(&input("whatsapp", "Called about SSO", Some("high"))).is_ok());
        let long = "x".repeat(MAX_SUBJECT_CHARS + 1);
        assert!(check(&input("email", &long, None)).is_err());
    }
}
