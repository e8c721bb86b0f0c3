//! What a reply may reveal: the one place that decides it.
//!
//! Anyone can *name* an email address or a phone number; only the channel
//! can prove the sender owns it (`docs/identity.md`). So the customer's
//! earlier messages, earlier answers and other tickets are revealed only in
//! a reply that goes to a **verified** sender of that customer
//! ([`Audience::Owner`]). A reply to a claimed sender — the public status
//! page of a web form without an identity token, a spoofed email —
//! ([`Audience::Submitter`]) reveals nothing the submitter did not write in
//! this ticket.
//!
//! The rule is applied twice, so that neither the agent nor a model can get
//! around it:
//!
//! 1. **Before the agent** ([`split_history`]): the agent — offline or
//!    tool-calling, and so its `get_customer_history` tool and the
//!    "I see you wrote to us earlier" acknowledgement — receives only the
//!    history the audience may see; the rest is kept aside as *withheld*.
//!    The greeting of a submitter uses only the name they gave, never the
//!    stored one, and the customer's plan stays out of their request.
//! 2. **After the agent** ([`Disclosure::leaks`]): a reply to a submitter
//!    that quotes withheld content — a distinctive token (a code, an
//!    invoice number, an address, a number) or a run of
//!    [`QUOTED_WORDS`] words that the submitter did not write themselves —
//!    is replaced by [`RESTRICTED_REPLY`] before it is queued.

use std::collections::HashSet;

use uuid::Uuid;

use crate::agent::HistoryEntry;
use crate::identity::Sender;

/// What a submitter gets instead of a reply that quoted withheld content.
/// It says nothing about whether earlier conversations exist.
pub const RESTRICTED_REPLY: &str = "For your security, I can't share details of earlier conversations here. If you have contacted us before, please write to us from the email address or WhatsApp number you used then, and we'll pick it up from there. I'm glad to help with any question about Orbitask in this request.";

/// Consecutive words of withheld text that count as a quotation.
pub const QUOTED_WORDS: usize = 6;

/// Who will read the reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// The customer's verified owner of the reply's identifier: the whole
    /// history may be used and revealed.
    Owner,
    /// Someone who claimed the identifier (or whose reply is shown on the
    /// public status page without a proof): only what they wrote in this
    /// ticket may be revealed.
    Submitter,
}

impl Audience {
    /// The audience of a reply to `sender`.
    pub fn of(sender: &Sender) -> Self {
        if sender.is_verified() {
            Audience::Owner
        } else {
            Audience::Submitter
        }
    }
}

/// The disclosure decision for one reply: its audience and the content
/// it must not quote.
#[derive(Clone, Debug)]
pub struct Disclosure {
    /// Who reads the reply.
    pub audience: Audience,
    /// What the reply must not reveal (empty for the owner).
    withheld: Vec<String>,
    /// What the submitter wrote or was shown in this ticket (quoting it is
    /// no leak).
    allowed: Vec<String>,
}

impl Disclosure {
    /// Everything may be revealed.
    pub fn owner() -> Self {
        Self {
            audience: Audience::Owner,
            withheld: Vec::new(),
            allowed: Vec::new(),
        }
    }

    /// Whether `reply` (its parts) reveals withheld content to the
    /// audience. Always false for the owner.
    pub fn leaks(&self, reply: &[String]) -> bool {
        if self.audience == Audience::Owner || self.withheld.is_empty() {
            return false;
        }
        let text = reply.join("\n");
        let allowed_tokens: HashSet<String> = self
            .allowed
            .iter()
            .flat_map(|t| distinctive_tokens(t))
            .collect();
        let allowed_runs: HashSet<Vec<String>> =
            self.allowed.iter().flat_map(|t| word_runs(t)).collect();
        let reply_tokens: HashSet<String> = distinctive_tokens(&text).collect();
        let reply_runs: HashSet<Vec<String>> = word_runs(&text).collect();
        self.withheld.iter().any(|withheld| {
            distinctive_tokens(withheld)
                .any(|t| reply_tokens.contains(&t) && !allowed_tokens.contains(&t))
                || word_runs(withheld)
                    .any(|run| reply_runs.contains(&run) && !allowed_runs.contains(&run))
        })
    }

    /// The number of withheld messages (for tests and logs; no content).
    pub fn withheld_count(&self) -> usize {
        self.withheld.len()
    }
}

/// One earlier message, as the split sees it.
#[derive(Clone, Debug)]
pub struct Earlier {
    /// The stored message.
    pub id: Uuid,
    /// The message as the agent would see it.
    pub entry: HistoryEntry,
}

