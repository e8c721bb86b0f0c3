//! `fte eval`: the sample tickets of `context/sample-tickets.json` replayed
//! through the offline agent against a database holding the imported
//! knowledge base, scored on what the business cares about.
//!
//! Measures (each a share of the tickets it applies to):
//! - escalation accuracy: escalated exactly when expected;
//! - reason accuracy: the expected reason, when one is expected;
//! - must-include rate: the expected phrases appear in the reply sent now;
//! - action accuracy: prompt / greet / resolve / refuse-injection behave;
//! - format compliance: channel shape and limits;
//! - retrieval recall@3: an article stating an expected fact is among the
//!   top 3 articles of the search.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use fte_domain::format::{EMAIL_SIGNATURE, WHATSAPP_MORE_LINE};
use fte_domain::{Channel, ConversationId, CustomerId, TicketId};
use fte_store::PgPool;
use serde::Deserialize;

use crate::embed::Embedder;
use crate::knowledge::{ImportError, import_knowledge_base, read_articles};
use crate::offline::OfflineAgent;
use crate::search::HybridSearch;
use crate::triage::triage;
use crate::types::{Agent, AgentError, AgentOutcome, AgentRequest};

/// The goal for every measure.
pub const GOAL: f64 = 0.95;

/// Why the evaluation could not run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The sample tickets could not be read or parsed.
    #[error("cannot read the sample tickets: {0}")]
    Tickets(String),
    /// Importing the knowledge base failed.
    #[error(transparent)]
    Import(#[from] ImportError),
    /// The agent failed.
    #[error(transparent)]
    Agent(#[from] AgentError),
}

#[derive(Debug, Deserialize)]
struct TicketFile {
    tickets: Vec<SampleTicket>,
}

#[derive(Debug, Deserialize)]
struct SampleTicket {
    id: String,
    channel: Channel,
    customer: SampleCustomer,
    #[serde(default)]
    subject: Option<String>,
    message: String,
    expect: Expectation,
}

#[derive(Debug, Deserialize)]
struct SampleCustomer {
    name: String,
}

#[derive(Debug, Deserialize)]
struct Expectation {
    action: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    facts: Vec<String>,
    #[serde(default)]
    must_include: Vec<String>,
}

/// A score: passed out of applicable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Score {
    /// Cases that passed.
    pub passed: usize,
    /// Cases the measure applies to.
    pub total: usize,
}

impl Score {
    fn record(&mut self, ok: bool) {
        self.total += 1;
        if ok {
            self.passed += 1;
        }
    }

    /// The share passed (1.0 when nothing applies).
    pub fn rate(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.passed as f64 / self.total as f64
        }
    }
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:5.1} % ({}/{})",
            self.rate() * 100.0,
            self.passed,
            self.total
        )
    }
}

/// The evaluation's result.
#[derive(Clone, Debug, Default)]
pub struct EvalReport {
    /// Tickets replayed.
    pub tickets: usize,
    /// Escalated exactly when expected.
    pub escalation: Score,
    /// The expected reason.
    pub reason: Score,
    /// Expected phrases present.
    pub must_include: Score,
    /// Prompt, greet, resolve and refuse-injection behaviour.
    pub action: Score,
    /// Channel shape and limits.
    pub format: Score,
    /// Expected facts' articles in the top 3.
    pub recall_at_3: Score,
    /// One line per failed check: ticket id and what failed (no message text).
    pub failures: Vec<String>,
}

impl EvalReport {
    /// Whether every measure reaches [`GOAL`].
    pub fn meets_goal(&self) -> bool {
        [
            self.escalation,
            self.reason,
            self.must_include,
            self.action,
            self.format,
            self.recall_at_3,
        ]
        .iter()
        .all(|s| s.rate() >= GOAL)
    }
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "sample tickets:        {}", self.tickets)?;
        writeln!(f, "escalate or not:       {}", self.escalation)?;
        writeln!(f, "escalation reason:     {}", self.reason)?;
        writeln!(f, "must_include hit rate: {}", self.must_include)?;
        writeln!(f, "action behaviour:      {}", self.action)?;
        writeln!(f, "format compliance:     {}", self.format)?;
        writeln!(f, "retrieval recall@3:    {}", self.recall_at_3)?;
        writeln!(
            f,
            "goal ({:.0} % each):    {}",
            GOAL * 100.0,
            if self.meets_goal() { "met" } else { "NOT met" }
        )?;
        for failure in &self.failures {
            writeln!(f, "  - {failure}")?;
        }
        Ok(())
    }
}

