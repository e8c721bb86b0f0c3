//! What a stored message gets: an acknowledgement in an escalated
//! conversation, the rate-limit notice, the deferred rest of a WhatsApp
//! answer on "MORE", or the agent's answer with its effects (escalation,
//! resolution, sentiment, metrics events), all queued in the message's
//! transaction.

use chrono::{DateTime, Utc};
use fte_domain::format::{self, FormattedReply, Recipient as FormatRecipient};
use fte_domain::{
    Channel, ConversationId, ConversationStatus, CustomerId, EventEnvelope, InboundMessage,
    TicketId, TicketStatus,
};
use fte_store::conversations::{self, ConversationRow, NewEscalation};
use fte_store::customers::CustomerRow;
use fte_store::{messages, outbox};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::agent::{AgentRequest, HistoryEntry, HistoryRole};
use crate::collector::{TURN_EVENT, ToolCallCounts, TurnEvent};
use crate::context::WorkerContext;
use crate::handle::{
    Action, ESCALATED_ACKNOWLEDGEMENT, HandleError, META_ACK_AT, META_DEFERRED,
    META_RATE_NOTICE_AT, RATE_LIMIT_NOTICE, move_conversation, move_ticket,
};
use crate::identity::Identity;
use crate::reply::{self, QueuedReply};
use crate::schedule::business_hours_after;

/// One message, after storage: decides and queues what the customer gets.
pub(crate) struct Step<'a> {
    pub(crate) ctx: &'a WorkerContext,
    pub(crate) message: &'a InboundMessage,
    pub(crate) identity: &'a Identity,
    pub(crate) customer: &'a CustomerRow,
    pub(crate) conversation: &'a ConversationRow,
    pub(crate) ticket_id: Uuid,
    pub(crate) ticket_status: TicketStatus,
    pub(crate) message_id: Uuid,
}