/// Splits the customer's history for `audience`: what the agent may see,
/// oldest first, and the disclosure that guards the reply. `own` holds the
/// ids of the messages the submitter wrote or was shown in this ticket
/// (its web form thread); `written` is what the submitter wrote now (the
/// message and its subject).
pub fn split_history(
    audience: Audience,
    history: Vec<Earlier>,
    own: &HashSet<Uuid>,
    written: &[&str],
) -> (Vec<HistoryEntry>, Disclosure) {
    if audience == Audience::Owner {
        return (
            history.into_iter().map(|e| e.entry).collect(),
            Disclosure::owner(),
        );
    }
    let mut visible = Vec::new();
    let mut withheld = Vec::new();
    for earlier in history {
        if own.contains(&earlier.id) {
            visible.push(earlier.entry);
        } else {
            withheld.push(earlier.entry.content);
        }
    }
    let mut allowed: Vec<String> = written.iter().map(|t| (*t).to_owned()).collect();
    allowed.extend(visible.iter().map(|e| e.content.clone()));
    let disclosure = Disclosure {
        audience,
        withheld,
        allowed,
    };
    (visible, disclosure)
}

/// Tokens that identify content on their own: a code, an invoice number,
/// an address, a long number (letters and digits mixed, an `@`, or six or
/// more digits), lower-cased.
fn distinctive_tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split_whitespace()
        .map(|t| t.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|t| {
            let digits = t.chars().filter(char::is_ascii_digit).count();
            let letters = t.chars().filter(|c| c.is_alphabetic()).count();
            (t.len() >= 5 && digits > 0 && letters > 0)
                || (t.contains('@') && letters > 0)
                || digits >= 6
        })
        .map(str::to_lowercase)
}

/// Every run of [`QUOTED_WORDS`] consecutive words, lower-cased.
fn word_runs(text: &str) -> impl Iterator<Item = Vec<String>> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let runs: Vec<Vec<String>> = words
        .windows(QUOTED_WORDS)
        .map(<[String]>::to_vec)
        .collect();
    runs.into_iter()
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use fte_domain::Channel;

    use super::*;
    use crate::agent::HistoryRole;

    fn earlier(content: &str) -> Earlier {
        Earlier {
            id: Uuid::now_v7(),
            entry: HistoryEntry {
                role: HistoryRole::Customer,
                channel: Channel::Email,
                content: content.into(),
                created_at: Utc::now(),
            },
        }
    }

    const SECRET: &str = "Our secret project codename is BLUEHERON-7731 and invoice INV-4471-ZEBRA. How do I enable 2FA?";

    #[test]
    fn the_owner_sees_everything_and_nothing_is_withheld() {
        let (visible, disclosure) =
            split_history(Audience::Owner, vec![earlier(SECRET)], &HashSet::new(), &[]);
        assert_eq!(visible.len(), 1);
        assert!(!disclosure.leaks(&[format!("You wrote: {SECRET}")]));
    }

    #[test]
    fn a_submitter_sees_only_their_own_ticket() {
        let mine = earlier("my own question about exports");
        let own = HashSet::from([mine.id]);
        let (visible, disclosure) = split_history(
            Audience::Submitter,
            vec![earlier(SECRET), mine],
            &own,
            &["what did I tell you?"],
        );
        assert_eq!(visible.len(), 1);
        assert_eq!(visible[0].content, "my own question about exports");
        assert_eq!(disclosure.withheld_count(), 1);
    }

    #[test]
    fn a_reply_quoting_a_withheld_code_or_sentence_leaks() {
        let (_, disclosure) = split_history(
            Audience::Submitter,
            vec![
                earlier(SECRET),
                earlier("We are moving our whole team to the Lisbon office next month."),
            ],
            &HashSet::new(),
            &["what did I tell you?"],
        );
        assert!(disclosure.leaks(&["You mentioned blueheron-7731.".into()]));
        assert!(disclosure.leaks(&["Your invoice INV-4471-ZEBRA is paid.".into()]));
        assert!(
            disclosure.leaks(&["I see you are moving our whole team to the Lisbon office.".into()])
        );
        assert!(!disclosure.leaks(&[
            "To enable 2FA, go to Settings > Security and choose Two-factor authentication.".into()
        ]));
    }

    #[test]
    fn what_the_submitter_wrote_themselves_may_be_repeated() {
        let (_, disclosure) = split_history(
            Audience::Submitter,
            vec![earlier(SECRET)],
            &HashSet::new(),
            &["Is invoice INV-4471-ZEBRA paid? Our secret project codename is public now"],
        );
        assert!(
            !disclosure.leaks(&[
                "About invoice INV-4471-ZEBRA: our secret project codename is public now, noted."
                    .into()
            ])
        );
    }
}
