//! Prompts staff pick from their assistant's menu:
//!
//! - `draft_escalation_reply {escalation_id}`: a draft answer to an
//!   escalated customer in the brand voice (`context/brand-voice.md`), with
//!   the case, the whole conversation and the knowledge base's passages
//!   for the customer's latest message in front of the model;
//! - `review_escalation_queue`: the open queue, to decide what to take
//!   first.
//!
//! Both read through the staff operations, so their reads are audited.

use fte_agent::tools::{self, SearchArgs};
use fte_domain::ConversationId;
use fte_gateway::ApiError;
use fte_gateway::auth::{StaffAuth, Target};
use fte_gateway::routes::escalations::{self, Escalation, ListQuery};
use fte_gateway::routes::staff::{self, ConversationDetail};
use fte_store::escalations as store_escalations;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{GetPromptResult, PromptMessage, Role};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, prompt, prompt_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::SupportServer;
use crate::failure::{parse_id, protocol_error};

/// The brand voice and channel formats, from the company's own material.
const BRAND_VOICE: &str = include_str!("../../../context/brand-voice.md");
/// Open escalations the queue review shows at most.
const QUEUE_REVIEW_SIZE: i64 = 50;

/// `draft_escalation_reply` arguments.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct DraftArgs {
    /// The escalation to answer (`id` from list_escalations).
    pub escalation_id: String,
}

// The `prompt` macro adds a public metadata function per prompt without
// documentation; the prompts are documented here and in their descriptions.
#[allow(missing_docs)]
#[prompt_router(vis = "pub(crate)")]
impl SupportServer {
    /// Draft a reply to an escalation in the brand voice.
    #[prompt(
        name = "draft_escalation_reply",
        description = "Draft a reply to escalation {escalation_id} in the Orbitask brand voice, from the case, the whole conversation and the knowledge base, for you to review before sending it with reply_to_customer."
    )]
    async fn draft_escalation_reply(
        &self,
        Parameters(args): Parameters<DraftArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResult, ErrorData> {
        let staff = self.staff(&context).map_err(protocol_error)?;
        let text = self.draft(&staff, &args).await.map_err(protocol_error)?;
        Ok(
            GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
                .with_description("Draft a reply to an escalated customer"),
        )
    }

    /// Review the open escalation queue.
    #[prompt(
        name = "review_escalation_queue",
        description = "Review the open escalation queue (pending and assigned): what is overdue, what to take first, and which cases look mis-escalated."
    )]
    async fn review_escalation_queue(
        &self,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResult, ErrorData> {
        let staff = self.staff(&context).map_err(protocol_error)?;
        let query = ListQuery {
            status: Some("open".into()),
            limit: Some(QUEUE_REVIEW_SIZE.to_string()),
            offset: None,
        };
        let page = escalations::list_escalations(&self.ctx.pool, &staff, &query)
            .await
            .map_err(protocol_error)?;
        let cases: Vec<String> = page.items.iter().map(case_line).collect();
        let text = format!(
            "Here is the open escalation queue of Orbitask support ({shown} of {total} cases, \
             oldest first):\n\n{cases}\n\nSuggest the order to work through it: overdue cases \
             first, then the shortest promised response time (Business and Enterprise plans). \
             Point out cases assigned to someone that wait long, and cases whose reason looks \
             wrong for their summary. Use the ids as given; take a case with assign_escalation.",
            shown = page.items.len(),
            total = page.total,
            cases = if cases.is_empty() {
                "(the queue is empty)".to_owned()
            } else {
                cases.join("\n")
            },
        );
        Ok(
            GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
                .with_description("Review the open escalation queue"),
        )
    }
}

impl SupportServer {
    async fn draft(&self, staff: &StaffAuth, args: &DraftArgs) -> Result<String, ApiError> {
        let pool = &self.ctx.pool;
        let id = parse_id(&args.escalation_id, "escalation_id")?;
        staff
            .audit(
                pool,
                "escalation.draft",
                Target::one("escalation", &id.to_string()),
            )
            .await?;
        let escalation: Escalation = store_escalations::escalation(pool, id)
            .await?
            .ok_or_else(|| ApiError::NotFound("No escalation has this ID.".into()))?
            .into();
        let conversation =
            staff::read_conversation(pool, staff, ConversationId(escalation.conversation_id))
                .await?;
        let passages = self.passages_for(&conversation).await?;
        Ok(draft_text(&escalation, &conversation, &passages))
    }

