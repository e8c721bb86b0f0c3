//! Validation of what staff send, shared by the handoff endpoints
//! ([`super::escalations`], [`super::staff_reply`]) and by the MCP server's
//! staff tools, which call the same operations: paging numbers, staff
//! names, free text and ids, each refusal naming its field.

use uuid::Uuid;

use crate::ApiError;
use crate::auth::StaffAuth;
use crate::error::FieldError;

/// The longest staff name accepted (the column's width).
pub const MAX_STAFF_LEN: usize = 255;

/// A whole number within `range` from an optional query value (`default`
/// when absent; anything else that is not such a number, blank included,
/// is refused, as the OpenAPI document's integer says).
pub(super) fn parse_count(
    raw: Option<&str>,
    field: &str,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, FieldError> {
    let Some(raw) = raw else {
        return Ok(default);
    };
    raw.parse::<i64>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            FieldError::new(
                field,
                format!(
                    "must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )
        })
}

/// The staff member a case is assigned to: `raw` when given (validated),
/// else the key's owner.
pub(super) fn assignee(
    raw: Option<&str>,
    auth: &StaffAuth,
    errors: &mut Vec<FieldError>,
) -> String {
    match raw {
        Some(raw) => staff_name(raw, errors),
        None => auth.name().to_owned(),
    }
}

/// The staff member acting: the key's owner. A `staff` field naming anyone
/// else is refused with 403 (`staff_mismatch`), so nobody writes under
/// another's name; the refusal is logged as a security event.
pub(super) fn acting_staff(raw: Option<&str>, auth: &StaffAuth) -> Result<String, ApiError> {
    if let Some(raw) = raw
        && raw.trim() != auth.name()
    {
        tracing::warn!(
            security = true,
            reason = "staff_mismatch",
            "refused a staff write under another name"
        );
        return Err(ApiError::ForbiddenField {
            code: "staff_mismatch",
            field: FieldError::new(
                "staff",
                "must be the name of the staff key's owner, or left out",
            ),
        });
    }
    Ok(auth.name().to_owned())
}

fn staff_name(raw: &str, errors: &mut Vec<FieldError>) -> String {
    let staff = raw.trim();
    if staff.is_empty() {
        errors.push(FieldError::new("staff", "is required"));
    } else if staff.chars().count() > MAX_STAFF_LEN {
        errors.push(FieldError::new(
            "staff",
            format!("must be at most {MAX_STAFF_LEN} characters"),
        ));
    } else if staff.chars().any(char::is_control) {
        errors.push(FieldError::new(
            "staff",
            "must not contain control characters",
        ));
    }
    staff.to_owned()
}

/// Free text within `max` characters, trimmed; blank is refused.
pub(super) fn text_field(
    raw: &str,
    field: &str,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> String {
    let text = raw.trim();
    if text.is_empty() {
        errors.push(FieldError::new(field, "is required"));
    } else if text.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    text.to_owned()
}

/// An id in a path, or 400 with `code`.
pub(super) fn parse_id(raw: &str, code: &'static str, what: &str) -> Result<Uuid, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::bad_request(code, format!("Not a valid {what} ID.")))
}
