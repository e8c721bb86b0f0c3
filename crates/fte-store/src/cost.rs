//! The cost level: what the agent's model tokens cost over a window, per
//! channel and overall, and what that comes to per resolved conversation
//! and per escalation.
//!
//! It reads the figures the metrics collector writes per turn
//! (`prompt_tokens`, `completion_tokens`, `embedding_tokens` and
//! `model_cost_micro_usd`, priced by the worker when the tokens were spent,
//! so a later price change does not rewrite history) and sorts each
//! conversation with turns in the window by its outcome:
//!
//! - **escalated**: the conversation has an escalation (a person took it);
//! - **resolved**: every other one — the bot handled it without a person,
//!   whether the customer said it was solved or simply did not come back.
//!   This is the "assumed resolution" per-resolution pricing counts (Intercom
//!   Fin's, for example); a conversation answered minutes ago counts as
//!   resolved until it escalates.
//!
//! The arithmetic (division, no figure without a denominator) is
//! [`fte_domain::cost`]'s.

use chrono::{DateTime, Utc};
use fte_domain::Channel;
use fte_domain::cost::{MICRO_USD_PER_USD, per_unit};
use sqlx::PgPool;

use crate::StoreError;
use crate::metrics::OVERALL;

/// The cost level of one channel, or of every channel ([`OVERALL`]).
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct CostTotals {
    /// The channel, or [`OVERALL`].
    pub channel: String,
    /// Agent turns recorded in the window.
    pub turns: i64,
    /// Chat prompt (input) tokens.
    pub prompt_tokens: f64,
    /// Chat completion (output) tokens.
    pub completion_tokens: f64,
    /// Tokens billed by a remote embedder.
    pub embedding_tokens: f64,
    /// What they cost, in US dollars.
    pub cost_usd: f64,
    /// Conversations with turns in the window that no person took.
    pub resolved_conversations: i64,
    /// What their turns in the window cost, in US dollars.
    pub resolved_cost_usd: f64,
    /// Conversations with turns in the window that were escalated.
    pub escalated_conversations: i64,
    /// What their turns in the window cost, in US dollars.
    pub escalated_cost_usd: f64,
}

impl CostTotals {
    fn empty(channel: &str) -> Self {
        Self {
            channel: channel.to_owned(),
            turns: 0,
            prompt_tokens: 0.0,
            completion_tokens: 0.0,
            embedding_tokens: 0.0,
            cost_usd: 0.0,
            resolved_conversations: 0,
            resolved_cost_usd: 0.0,
            escalated_conversations: 0,
            escalated_cost_usd: 0.0,
        }
    }

    /// What the turns of a resolved conversation cost on average.
    pub fn cost_per_resolved_conversation(&self) -> Option<f64> {
        per_unit(self.resolved_cost_usd, self.resolved_conversations)
    }

    /// What the turns of an escalated conversation cost on average (the
    /// person's time is not in it).
    pub fn cost_per_escalation(&self) -> Option<f64> {
        per_unit(self.escalated_cost_usd, self.escalated_conversations)
    }

    /// Every token of the window over the resolutions: the figure to set
    /// against a per-resolution price, since escalated conversations'
    /// tokens are spent too.
    pub fn cost_per_resolution_all_in(&self) -> Option<f64> {
        per_unit(self.cost_usd, self.resolved_conversations)
    }
}

/// The cost level since `since`: per channel in [`Channel::ALL`] order
/// (zeros without turns), then [`OVERALL`]. A conversation whose turns came
/// on two channels counts once in each, and once overall.
pub async fn cost_level(
    pool: &PgPool,
    since: DateTime<Utc>,
) -> Result<Vec<CostTotals>, StoreError> {
    let rows: Vec<CostTotals> = sqlx::query_as(
        "with turns as (
             select m.channel,
                    (m.dimensions ->> 'conversation_id')::uuid as conversation_id,
                    count(*) filter (where m.metric_name = 'tool_calls') as turns,
                    coalesce(sum(m.metric_value) filter (where m.metric_name = 'prompt_tokens'), 0)
                        as prompt_tokens,
                    coalesce(sum(m.metric_value) filter (where m.metric_name = 'completion_tokens'), 0)
                        as completion_tokens,
                    coalesce(sum(m.metric_value) filter (where m.metric_name = 'embedding_tokens'), 0)
                        as embedding_tokens,
                    coalesce(sum(m.metric_value) filter (where m.metric_name = 'model_cost_micro_usd'), 0)
                        / $2 as cost_usd
             from agent_metrics m
             where m.recorded_at >= $1 and m.event_id is not null and m.channel is not null
               and m.metric_name in ('tool_calls', 'prompt_tokens', 'completion_tokens',
                                     'embedding_tokens', 'model_cost_micro_usd')
             group by 1, 2
         ),
         outcomes as (
             select t.*, exists (select 1 from escalations e
                                 where e.conversation_id = t.conversation_id) as escalated
             from turns t
         )
         select case when grouping(o.channel) = 1 then 'overall' else o.channel end as channel,
                coalesce(sum(o.turns), 0)::int8 as turns,
                coalesce(sum(o.prompt_tokens), 0)::float8 as prompt_tokens,
                coalesce(sum(o.completion_tokens), 0)::float8 as completion_tokens,
                coalesce(sum(o.embedding_tokens), 0)::float8 as embedding_tokens,
                coalesce(sum(o.cost_usd), 0)::float8 as cost_usd,
                count(distinct o.conversation_id) filter (where not o.escalated)
                    as resolved_conversations,
                coalesce(sum(o.cost_usd) filter (where not o.escalated), 0)::float8
                    as resolved_cost_usd,
                count(distinct o.conversation_id) filter (where o.escalated)
                    as escalated_conversations,
                coalesce(sum(o.cost_usd) filter (where o.escalated), 0)::float8
                    as escalated_cost_usd
         from outcomes o
         group by grouping sets ((o.channel), ())",
    )
    .bind(since)
    .bind(MICRO_USD_PER_USD)
    .fetch_all(pool)
    .await?;
    Ok(Channel::ALL
        .iter()
        .map(|c| c.as_str())
        .chain([OVERALL])
        .map(|label| {
            rows.iter()
                .find(|row| row.channel == label)
                .cloned()
                .unwrap_or_else(|| CostTotals::empty(label))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_conversation_figures_need_a_conversation() {
        let mut totals = CostTotals::empty(OVERALL);
        assert_eq!(totals.cost_per_resolved_conversation(), None);
        assert_eq!(totals.cost_per_escalation(), None);
        assert_eq!(totals.cost_per_resolution_all_in(), None);
        totals.cost_usd = 0.9;
        totals.resolved_conversations = 4;
        totals.resolved_cost_usd = 0.4;
        totals.escalated_conversations = 1;
        totals.escalated_cost_usd = 0.5;
        assert_eq!(totals.cost_per_resolved_conversation(), Some(0.1));
        assert_eq!(totals.cost_per_escalation(), Some(0.5));
        assert_eq!(totals.cost_per_resolution_all_in(), Some(0.225));
    }
}
