//! The enumerated values of the CRM and the two state machines (ticket and
//! conversation). Every spelling here matches a CHECK constraint in the
//! migrations; a transition not listed in `can_become` is refused.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A value read from the wire or the database that is not one of ours.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown {kind} `{value}`")]
pub struct UnknownValue {
    /// Which enumeration was being parsed.
    pub kind: &'static str,
    /// The value that did not match.
    pub value: String,
}

/// A state change the state machine does not allow.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a {kind} cannot go from {from} to {to}")]
pub struct InvalidTransition {
    /// Ticket or conversation.
    pub kind: &'static str,
    /// The current state.
    pub from: &'static str,
    /// The refused target state.
    pub to: &'static str,
}

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident, $kind:literal, { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The database and wire spelling.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(UnknownValue { kind: $kind, value: other.to_owned() }),
                }
            }
        }
    };
}
pub(crate) use string_enum;

string_enum!(
    /// Where a ticket stands.
    TicketStatus, "ticket status", {
        /// Received, not yet picked up by the worker.
        Open => "open",
        /// The agent is working on it.
        Processing => "processing",
        /// Answered or closed by the customer's thanks or by staff.
        Resolved => "resolved",
        /// Handed to a human.
        Escalated => "escalated",
    }
);

impl TicketStatus {
    /// Whether the ticket may move from `self` to `to`:
    /// open → processing → resolved | escalated, and escalated → resolved.
    pub fn can_become(self, to: TicketStatus) -> bool {
        use TicketStatus::*;
        matches!(
            (self, to),
            (Open, Processing)
                | (Processing, Resolved)
                | (Processing, Escalated)
                | (Escalated, Resolved)
        )
    }

    /// Checks a transition, naming both states when it is refused.
    pub fn transition(self, to: TicketStatus) -> Result<TicketStatus, InvalidTransition> {
        if self.can_become(to) {
            Ok(to)
        } else {
            Err(InvalidTransition {
                kind: "ticket",
                from: self.as_str(),
                to: to.as_str(),
            })
        }
    }
}

string_enum!(
    /// Where a conversation stands.
    ConversationStatus, "conversation status", {
        /// The bot answers.
        Active => "active",
        /// A human owns it; the bot only acknowledges.
        Escalated => "escalated",
        /// Closed.
        Resolved => "resolved",
    }
);

impl ConversationStatus {
    /// active → escalated | resolved, escalated → resolved.
    pub fn can_become(self, to: ConversationStatus) -> bool {
        use ConversationStatus::*;
        matches!(
            (self, to),
            (Active, Escalated) | (Active, Resolved) | (Escalated, Resolved)
        )
    }

    /// Checks a transition, naming both states when it is refused.
    pub fn transition(
        self,
        to: ConversationStatus,
    ) -> Result<ConversationStatus, InvalidTransition> {
        if self.can_become(to) {
            Ok(to)
        } else {
            Err(InvalidTransition {
                kind: "conversation",
                from: self.as_str(),
                to: to.as_str(),
            })
        }
    }
}

string_enum!(
    /// Why a case goes to a human, in the escalation rules' table order (the
    /// first matching reason wins when several apply).
    EscalationReason, "escalation reason", {
        /// Prices, quotes, discounts.
        Pricing => "pricing",
        /// Refunds, chargebacks, double charges.
        Refund => "refund",
        /// Lawyers, GDPR requests, contracts, vulnerability reports.
        Legal => "legal",
        /// Abuse, threats to leave, strongly negative sentiment.
        Anger => "anger",
        /// The customer asks for a person.
        HumanRequest => "human_request",
        /// The knowledge base has nothing relevant enough.
        SearchFailed => "search_failed",
        /// Ownership cannot be proven, or the account is compromised.
        AccountSecurity => "account_security",
    }
);

string_enum!(
    /// The web form's ticket categories.
    Category, "category", {
        /// General question.
        General => "general",
        /// Technical support.
        Technical => "technical",
        /// Billing.
        Billing => "billing",
        /// Feedback.
        Feedback => "feedback",
        /// Bug report.
        BugReport => "bug_report",
    }
);

string_enum!(
    /// Ticket priority.
    Priority, "priority", {
        /// Low.
        Low => "low",
        /// Medium, the default.
        Medium => "medium",
        /// High.
        High => "high",
    }
);

// The enum is generated by `string_enum!`, which cannot carry `#[default]`.
#[allow(clippy::derivable_impls)]
impl Default for Priority {
    fn default() -> Self {
        Priority::Medium
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_follows_the_plan_and_refuses_the_rest() {
        use TicketStatus::*;
        assert!(Open.can_become(Processing));
        assert!(Processing.can_become(Resolved));
        assert!(Processing.can_become(Escalated));
        assert!(Escalated.can_become(Resolved));
        for (from, to) in [
            (Resolved, Open),
            (Escalated, Processing),
            (Open, Open),
            (Resolved, Escalated),
        ] {
            assert!(
                from.transition(to).is_err(),
                "{from} -> {to} must be refused"
            );
        }
    }

    #[test]
    fn conversation_follows_the_plan_and_refuses_the_rest() {
        use ConversationStatus::*;
        assert!(Active.can_become(Escalated));
        assert!(Active.can_become(Resolved));
        assert!(Escalated.can_become(Resolved));
        assert!(Escalated.transition(Active).is_err());
        assert!(Resolved.transition(Active).is_err());
    }

    #[test]
    fn enum_spellings_round_trip() {
        for reason in EscalationReason::ALL {
            assert_eq!(reason.as_str().parse::<EscalationReason>(), Ok(*reason));
        }
        assert_eq!("bug_report".parse::<Category>(), Ok(Category::BugReport));
        assert!("urgent".parse::<Priority>().is_err());
    }
}
