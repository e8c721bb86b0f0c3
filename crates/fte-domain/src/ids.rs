//! Newtype ids over [`Uuid`], so a ticket id can never be passed where a
//! conversation id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new, time-ordered (UUIDv7) id: rows created together sort together.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim()).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(value: Uuid) -> Self {
                Self(value)
            }
        }
    };
}

uuid_id!(
    /// A customer, the one person behind every identifier we know of them.
    CustomerId
);
uuid_id!(
    /// A conversation: one thread of contact that may span several channels.
    ConversationId
);
uuid_id!(
    /// A stored message, inbound or outbound.
    MessageId
);
uuid_id!(
    /// A support ticket; the only internal id a customer ever sees.
    TicketId
);
uuid_id!(
    /// A hand-off of a ticket to a human.
    EscalationId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_their_text_form() {
        let id = TicketId::new();
        let parsed: TicketId = id.to_string().parse().expect("a printed id parses back");
        assert_eq!(parsed, id);
    }

    #[test]
    fn malformed_ids_are_refused() {
        assert!("not-a-uuid".parse::<TicketId>().is_err());
    }
}
