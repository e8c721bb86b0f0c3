//! The staff queue as tools: each calls the operation behind the matching
//! staff API endpoint, so validation, audit, the transaction and the
//! `fte.escalations` event are the endpoint's own.
//!
//! | tool | endpoint |
//! | --- | --- |
//! | `list_escalations` | `GET /escalations` |
//! | `assign_escalation` | `POST /escalations/{id}/assign` |
//! | `reply_to_customer` | `POST /conversations/{id}/reply` |
//! | `resolve_escalation` | `POST /escalations/{id}/resolve` |
//! | `lookup_customer` | `GET /customers/lookup` |
//! | `read_conversation` | `GET /conversations/{id}` |

use fte_domain::ConversationId;
use fte_gateway::routes::customers::CustomerDetail;
use fte_gateway::routes::escalations::{
    self, AssignRequest, Escalation, EscalationList, ListQuery, ResolveRequest,
};
use fte_gateway::routes::staff::{self, ConversationDetail, LookupQuery};
use fte_gateway::routes::staff_reply::{self, ReplyAccepted, ReplyRequest};
use fte_gateway::{ApiError, auth::StaffAuth};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::SupportServer;
use crate::failure::{parse_id, tool_result};

/// `list_escalations` arguments.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListInput {
    /// pending (default), assigned, resolved, or open (pending or assigned).
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::queue_status")]
    pub status: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[serde(default)]
    pub limit: Option<i64>,
    /// Escalations to skip (default 0); `next_offset` of the previous page.
    #[serde(default)]
    pub offset: Option<i64>,
}

/// `assign_escalation` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignInput {
    /// The escalation to take.
    #[schemars(schema_with = "crate::schema::uuid")]
    pub escalation_id: String,
    /// Who takes it; you (the staff key's owner) when left out.
    #[serde(default)]
    pub staff: Option<String>,
}

/// `reply_to_customer` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyInput {
    /// The escalated conversation (`conversation_id` of the escalation).
    #[schemars(schema_with = "crate::schema::uuid")]
    pub conversation_id: String,
    /// The reply in light Markdown (1–5000 characters); it is formatted for
    /// the customer's current channel (greeting, signature and ticket line
    /// are added).
    pub message: String,
}

/// `resolve_escalation` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveInput {
    /// The escalation to close.
    #[schemars(schema_with = "crate::schema::uuid")]
    pub escalation_id: String,
    /// What was done (1–5000 characters), for the ticket and the escalation.
    pub resolution_notes: String,
}

/// `lookup_customer` arguments: an email or a phone number.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupInput {
    /// An email address.
    #[serde(default)]
    pub email: Option<String>,
    /// A phone number in international form (+34 612 345 678).
    #[serde(default)]
    pub phone: Option<String>,
}

/// `read_conversation` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConversationInput {
    /// The conversation.
    #[schemars(schema_with = "crate::schema::uuid")]
    pub conversation_id: String,
}

#[tool_router(router = staff_tools, vis = "pub(crate)")]
impl SupportServer {
    /// The escalation queue.
    #[tool(
        description = "The escalation queue, oldest first: each case with its reason, channel, customer (name, email, phone, plan), summary, wait time and whether it is overdue. Filter by status (pending by default, assigned, resolved, open) and page with limit and offset.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn list_escalations(
        &self,
        Parameters(input): Parameters<ListInput>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let query = ListQuery {
            status: input.status,
            limit: input.limit.map(|n| n.to_string()),
            offset: input.offset.map(|n| n.to_string()),
        };
        tool_result::<EscalationList>(
            self.as_staff(&context, async |staff| {
                escalations::list_escalations(&self.ctx.pool, &staff, &query).await
            })
            .await,
        )
    }

    /// Take an escalation.
    #[tool(
        description = "Take an escalation (or take it over): it becomes assigned to you, or to the staff member named in `staff`.",
        annotations(
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn assign_escalation(
        &self,
        Parameters(input): Parameters<AssignInput>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        tool_result::<Escalation>(
            self.as_staff(&context, async |staff| {
                let id = parse_id(&input.escalation_id, "escalation_id")?;
                let body = AssignRequest { staff: input.staff };
                escalations::assign_escalation(
                    &self.ctx.pool,
                    self.ctx.publisher.as_ref(),
                    &staff,
                    id,
                    &body,
                )
                .await
            })
            .await,
        )
    }

    /// Answer the customer of an escalated conversation.
    #[tool(
        description = "Reply to the customer of an escalated conversation, as you: delivered on the customer's current channel in its format (email in the Gmail thread, WhatsApp split into messages, web form on the status page and by email). Refused for a conversation the bot is answering.",
        annotations(destructive_hint = false, open_world_hint = true)
    )]
    async fn reply_to_customer(
        &self,
        Parameters(input): Parameters<ReplyInput>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        tool_result::<ReplyAccepted>(
            self.as_staff(&context, async |staff| {
                let id = parse_id(&input.conversation_id, "conversation_id")?;
                let body = ReplyRequest {
                    staff: None,
                    message: input.message,
                };
                staff_reply::reply_to_conversation(&self.ctx.pool, &staff, id, &body).await
            })
            .await,
        )
    }

    /// Close an escalation.
    #[tool(
        description = "Close an escalation with notes on what was done: the escalation, its ticket and its conversation are resolved, and the customer's next message is answered by the bot again.",
        annotations(destructive_hint = false, open_world_hint = false)
    )]
    async fn resolve_escalation(
        &self,
        Parameters(input): Parameters<ResolveInput>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        tool_result::<Escalation>(
            self.as_staff(&context, async |staff| {
                let id = parse_id(&input.escalation_id, "escalation_id")?;
                let body = ResolveRequest {
                    staff: None,
                    resolution_notes: input.resolution_notes,
                };
                escalations::resolve_escalation(
                    &self.ctx.pool,
                    self.ctx.publisher.as_ref(),
                    &staff,
                    id,
                    &body,
                )
                .await
            })
            .await,
        )
    }

    /// Find a customer.
    #[tool(
        description = "Find a customer by email address or phone number: their profile (name, email, phone, plan) and conversations, latest first. One customer across every channel.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn lookup_customer(
        &self,
        Parameters(input): Parameters<LookupInput>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let query = LookupQuery {
            email: input.email,
            phone: input.phone,
        };
        tool_result::<CustomerDetail>(
            self.as_staff(&context, async |staff| {
                staff::look_up_customer(&self.ctx.pool, &staff, &query).await
            })
            .await,
        )
    }

    /// Read a conversation.
    #[tool(
        description = "A conversation with every message across channels, oldest first: who wrote it (customer, agent or system), on which channel, and its delivery status.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn read_conversation(
        &self,
        Parameters(input): Parameters<ConversationInput>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        tool_result::<ConversationDetail>(
            self.as_staff(&context, async |staff| {
                let id = parse_id(&input.conversation_id, "conversation_id")?;
                staff::read_conversation(&self.ctx.pool, &staff, ConversationId(id)).await
            })
            .await,
        )
    }
}

impl SupportServer {
    /// Runs `act` as the calling staff member (401 when there is none).
    pub(crate) async fn as_staff<T>(
        &self,
        context: &RequestContext<RoleServer>,
        act: impl AsyncFnOnce(StaffAuth) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        act(self.staff(context)?).await
    }
}
