//! `fte eval`: ticket sets replayed through the offline agent against a
//! database holding the imported knowledge base, scored on what the
//! business cares about, side by side:
//!
//! - `samples`: `context/sample-tickets.json` (56 tickets);
//! - `tuning`: `context/eval/tuning.json`, the half of the independent
//!   evaluation set that thresholds and exemplars may be chosen on;
//! - `held-out`: `context/eval/held-out.json`, never tuned on. Its
//!   per-ticket failures are never collected, only its figures, so nobody
//!   tunes on them by accident.
//!
//! Measures (each a share of the tickets it applies to):
//! - decision: escalated exactly when expected;
//! - reason: the expected reason, when one is expected;
//! - must-include: the expected phrases appear in the reply sent now;
//! - action: prompt / greet / resolve / refuse-injection behave;
//! - format: channel shape and limits;
//! - recall@3: an article stating an expected fact is among the top 3;
//! - escalation rate, raw and weighted by `context/eval/realistic-mix.json`
//!   (a realistic day, where the correct rate is 13.5 %).

mod error;
mod score;
mod tickets;

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use fte_store::PgPool;

use crate::embed::Embedder;
use crate::knowledge::{import_knowledge_base, read_articles};
use crate::offline::OfflineAgent;
use crate::search::HybridSearch;
use crate::triage::triage;
use crate::types::Agent;

pub use error::EvalError;
pub use score::{Score, SetReport, Targets, format_compliant};
pub use tickets::EvalSet;

/// The evaluation's result: one report per set, in the order asked.
#[derive(Clone, Debug, Default)]
pub struct EvalReport {
    /// The sets' reports.
    pub sets: Vec<SetReport>,
}

impl EvalReport {
    /// The report of one set, when it ran.
    pub fn set(&self, set: EvalSet) -> Option<&SetReport> {
        self.sets.iter().find(|r| r.set == set)
    }
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        score::write_side_by_side(f, &self.sets)
    }
}

/// Imports `root/kb` into `pool` (idempotent) and replays each of `sets`
/// through the offline agent.
pub async fn run_eval(
    pool: &PgPool,
    embedder: Arc<dyn Embedder>,
    root: &Path,
    sets: &[EvalSet],
) -> Result<EvalReport, EvalError> {
    let kb_dir = root.join("kb");
    import_knowledge_base(pool, embedder.as_ref(), &kb_dir, |_, _| {}).await?;
    let facts_by_slug: HashMap<String, Vec<String>> = read_articles(&kb_dir)?
        .into_iter()
        .map(|a| (a.slug, a.facts))
        .collect();
    let mix = tickets::read_mix(&root.join("context/eval/realistic-mix.json"))?;
    let search = HybridSearch::new(pool.clone(), embedder);
    let agent = OfflineAgent::new(search.clone(), pool.clone());

    let mut report = EvalReport::default();
    for &set in sets {
        let tickets = tickets::read_tickets(&root.join(set.file()))?;
        let mut result = SetReport::new(set, tickets.len());
        let mut escalated = Vec::with_capacity(tickets.len());
        for ticket in &tickets {
            let request = tickets::request_for(ticket);
            // The agent's debug logs follow their ticket's id, for tuning;
            // the held-out tickets stay anonymous.
            if set.reveals_failures() {
                tracing::debug!(ticket.id = %ticket.id, "eval ticket");
            }
            let outcome = agent.respond(&request).await?;
            if set.reveals_failures() {
                tracing::debug!(tool_calls = %outcome.tool_calls, "eval outcome");
            }
            escalated.push((&ticket.expect, outcome.escalation.is_some()));
            result.score_ticket(ticket, &request, &outcome);

            if matches!(
                ticket.expect.action.as_str(),
                "answer" | "answer_and_escalate"
            ) && !ticket.expect.facts.is_empty()
                && ticket.history.is_empty()
            {
                let question = triage(&ticket.message).answerable;
                let results = search.search_uncounted(&question, 10).await?;
                let found = results.top_articles(3).iter().any(|group| {
                    facts_by_slug
                        .get(&group[0].slug)
                        .is_some_and(|facts| facts.iter().any(|f| ticket.expect.facts.contains(f)))
                });
                result.record_recall(&ticket.id, found);
            }
        }
        result.escalation_rate = Score {
            passed: escalated.iter().filter(|(_, did)| *did).count(),
            total: escalated.len(),
        };
        result.weighted_escalation_rate = tickets::weighted_escalation_rate(&mix, &escalated);
        report.sets.push(result);
    }
    Ok(report)
}
