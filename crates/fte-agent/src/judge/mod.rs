//! The semantic layer of escalation triage: each piece of a message (a
//! sentence or clause) is compared, with the local MiniLM embeddings, to
//! labelled [exemplars](exemplars::EXEMPLARS) per escalation reason and to
//! product questions that only *mention* a protected topic. A piece is
//! escalated when its nearest reason is close enough ([`THRESHOLD`]) and
//! clearly closer than the nearest product question ([`MARGIN`]).
//!
//! Why: the hard rules ([`crate::rules`]) are precise but miss what
//! customers say without the keyword ("please reverse last week's charge",
//! "our attorneys will be in touch"); the exemplars carry the meaning, and
//! the product questions keep "are guests free?" or "how do I cancel?" from
//! being taken for a price or a refund request.
//!
//! A verdict must also fit what its reason is about: a person is asked for
//! by name or by a call, a price is asked for or weighed against an offer,
//! money back talks of money, a legal matter of the law, data, a contract
//! or a security hole, and a plain question is angry only when it is
//! shouted or worded negatively itself. Nearest-neighbour matching finds
//! the closest exemplar even for a sentence of context ("We're on Team at
//! the moment"); these checks keep context from escalating.
//!
//! The thresholds were chosen on the tuning halves only, for
//! all-MiniLM-L6-v2; with another embedding model the layer stays off (its
//! similarities live on another scale) and only the hard rules apply.

mod exemplars;

use std::sync::OnceLock;

use fte_domain::EscalationReason;
use fte_store::knowledge::MINILM;

pub use exemplars::{EXEMPLARS, Label};

use crate::embed::{EmbedError, Embedder, cosine};
use crate::text::Topic;
use crate::triage::{Intent, Triage, is_injection, pieces, triage_judged};
use crate::types::AgentRequest;

/// A piece escalates from this cosine similarity to a reason's exemplar.
pub const THRESHOLD: f32 = 0.43;
/// ... and only when it is this much closer to the reason than to any
/// product question.
pub const MARGIN: f32 = 0.15;

/// A piece nearest to anger in a message whose words are not negative
/// escalates only from this similarity. Chosen on the tuning halves.
pub const CALM_ANGER_THRESHOLD: f32 = 0.48;

/// A question nearest to anger is angry only at or below this sentiment
/// of its own (or when it is shouted).
pub const QUESTION_ANGER_SENTIMENT: f32 = -0.3;

/// An English piece is taken for an injection from this similarity to an
/// injection exemplar ...
pub const INJECTION_THRESHOLD: f32 = 0.45;
/// ... when it is this much closer to one than to any product question.
/// Both chosen on the tuning halves, where no other piece reaches them.
pub const INJECTION_MARGIN: f32 = 0.13;

/// The verdict on one piece.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Verdict {
    /// The nearest reason.
    pub reason: EscalationReason,
    /// Its similarity.
    pub similarity: f32,
    /// The nearest product question's similarity.
    pub product: f32,
    /// The nearest injection exemplar's similarity.
    pub injection: f32,
}

impl Verdict {
    /// Whether the piece should go to a person.
    pub fn escalates(&self) -> bool {
        self.similarity >= THRESHOLD && self.similarity - self.product >= MARGIN
    }

    /// Whether the piece tries to instruct the agent.
    pub fn injects(&self) -> bool {
        self.injection >= INJECTION_THRESHOLD && self.injection - self.product >= INJECTION_MARGIN
    }
}

/// The exemplars' vectors, embedded once per process.
#[derive(Debug, Default)]
pub struct SemanticJudge {
    vectors: OnceLock<Vec<Vec<f32>>>,
}

impl SemanticJudge {
    /// Whether the layer applies to `embedder`'s model.
    pub fn applies_to(embedder: &dyn Embedder) -> bool {
        embedder.model().name == MINILM.name
    }

    async fn exemplar_vectors(&self, embedder: &dyn Embedder) -> Result<&[Vec<f32>], EmbedError> {
        if let Some(vectors) = self.vectors.get() {
            return Ok(vectors);
        }
        let texts: Vec<String> = EXEMPLARS.iter().map(|(_, t)| (*t).to_owned()).collect();
        let vectors = embedder.embed(&texts).await?;
        // Two first calls racing both embed; either result is the same.
        Ok(self.vectors.get_or_init(|| vectors))
    }

    /// One verdict per piece (`None` when the layer does not apply).
    pub async fn judge(
        &self,
        embedder: &dyn Embedder,
        pieces: &[String],
    ) -> Result<Vec<Option<Verdict>>, EmbedError> {
        if pieces.is_empty() || !Self::applies_to(embedder) {
            return Ok(vec![None; pieces.len()]);
        }
        let exemplars = self.exemplar_vectors(embedder).await?;
        let vectors = embedder.embed(pieces).await?;
        Ok(vectors
            .iter()
            .map(|vector| Some(verdict(vector, exemplars)))
            .collect())
    }
}

