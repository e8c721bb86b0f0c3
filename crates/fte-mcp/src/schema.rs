//! JSON schemas of arguments whose values come from the domain's own lists
//! (channels, escalation reasons, categories, priorities), so a tool's
//! input schema can never drift from what the domain accepts.

use fte_domain::{Category, Channel, EscalationReason, Priority};
use schemars::{Schema, SchemaGenerator, json_schema};

fn one_of(values: Vec<&'static str>) -> Schema {
    json_schema!({ "type": "string", "enum": values })
}

/// `email`, `whatsapp` or `web_form`.
pub(crate) fn channel(_: &mut SchemaGenerator) -> Schema {
    one_of(Channel::ALL.iter().map(|c| c.as_str()).collect())
}

/// The escalation rules' reasons, in table order.
pub(crate) fn reason(_: &mut SchemaGenerator) -> Schema {
    one_of(EscalationReason::ALL.iter().map(|r| r.as_str()).collect())
}

/// A ticket category.
pub(crate) fn category(_: &mut SchemaGenerator) -> Schema {
    one_of(Category::ALL.iter().map(|c| c.as_str()).collect())
}

/// A ticket priority.
pub(crate) fn priority(_: &mut SchemaGenerator) -> Schema {
    one_of(Priority::ALL.iter().map(|p| p.as_str()).collect())
}

/// The escalation queue's status filter.
pub(crate) fn queue_status(_: &mut SchemaGenerator) -> Schema {
    one_of(vec!["pending", "assigned", "resolved", "open"])
}

/// A UUID in its text form.
pub(crate) fn uuid(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "format": "uuid" })
}
