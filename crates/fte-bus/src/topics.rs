//! The topic plan. Every topic is created at start-up with the configured
//! partition count.

/// Every inbound customer message, keyed by the customer's identity.
pub const TICKETS_INCOMING: &str = "fte.tickets.incoming";
/// Inbound Gmail messages as received (audit and replay).
pub const EMAIL_INBOUND: &str = "fte.channels.email.inbound";
/// Inbound WhatsApp messages as received.
pub const WHATSAPP_INBOUND: &str = "fte.channels.whatsapp.inbound";
/// Inbound web form submissions as received.
pub const WEB_INBOUND: &str = "fte.channels.web.inbound";
/// Replies delivered by email.
pub const EMAIL_OUTBOUND: &str = "fte.channels.email.outbound";
/// Replies delivered on WhatsApp.
pub const WHATSAPP_OUTBOUND: &str = "fte.channels.whatsapp.outbound";
/// Replies posted to the web form's status page.
pub const WEB_OUTBOUND: &str = "fte.channels.web.outbound";
/// One event per escalation, with full context for staff tools.
pub const ESCALATIONS: &str = "fte.escalations";
/// Staff changes to customers' identities: `customer.merged`,
/// `customer.identifier_unlinked`, keyed by the (surviving) customer id.
pub const CUSTOMERS: &str = "fte.customers";
/// One event per processed message, for the metrics collector.
pub const METRICS: &str = "fte.metrics";
/// Messages that could not be processed, with their origin in headers.
pub const DLQ: &str = "fte.dlq";

/// Every topic of the plan, in a stable order.
pub const ALL: [&str; 11] = [
    TICKETS_INCOMING,
    EMAIL_INBOUND,
    WHATSAPP_INBOUND,
    WEB_INBOUND,
    EMAIL_OUTBOUND,
    WHATSAPP_OUTBOUND,
    WEB_OUTBOUND,
    ESCALATIONS,
    CUSTOMERS,
    METRICS,
    DLQ,
];

/// The per-channel inbound topic.
pub fn inbound(channel: fte_domain::Channel) -> &'static str {
    match channel {
        fte_domain::Channel::Email => EMAIL_INBOUND,
        fte_domain::Channel::Whatsapp => WHATSAPP_INBOUND,
        fte_domain::Channel::WebForm => WEB_INBOUND,
    }
}

/// The per-channel outbound topic.
pub fn outbound(channel: fte_domain::Channel) -> &'static str {
    match channel {
        fte_domain::Channel::Email => EMAIL_OUTBOUND,
        fte_domain::Channel::Whatsapp => WHATSAPP_OUTBOUND,
        fte_domain::Channel::WebForm => WEB_OUTBOUND,
    }
}

#[cfg(test)]
mod tests {
    use fte_domain::Channel;

    use super::*;

    #[test]
    fn per_channel_topics_follow_the_naming_plan() {
        for channel in Channel::ALL {
            assert_eq!(
                inbound(channel),
                format!("fte.channels.{}.inbound", channel.topic_segment())
            );
            assert_eq!(
                outbound(channel),
                format!("fte.channels.{}.outbound", channel.topic_segment())
            );
            assert!(ALL.contains(&inbound(channel)) && ALL.contains(&outbound(channel)));
        }
    }
}
