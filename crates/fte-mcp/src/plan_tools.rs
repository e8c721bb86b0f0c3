//! The plan's five tools, served to staff and acting for real: the agent
//! records the effect of its write tools for the worker to commit, while
//! here a staff member's call commits at once (audited under their name).
//!
//! | tool | does | through |
//! | --- | --- | --- |
//! | `search_knowledge_base` | hybrid search of the knowledge base | `fte_agent::tools::search_knowledge_base` |
//! | `create_ticket` | the customer's ticket, on their open conversation or a new one | [`crate::tickets`] (the worker's conversation rule) |
//! | `get_customer_history` | the customer's latest messages on every channel | `fte_agent::tools::recent_history` |
//! | `escalate_to_human` | hands a ticket to a person | `fte_worker::escalate::escalate_ticket` |
//! | `send_response` | a staff reply on the ticket's conversation | `fte_gateway::routes::staff_reply` |

use fte_agent::HistoryEntry;
use fte_agent::tools::{self, MAX_HISTORY_MESSAGES, SearchArgs, ToolError};
use fte_domain::{EscalationReason, TicketId};
use fte_gateway::ApiError;
use fte_gateway::auth::Target;
use fte_gateway::routes::escalations::Escalation;
use fte_gateway::routes::staff_reply::{self, ReplyAccepted, ReplyRequest};
use fte_store::{customers, escalations, messages};
use fte_worker::HandleError;
use fte_worker::agent::EscalationDecision;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::SupportServer;
use crate::failure::{invalid, parse_id, tool_result};
use crate::tickets::{CreateTicketInput, CreatedTicket};

/// The longest escalation summary, in characters.
pub const MAX_SUMMARY_CHARS: usize = 2000;

/// `search_knowledge_base` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchInput {
    /// What to look for: keywords or a short question, in English.
    pub query: String,
    /// How many passages to return, 1 to 5 (default 3).
    #[serde(default)]
    #[schemars(range(min = 1, max = 5))]
    pub max_results: Option<u32>,
}

/// `get_customer_history` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryInput {
    /// The customer (`customer_id` from lookup_customer or an escalation).
    #[schemars(schema_with = "crate::schema::uuid")]
    pub customer_id: String,
    /// How many of the latest messages, 1 to 20 (default 20).
    #[serde(default)]
    #[schemars(range(min = 1, max = 20))]
    pub limit: Option<u32>,
}

/// The customer's latest messages, oldest first.
#[derive(Debug, Serialize)]
pub struct CustomerHistory {
    /// The customer.
    pub customer_id: Uuid,
    /// Their messages and the answers they got, on every channel.
    pub messages: Vec<HistoryEntry>,
}

/// `escalate_to_human` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateInput {
    /// The ticket to hand to a person.
    #[schemars(schema_with = "crate::schema::uuid")]
    pub ticket_id: String,
    /// The escalation rule that applies.
    #[schemars(schema_with = "crate::schema::reason")]
    pub reason: String,
    /// One or two sentences for the person taking over (no contact details).
    pub summary: String,
}

/// `send_response` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SendResponseInput {
    /// The ticket whose customer is answered.
    #[schemars(schema_with = "crate::schema::uuid")]
    pub ticket_id: String,
    /// The reply in light Markdown (1–5000 characters); it is formatted for
    /// the customer's current channel (greeting, signature and ticket line
    /// are added).
    pub message: String,
}

/// A staff reply queued for the customer.
#[derive(Debug, Serialize)]
pub struct SentResponse {
    /// The ticket.
    pub ticket_id: Uuid,
    /// Its conversation.
    pub conversation_id: Uuid,
    /// The stored message and where it goes.
    #[serde(flatten)]
    pub reply: ReplyAccepted,
}

#[tool_router(router = plan_tools, vis = "pub(crate)")]
impl SupportServer {
    /// Search the Orbitask knowledge base.
    #[tool(
        description = "Search the Orbitask knowledge base (hybrid semantic and full-text search). Returns the best passages with their article slug (read the whole article as the resource kb://<slug>), a similarity score, and whether the best one is relevant enough to answer from.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn search_knowledge_base(
        &self,
        Parameters(input): Parameters<SearchInput>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        tool_result(self.search(input, &context).await)
    }

    /// Open a ticket for a customer.
    #[tool(
        description = "Open a ticket for a customer (for example after a call). It joins the customer's open conversation of the last 24 hours, or starts one on the given channel; if that conversation already has an unresolved ticket, that ticket is returned (created: false) with the category and priority given applied. Replies go to the conversation's current channel.",
        annotations(
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn create_ticket(
        &self,
        Parameters(input): Parameters<CreateTicketInput>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let result: Result<CreatedTicket, ApiError> = async {
            let staff = self.staff(&context)?;
            crate::tickets::create_ticket(&self.ctx, &staff, &input).await
        }
        .await;
        tool_result(result)
    }

    /// A customer's history across channels.
    #[tool(
        description = "A customer's latest messages on every channel (email, WhatsApp, web form), oldest first, with who wrote each (customer or agent) — to notice a follow-up or an earlier contact on another channel.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn get_customer_history(
        &self,
        Parameters(input): Parameters<HistoryInput>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        tool_result(self.history(input, &context).await)
    }

    /// Hand a ticket to a person.
    #[tool(
        description = "Hand a ticket to a person, with one escalation reason (pricing, refund, legal, anger, human_request, search_failed, account_security) and a short summary. The ticket and its conversation become escalated (the bot stops answering), the case joins the escalation queue with the response time of the customer's plan, and the escalation is returned.",
        annotations(destructive_hint = false, open_world_hint = false)
    )]
    async fn escalate_to_human(
        &self,
        Parameters(input): Parameters<EscalateInput>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        tool_result(self.escalate(input, &context).await)
    }

    /// Answer the customer of a ticket.
    #[tool(
        description = "Send a staff reply to the customer of a ticket, through the customer's current channel and in its format (email in the Gmail thread, WhatsApp split into messages, web form on the status page and by email). Only escalated conversations take a staff reply: escalate_to_human first otherwise.",
        annotations(destructive_hint = false, open_world_hint = true)
    )]
    async fn send_response(
        &self,
        Parameters(input): Parameters<SendResponseInput>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        tool_result(self.respond(input, &context).await)
    }
}