impl Step<'_> {
    fn channel(&self) -> Channel {
        self.message.channel
    }

    fn first_name(&self) -> Option<String> {
        self.message
            .sender
            .name
            .as_deref()
            .or(self.customer.name.as_deref())
            .and_then(|n| n.split_whitespace().next())
            .map(str::to_owned)
    }

    fn meta_time(&self, key: &str) -> Option<DateTime<Utc>> {
        self.conversation
            .metadata
            .get(key)
            .and_then(|v| v.as_str())
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc))
    }

    /// Shapes plain text for the channel with its greeting and ticket line.
    fn format(&self, text: &str) -> FormattedReply {
        let first_name = self.first_name();
        let reference = self.ticket_id.to_string();
        format::format_reply(
            self.channel(),
            FormatRecipient {
                first_name: first_name.as_deref(),
                ticket_reference: &reference,
            },
            text,
        )
    }

    async fn queue(
        &self,
        conn: &mut PgConnection,
        role: &str,
        formatted: &FormattedReply,
        agent: Option<&crate::agent::AgentOutcome>,
    ) -> Result<(), HandleError> {
        reply::queue(
            conn,
            &QueuedReply {
                message: self.message,
                identity: self.identity,
                conversation_id: self.conversation.id,
                ticket_id: self.ticket_id,
                role,
                parts: &formatted.messages,
                agent,
            },
        )
        .await?;
        if self.channel() == Channel::Whatsapp {
            let deferred = formatted.deferred.clone().map(serde_json::Value::String);
            conversations::set_metadata(&mut *conn, self.conversation.id, META_DEFERRED, deferred)
                .await?;
        }
        Ok(())
    }

    pub(crate) async fn decide(&self, conn: &mut PgConnection) -> Result<Action, HandleError> {
        let now = Utc::now();
        if self.conversation.status == ConversationStatus::Escalated.as_str() {
            let interval = chrono::Duration::from_std(self.ctx.config.escalated_ack_interval)
                .unwrap_or(chrono::Duration::hours(1));
            if self
                .meta_time(META_ACK_AT)
                .is_some_and(|at| now - at < interval)
            {
                return Ok(Action::StoredWhileEscalated);
            }
            let formatted = self.format(ESCALATED_ACKNOWLEDGEMENT);
            self.queue(conn, "system", &formatted, None).await?;
            self.set_meta_time(conn, META_ACK_AT, now).await?;
            return Ok(Action::Acknowledged);
        }

        let window = chrono::Duration::from_std(self.ctx.config.rate_limit_window)
            .unwrap_or(chrono::Duration::minutes(1));
        let recent =
            messages::inbound_count_since(&mut *conn, self.customer.id, now - window).await?;
        if recent > self.ctx.config.rate_limit_max {
            if self
                .meta_time(META_RATE_NOTICE_AT)
                .is_some_and(|at| now - at < window)
            {
                return Ok(Action::RateLimited);
            }
            let formatted = self.format(RATE_LIMIT_NOTICE);
            self.queue(conn, "system", &formatted, None).await?;
            self.set_meta_time(conn, META_RATE_NOTICE_AT, now).await?;
            return Ok(Action::RateLimitNotice);
        }

        if self.channel() == Channel::Whatsapp
            && self.message.content.trim().eq_ignore_ascii_case("more")
            && let Some(deferred) = self
                .conversation
                .metadata
                .get(META_DEFERRED)
                .and_then(|d| d.as_str())
        {
            let formatted = format::whatsapp(deferred);
            self.queue(conn, "agent", &formatted, None).await?;
            return Ok(Action::SentDeferred);
        }

        self.ask_agent(conn).await
    }

    async fn set_meta_time(
        &self,
        conn: &mut PgConnection,
        key: &str,
        at: DateTime<Utc>,
    ) -> Result<(), HandleError> {
        conversations::set_metadata(
            &mut *conn,
            self.conversation.id,
            key,
            Some(serde_json::Value::String(at.to_rfc3339())),
        )
        .await?;
        Ok(())
    }

    async fn ask_agent(&self, conn: &mut PgConnection) -> Result<Action, HandleError> {
        let history = messages::customer_history(
            &mut *conn,
            self.customer.id,
            self.message_id,
            self.ctx.config.history_limit,
        )
        .await?
        .into_iter()
        .filter_map(|row| {
            Some(HistoryEntry {
                role: if row.direction == "inbound" {
                    HistoryRole::Customer
                } else {
                    HistoryRole::Agent
                },
                channel: row.channel.parse().ok()?,
                content: row.content,
                created_at: row.created_at,
            })
        })
        .collect();
        let request = AgentRequest {
            customer_id: CustomerId(self.customer.id),
            conversation_id: ConversationId(self.conversation.id),
            ticket_id: TicketId(self.ticket_id),
            channel: self.channel(),
            customer_first_name: self.first_name(),
            plan: self.customer.plan.clone(),
            human_response_hours: self
                .ctx
                .config
                .response_hours
                .for_plan(self.customer.plan.as_deref()),
            subject: self.message.subject.clone(),
            message: self.message.content.clone(),
            history,
        };
        let outcome = self.ctx.agent.respond(&request).await?;
        let channel = self.channel().as_str();

        self.queue(conn, "agent", &outcome.reply, Some(&outcome))
            .await?;
        let sentiment = f64::from(outcome.sentiment);
        conversations::set_sentiment(&mut *conn, self.conversation.id, sentiment).await?;
        messages::set_sentiment(&mut *conn, self.message_id, sentiment).await?;
        if let Some(category) = outcome.ticket_category {
            conversations::set_ticket_category(&mut *conn, self.ticket_id, category.as_str())
                .await?;
        }

        let action = if let Some(decision) = &outcome.escalation {
            self.escalate(conn, decision).await?;
            Action::Escalated(decision.reason)
        } else if outcome.resolve_ticket {
            move_ticket(
                conn,
                self.ticket_id,
                self.ticket_status,
                TicketStatus::Resolved,
            )
            .await?;
            move_conversation(
                conn,
                self.conversation.id,
                &self.conversation.status,
                ConversationStatus::Resolved,
                Some("bot"),
            )
            .await?;
            Action::Resolved
        } else {
            Action::Answered
        };

        // The metrics collector turns this event into agent_metrics rows
        // (it is their only writer, idempotent on the event id).
        let counts = ToolCallCounts::of(&outcome.tool_calls);
        let metrics_event = EventEnvelope::new(
            TURN_EVENT,
            Utc::now(),
            TurnEvent {
                channel: self.channel(),
                conversation_id: self.conversation.id,
                ticket_id: self.ticket_id,
                latency_ms: outcome.latency_ms,
                tokens_used: outcome.tokens_used,
                tool_calls: counts.tool_calls,
                kb_searches: counts.kb_searches,
                kb_hits: counts.kb_hits,
                failed_tool_calls: counts.failed_tool_calls,
                escalated: outcome.escalation.is_some(),
                sentiment: outcome.sentiment,
            },
        );
        outbox::enqueue_event(
            &mut *conn,
            fte_bus::topics::METRICS,
            &self.conversation.id.to_string(),
            &serde_json::to_value(&metrics_event).unwrap_or_default(),
        )
        .await?;
        let m = fte_runtime::metrics::global();
        m.agent_tokens
            .with_label_values(&[channel])
            .inc_by(u64::from(outcome.tokens_used));
        m.sentiment.with_label_values(&[channel]).observe(sentiment);
        Ok(action)
    }

    async fn escalate(
        &self,
        conn: &mut PgConnection,
        decision: &crate::agent::EscalationDecision,
    ) -> Result<(), HandleError> {
        move_ticket(
            conn,
            self.ticket_id,
            self.ticket_status,
            TicketStatus::Escalated,
        )
        .await?;
        move_conversation(
            conn,
            self.conversation.id,
            &self.conversation.status,
            ConversationStatus::Escalated,
            None,
        )
        .await?;
        let now = Utc::now();
        let hours = self
            .ctx
            .config
            .response_hours
            .for_plan(self.customer.plan.as_deref());
        let full_context = json!({
            "summary": decision.summary,
            "customer_id": self.customer.id,
            "conversation_id": self.conversation.id,
            "ticket_id": self.ticket_id,
            "channel": self.channel().as_str(),
            "reason": decision.reason.as_str(),
            "plan": self.customer.plan,
            "response_hours": hours,
        });
        conversations::insert_escalation(
            &mut *conn,
            &NewEscalation {
                ticket_id: self.ticket_id,
                conversation_id: self.conversation.id,
                customer_id: self.customer.id,
                channel: self.channel().as_str(),
                reason: decision.reason.as_str(),
                full_context: full_context.clone(),
                expected_response_by: Some(business_hours_after(now, i64::from(hours))),
            },
        )
        .await?;
        conversations::set_metadata(
            &mut *conn,
            self.conversation.id,
            META_ACK_AT,
            Some(serde_json::Value::String(now.to_rfc3339())),
        )
        .await?;
        let event = EventEnvelope::new(
            "ticket.escalated",
            now,
            json!({ "ticket_id": self.ticket_id, "full_context": full_context }),
        );
        outbox::enqueue_event(
            &mut *conn,
            fte_bus::topics::ESCALATIONS,
            &self.ticket_id.to_string(),
            &serde_json::to_value(&event).unwrap_or_default(),
        )
        .await?;
        Ok(())
    }
}