impl SemanticJudge {
    /// Triage of `request` with the hard rules and this layer: pieces no
    /// hard rule caught escalate on their verdict, or as account security
    /// when they disown a sign-in the conversation is about; a subject that
    /// tries to instruct the agent marks the message as an injection too.
    pub async fn triage(
        &self,
        embedder: &dyn Embedder,
        request: &AgentRequest,
    ) -> Result<Triage, EmbedError> {
        let message = request.message.trim();
        let pieces = pieces(message);
        let verdicts = self.judge(embedder, &pieces).await?;
        let mut soft: Vec<(&str, EscalationReason)> = Vec::new();
        let mut injected: Vec<&str> = Vec::new();
        let negative = crate::sentiment::sentiment(message) < 0.0;
        for (piece, verdict) in pieces.iter().zip(&verdicts) {
            let Some(verdict) = verdict else { continue };
            tracing::debug!(
                judge.reason = verdict.reason.as_str(),
                judge.similarity = verdict.similarity,
                judge.product = verdict.product,
                judge.injection = verdict.injection,
                judge.escalates = verdict.escalates(),
                "semantic verdict"
            );
            // Anger is a mood: a piece only loosely near the anger
            // exemplars in a message that does not read negative ("We'll
            // have a few hundred") is not angry.
            let angry_enough = verdict.reason != EscalationReason::Anger
                || verdict.similarity >= CALM_ANGER_THRESHOLD
                || negative;
            // A person is asked for by name or by a call, a price is named
            // or weighed against an offer, and money back is about
            // money: "We're on Team at the moment" or "it fails with 401" is
            // context, however close its words come to an exemplar.
            let fits = match verdict.reason {
                EscalationReason::HumanRequest => {
                    crate::text::is_request(piece) && Topic::Person.in_piece(piece)
                }
                EscalationReason::Pricing => {
                    Topic::Price.in_piece(piece)
                        || Topic::Money.in_piece(piece)
                        || Topic::Offer.in_piece(piece)
                }
                EscalationReason::Refund => Topic::Money.in_piece(piece),
                EscalationReason::Legal => Topic::LawOrData.in_piece(piece),
                // Anger is voiced, not asked: a plain question ("Is
                // something broken?") is angry only when shouted or worded
                // negatively itself.
                EscalationReason::Anger => {
                    !crate::text::looks_like_question(piece)
                        || piece.contains('!')
                        || crate::sentiment::sentiment(piece) <= QUESTION_ANGER_SENTIMENT
                }
                _ => true,
            };
            // An instruction to the agent addresses it or its workings.
            if verdict.injects()
                && crate::relevance::is_english(piece)
                && Topic::Agent.in_piece(piece)
            {
                injected.push(piece.as_str());
            } else if verdict.escalates() && angry_enough && fits {
                soft.push((piece.as_str(), verdict.reason));
            }
        }
        let about_sign_ins =
            crate::rules::talks_of_sign_ins(&crate::followup::with_recent_history(request));
        let mut triage = triage_judged(
            message,
            |piece| {
                soft.iter()
                    .find(|(p, _)| *p == piece)
                    .map(|(_, r)| *r)
                    .or_else(|| {
                        (about_sign_ins && crate::rules::disowns(piece))
                            .then_some(EscalationReason::AccountSecurity)
                    })
            },
            |piece| injected.contains(&piece),
        );
        if request.subject.as_deref().is_some_and(is_injection) {
            triage.injection = true;
            if triage.intent == Intent::Question
                && triage.escalation.is_none()
                && triage.answerable.trim().is_empty()
            {
                triage.intent = Intent::Injection;
            }
        }
        Ok(triage)
    }
}

fn verdict(vector: &[f32], exemplars: &[Vec<f32>]) -> Verdict {
    let mut best: Option<(EscalationReason, f32)> = None;
    let mut product = f32::MIN;
    let mut injection = f32::MIN;
    for ((label, _), exemplar) in EXEMPLARS.iter().zip(exemplars) {
        let similarity = cosine(vector, exemplar);
        match label {
            Label::Product => product = product.max(similarity),
            Label::Injection => injection = injection.max(similarity),
            Label::Escalate(reason) => {
                if best.is_none_or(|(_, s)| similarity > s) {
                    best = Some((*reason, similarity));
                }
            }
        }
    }
    let (reason, similarity) = best.unwrap_or((EscalationReason::SearchFailed, f32::MIN));
    Verdict {
        reason,
        similarity,
        product,
        injection,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_but_search_failed_has_exemplars_in_several_phrasings() {
        for &reason in EscalationReason::ALL {
            let count = EXEMPLARS
                .iter()
                .filter(|(label, _)| *label == Label::Escalate(reason))
                .count();
            if reason == EscalationReason::SearchFailed {
                assert_eq!(count, 0, "search_failed is decided by the search");
            } else {
                assert!(count >= 8, "{reason:?} has {count} exemplars");
            }
        }
    }

    #[test]
    fn every_injection_exemplar_addresses_the_agent_and_a_how_to_does_not() {
        for (label, text) in EXEMPLARS {
            if *label == Label::Injection && crate::relevance::is_english(text) {
                assert!(Topic::Agent.in_piece(text), "{text}");
            }
        }
        for question in [
            "If so, where do I set that up?",
            "Where do I configure that?",
            "Can the board show only my tasks?",
        ] {
            assert!(!Topic::Agent.in_piece(question), "{question}");
        }
    }

    #[test]
    fn a_piece_close_to_a_product_question_does_not_escalate() {
        let close = Verdict {
            reason: EscalationReason::Pricing,
            similarity: 0.7,
            product: 0.6,
            injection: 0.1,
        };
        assert!(!close.escalates());
        let clear = Verdict {
            product: 0.4,
            ..close
        };
        assert!(clear.escalates());
    }
}