impl SupportServer {
    async fn search(
        &self,
        input: SearchInput,
        context: &RequestContext<RoleServer>,
    ) -> Result<tools::KnowledgeAnswer, ApiError> {
        let staff = self.staff(context)?;
        staff
            .audit(&self.ctx.pool, "knowledge.search", Target::all("knowledge"))
            .await?;
        let args = SearchArgs {
            query: input.query,
            max_results: input.max_results.unwrap_or(3),
        };
        tools::search_knowledge_base(&self.ctx.search, &args)
            .await
            .map_err(|error| match error {
                ToolError::Arguments(reason) => invalid("query", reason),
                ToolError::Agent(error) => ApiError::Internal(
                    anyhow::Error::new(error).context("Failed to search the knowledge base"),
                ),
            })
    }

    async fn history(
        &self,
        input: HistoryInput,
        context: &RequestContext<RoleServer>,
    ) -> Result<CustomerHistory, ApiError> {
        let staff = self.staff(context)?;
        let customer_id = parse_id(&input.customer_id, "customer_id")?;
        let pool = &self.ctx.pool;
        staff
            .audit(
                pool,
                "customer.history.read",
                Target::one("customer", &customer_id.to_string()),
            )
            .await?;
        if customers::customer(pool, customer_id).await?.is_none() {
            return Err(ApiError::NotFound("No customer has this ID.".into()));
        }
        let rows =
            messages::customer_history(pool, customer_id, &[], i64::from(MAX_HISTORY_MESSAGES))
                .await?;
        let entries: Vec<HistoryEntry> = rows.iter().filter_map(HistoryEntry::from_row).collect();
        let limit = input.limit.unwrap_or(MAX_HISTORY_MESSAGES);
        Ok(CustomerHistory {
            customer_id,
            messages: tools::recent_history(&entries, limit),
        })
    }

    async fn escalate(
        &self,
        input: EscalateInput,
        context: &RequestContext<RoleServer>,
    ) -> Result<Escalation, ApiError> {
        let staff = self.staff(context)?;
        let ticket_id = parse_id(&input.ticket_id, "ticket_id")?;
        let reason: EscalationReason = input.reason.trim().parse().map_err(|_| {
            invalid(
                "reason",
                "must be one of pricing, refund, legal, anger, human_request, search_failed, account_security",
            )
        })?;
        let summary = input.summary.trim();
        if summary.is_empty() || summary.chars().count() > MAX_SUMMARY_CHARS {
            return Err(invalid(
                "summary",
                format!("must be 1 to {MAX_SUMMARY_CHARS} characters"),
            ));
        }
        let pool = &self.ctx.pool;
        // Recorded before the change, as the staff API does: a refused
        // attempt is on record too.
        staff
            .audit(
                pool,
                "ticket.escalate",
                Target::one("ticket", &ticket_id.to_string()),
            )
            .await?;
        let decision = EscalationDecision {
            reason,
            summary: summary.to_owned(),
        };
        let escalated = match fte_worker::escalate::escalate_ticket(
            pool,
            &self.ctx.response_hours,
            ticket_id,
            &decision,
        )
        .await
        {
            Ok(Some(escalated)) => escalated,
            Ok(None) => return Err(ApiError::NotFound("No ticket has this ID.".into())),
            Err(HandleError::Transition(refused)) => return Err(not_escalatable(refused)),
            Err(HandleError::Invalid(why)) => return Err(not_escalatable(why)),
            Err(error) => {
                return Err(ApiError::Internal(
                    anyhow::Error::new(error).context("Failed to escalate a ticket"),
                ));
            }
        };
        if let Some(publisher) = &self.ctx.publisher {
            fte_worker::events::relay_soon(pool, publisher).await;
        }
        let view = escalations::escalation(pool, escalated.escalation_id)
            .await?
            .ok_or_else(|| ApiError::NotFound("No escalation has this ID.".into()))?;
        Ok(view.into())
    }

    async fn respond(
        &self,
        input: SendResponseInput,
        context: &RequestContext<RoleServer>,
    ) -> Result<SentResponse, ApiError> {
        let staff = self.staff(context)?;
        let ticket_id = parse_id(&input.ticket_id, "ticket_id")?;
        let pool = &self.ctx.pool;
        let ticket = fte_store::tickets::ticket(pool, TicketId(ticket_id))
            .await?
            .ok_or_else(|| ApiError::NotFound("No ticket has this ID.".into()))?;
        let conversation_id = ticket.conversation_id.ok_or(ApiError::Conflict {
            code: "no_conversation",
            message: "The ticket has no conversation yet, so there is no one to answer.".into(),
        })?;
        let request = ReplyRequest {
            staff: None,
            message: input.message,
        };
        let reply =
            staff_reply::reply_to_conversation(pool, &staff, conversation_id, &request).await?;
        Ok(SentResponse {
            ticket_id,
            conversation_id,
            reply,
        })
    }
}

fn not_escalatable(why: impl std::fmt::Display) -> ApiError {
    ApiError::Conflict {
        code: "not_escalatable",
        message: format!("This ticket cannot be escalated: {why}."),
    }
}