/// Imports `root/kb` into `pool` (idempotent) and replays
/// `root/context/sample-tickets.json` through the offline agent.
pub async fn run_eval(
    pool: &PgPool,
    embedder: Arc<dyn Embedder>,
    root: &Path,
) -> Result<EvalReport, EvalError> {
    let raw = std::fs::read_to_string(root.join("context/sample-tickets.json"))
        .map_err(|e| EvalError::Tickets(e.to_string()))?;
    let file: TicketFile =
        serde_json::from_str(&raw).map_err(|e| EvalError::Tickets(e.to_string()))?;
    let kb_dir = root.join("kb");
    import_knowledge_base(pool, embedder.as_ref(), &kb_dir, |_, _| {}).await?;
    let facts_by_slug: HashMap<String, Vec<String>> = read_articles(&kb_dir)?
        .into_iter()
        .map(|a| (a.slug, a.facts))
        .collect();
    let search = HybridSearch::new(pool.clone(), embedder);
    let agent = OfflineAgent::new(search.clone(), pool.clone());

    let mut report = EvalReport {
        tickets: file.tickets.len(),
        ..EvalReport::default()
    };
    for ticket in &file.tickets {
        let request = AgentRequest {
            customer_id: CustomerId::new(),
            conversation_id: ConversationId::new(),
            ticket_id: TicketId::new(),
            channel: ticket.channel,
            customer_first_name: ticket
                .customer
                .name
                .split_whitespace()
                .next()
                .map(str::to_owned),
            plan: None,
            human_response_hours: fte_domain::handoff::ResponseHours::default().for_plan(None),
            subject: ticket.subject.clone(),
            message: ticket.message.clone(),
            history: Vec::new(),
        };
        let outcome = agent.respond(&request).await?;
        score_ticket(&mut report, ticket, &request, &outcome);

        if matches!(
            ticket.expect.action.as_str(),
            "answer" | "answer_and_escalate"
        ) && !ticket.expect.facts.is_empty()
        {
            let question = triage(&ticket.message).answerable;
            let results = search.search_uncounted(&question, 10).await?;
            let found = results.top_articles(3).iter().any(|group| {
                facts_by_slug
                    .get(&group[0].slug)
                    .is_some_and(|facts| facts.iter().any(|f| ticket.expect.facts.contains(f)))
            });
            report.recall_at_3.record(found);
            if !found {
                report.failures.push(format!(
                    "{}: expected facts not in the top 3 articles",
                    ticket.id
                ));
            }
        }
    }
    Ok(report)
}

fn score_ticket(
    report: &mut EvalReport,
    ticket: &SampleTicket,
    request: &AgentRequest,
    outcome: &AgentOutcome,
) {
    let expect = &ticket.expect;
    let id = &ticket.id;
    let fail =
        |report: &mut EvalReport, what: String| report.failures.push(format!("{id}: {what}"));

    let should_escalate = matches!(expect.action.as_str(), "escalate" | "answer_and_escalate");
    let escalated = outcome.escalation.is_some();
    report.escalation.record(should_escalate == escalated);
    if should_escalate != escalated {
        let got = outcome
            .escalation
            .as_ref()
            .map_or("none".to_owned(), |e| e.reason.as_str().to_owned());
        fail(
            report,
            format!("escalation expected {should_escalate}, got {got}"),
        );
    }
    if let Some(reason) = &expect.reason {
        let got = outcome.escalation.as_ref().map(|e| e.reason.as_str());
        report.reason.record(got == Some(reason.as_str()));
        if got != Some(reason.as_str()) {
            fail(
                report,
                format!("reason expected {reason}, got {}", got.unwrap_or("none")),
            );
        }
    }
    let sent = outcome.reply.messages.join("\n");
    for needle in &expect.must_include {
        let ok = sent.contains(needle.as_str());
        report.must_include.record(ok);
        if !ok {
            fail(report, format!("reply lacks {needle:?}"));
        }
    }
    let action_ok = match expect.action.as_str() {
        "prompt" | "greet" => !escalated && !sent.trim().is_empty() && !outcome.resolve_ticket,
        "resolve" => outcome.resolve_ticket && !escalated,
        "refuse_injection" => {
            let lower = sent.to_lowercase();
            !escalated
                && !lower.contains("system prompt")
                && !crate::tools::TOOL_NAMES.iter().any(|t| lower.contains(t))
        }
        _ => true,
    };
    if matches!(
        expect.action.as_str(),
        "prompt" | "greet" | "resolve" | "refuse_injection"
    ) {
        report.action.record(action_ok);
        if !action_ok {
            fail(report, format!("{} behaviour not met", expect.action));
        }
    }
    let format_ok = format_compliant(request, outcome);
    report.format.record(format_ok);
    if !format_ok {
        fail(report, "format not compliant".into());
    }
}

/// Whether a reply has its channel's shape and fits its limits.
pub fn format_compliant(request: &AgentRequest, outcome: &AgentOutcome) -> bool {
    let messages = &outcome.reply.messages;
    if messages.is_empty() || messages.iter().any(|m| !request.channel.limits().fits(m)) {
        return false;
    }
    let ticket_line = format!("Ticket: {}", request.ticket_id);
    match request.channel {
        Channel::Email => messages.iter().all(|m| {
            m.starts_with("Hi ")
                && m.contains(EMAIL_SIGNATURE)
                && m.trim_end().ends_with(&ticket_line)
        }),
        Channel::WebForm => messages
            .iter()
            .all(|m| m.starts_with("Hello ") && !m.contains("Ticket: ")),
        Channel::Whatsapp => {
            let cut_marked = outcome.reply.deferred.is_none()
                || messages
                    .last()
                    .is_some_and(|m| m.ends_with(&format!("…\n{WHATSAPP_MORE_LINE}")));
            cut_marked
                && messages.iter().all(|m| {
                    !m.contains(EMAIL_SIGNATURE) && !m.contains("Ticket: ") && !m.starts_with("Hi ")
                })
        }
    }
}
