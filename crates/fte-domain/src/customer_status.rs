//! What a customer is told about their ticket: the plan's ticket states,
//! mapped once, here, to words a customer understands. The plan keeps a
//! ticket `processing` after the bot answered (it is not closed until the
//! customer or staff close it), which a customer reads as "more is coming";
//! so the latest message of the ticket's thread decides between "we are on
//! it" and "answered".

use serde::{Deserialize, Serialize};

use crate::states::TicketStatus;

/// Who wrote the latest message of a ticket's thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LatestMessage {
    /// The customer (the first message or a follow-up).
    Customer,
    /// An answer: the bot or a staff member.
    Answer,
    /// A notice that is not an answer (an acknowledgement, "please wait").
    Notice,
}

impl LatestMessage {
    /// From a stored message's role (`customer`, `agent`, `system`).
    pub fn of_role(role: &str) -> Self {
        match role {
            "customer" => LatestMessage::Customer,
            "agent" => LatestMessage::Answer,
            _ => LatestMessage::Notice,
        }
    }
}

/// The customer's view of a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerStatus {
    /// Stored, not yet picked up.
    Received,
    /// The bot is preparing an answer to the customer's latest message.
    InProgress,
    /// The latest message is an answer; the customer may reply.
    Answered,
    /// A person has the case.
    WithTeam,
    /// Closed.
    Resolved,
}

impl CustomerStatus {
    /// Every value, in the order a ticket usually goes through them.
    pub const ALL: &'static [CustomerStatus] = &[
        CustomerStatus::Received,
        CustomerStatus::InProgress,
        CustomerStatus::Answered,
        CustomerStatus::WithTeam,
        CustomerStatus::Resolved,
    ];

    /// The customer's status of a ticket in `status` whose thread ends with
    /// `latest` (`None`: no message visible yet).
    pub fn of(status: TicketStatus, latest: Option<LatestMessage>) -> Self {
        match status {
            TicketStatus::Resolved => CustomerStatus::Resolved,
            TicketStatus::Escalated => CustomerStatus::WithTeam,
            TicketStatus::Open => CustomerStatus::Received,
            TicketStatus::Processing => match latest {
                Some(LatestMessage::Answer) => CustomerStatus::Answered,
                _ => CustomerStatus::InProgress,
            },
        }
    }

    /// The wire spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            CustomerStatus::Received => "received",
            CustomerStatus::InProgress => "in_progress",
            CustomerStatus::Answered => "answered",
            CustomerStatus::WithTeam => "with_team",
            CustomerStatus::Resolved => "resolved",
        }
    }

    /// The English wording (the web form translates from the wire spelling).
    pub const fn label(self) -> &'static str {
        match self {
            CustomerStatus::Received => "Received",
            CustomerStatus::InProgress => "Preparing a reply",
            CustomerStatus::Answered => "Answered",
            CustomerStatus::WithTeam => "With our team",
            CustomerStatus::Resolved => "Resolved",
        }
    }

    /// Whether the customer may still write into the thread.
    pub const fn accepts_follow_ups(self) -> bool {
        !matches!(self, CustomerStatus::Resolved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answered_ticket_reads_answered_although_the_plan_keeps_it_processing() {
        let answered = CustomerStatus::of(TicketStatus::Processing, Some(LatestMessage::Answer));
        assert_eq!(answered, CustomerStatus::Answered);
        assert_eq!(answered.label(), "Answered");
    }

    #[test]
    fn a_follow_up_or_a_notice_after_an_answer_is_in_progress_again() {
        for latest in [
            None,
            Some(LatestMessage::Customer),
            Some(LatestMessage::Notice),
        ] {
            assert_eq!(
                CustomerStatus::of(TicketStatus::Processing, latest),
                CustomerStatus::InProgress,
                "{latest:?}"
            );
        }
    }

    #[test]
    fn escalated_and_resolved_win_over_the_latest_message() {
        for latest in [
            None,
            Some(LatestMessage::Answer),
            Some(LatestMessage::Customer),
        ] {
            assert_eq!(
                CustomerStatus::of(TicketStatus::Escalated, latest),
                CustomerStatus::WithTeam
            );
            assert_eq!(
                CustomerStatus::of(TicketStatus::Resolved, latest),
                CustomerStatus::Resolved
            );
            assert_eq!(
                CustomerStatus::of(TicketStatus::Open, latest),
                CustomerStatus::Received
            );
        }
        assert!(!CustomerStatus::Resolved.accepts_follow_ups());
        assert!(CustomerStatus::WithTeam.accepts_follow_ups());
    }

    #[test]
    fn roles_map_to_the_latest_message_kind() {
        assert_eq!(LatestMessage::of_role("customer"), LatestMessage::Customer);
        assert_eq!(LatestMessage::of_role("agent"), LatestMessage::Answer);
        assert_eq!(LatestMessage::of_role("system"), LatestMessage::Notice);
    }
}