    /// Knowledge-base passages for the customer's latest message.
    async fn passages_for(&self, conversation: &ConversationDetail) -> Result<String, ApiError> {
        let Some(latest) = conversation
            .messages
            .iter()
            .rev()
            .find(|m| m.role == "customer")
        else {
            return Ok("(the customer has not written yet)".into());
        };
        let args = SearchArgs {
            query: latest.content.clone(),
            max_results: 3,
        };
        let answer = match tools::search_knowledge_base(&self.ctx.search, &args).await {
            Ok(answer) => answer,
            Err(tools::ToolError::Arguments(_)) => return Ok("(nothing to search for)".into()),
            Err(tools::ToolError::Agent(error)) => {
                return Err(ApiError::Internal(
                    anyhow::Error::new(error).context("Failed to search the knowledge base"),
                ));
            }
        };
        if !answer.relevant {
            return Ok("(no article is relevant enough: do not state product facts)".into());
        }
        Ok(answer
            .passages
            .iter()
            .map(|p| format!("- {} (kb://{}): {}", p.title, p.slug, p.passage))
            .collect::<Vec<_>>()
            .join("\n"))
    }
}

fn case_line(e: &Escalation) -> String {
    let summary = e
        .full_context
        .get("summary")
        .and_then(|s| s.as_str())
        .unwrap_or("");
    format!(
        "- {id}: reason {reason}, {status}{assigned}, channel {channel}, plan {plan}, \
         waiting {hours:.1} h{overdue}; summary: {summary}",
        id = e.id,
        reason = e.reason,
        status = e.status,
        assigned = e
            .assigned_to
            .as_deref()
            .map(|a| format!(" to {a}"))
            .unwrap_or_default(),
        channel = e.channel,
        plan = e.customer.plan.as_deref().unwrap_or("unknown"),
        hours = e.wait_secs as f64 / 3600.0,
        overdue = if e.overdue { ", OVERDUE" } else { "" },
    )
}

fn draft_text(e: &Escalation, c: &ConversationDetail, passages: &str) -> String {
    let summary = e
        .full_context
        .get("summary")
        .and_then(|s| s.as_str())
        .unwrap_or("(none)");
    let first_name = e
        .customer
        .name
        .as_deref()
        .and_then(|n| n.split_whitespace().next())
        .unwrap_or("unknown");
    let transcript: Vec<String> = c
        .messages
        .iter()
        .map(|m| {
            format!(
                "[{} on {} at {}] {}",
                m.role,
                m.channel,
                m.created_at.format("%Y-%m-%d %H:%M UTC"),
                m.content
            )
        })
        .collect();
    format!(
        "Draft a reply from Orbitask support to the customer of escalation {id}. Do not send it: \
         show me the draft; once I approve, send it with reply_to_customer \
         (conversation_id {conversation}).\n\n\
         The case: reason {reason}, raised {raised}, the customer is now on {channel}, plan \
         {plan}, first name {first_name}.\nThe agent's summary: {summary}\n\n\
         The conversation so far, oldest first:\n{transcript}\n\n\
         Knowledge base passages for the customer's latest message (state only facts found \
         here, copying numbers and menu paths exactly):\n{passages}\n\n\
         Write only the answer for the {channel} channel: the greeting, the signature and the \
         ticket line are added when it is sent. Never state or guess a price, discount or \
         refund amount, never promise what the knowledge base does not say, never blame the \
         customer, and answer everything they asked.\n\n{voice}",
        id = e.id,
        conversation = e.conversation_id,
        reason = e.reason,
        raised = e.created_at.format("%Y-%m-%d %H:%M UTC"),
        channel = c.conversation.current_channel,
        plan = e.customer.plan.as_deref().unwrap_or("unknown"),
        transcript = transcript.join("\n"),
        voice = BRAND_VOICE.trim(),
    )
}
