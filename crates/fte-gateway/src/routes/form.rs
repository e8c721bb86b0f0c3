//! The web form's body and its validation, rule for rule the same as
//! `web-form/src/validation.ts` (lengths in `chars()`, Rust's `trim`).
//!
//! The rules are written here rather than as `validator` derives: every
//! rule applies to the *trimmed* value and answers the widget's own
//! sentence for its field ("Enter your email address." when empty, "…must
//! be at least 5 characters." when short), which `validator`'s `length`
//! (untrimmed, one message per rule) cannot express without a custom
//! function per field; the address is read by the domain's `EmailAddress`,
//! the same parser every channel uses, not `validator`'s own email check;
//! and the OpenAPI constraints come from the `#[schema]` attributes either
//! way, since utoipa does not read `#[validate]`.

use fte_domain::{Category, EmailAddress, Priority};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::FieldError;

/// Shortest and longest name.
pub const NAME_LENGTH: (usize, usize) = (2, 100);
/// Longest email address.
pub const EMAIL_MAX: usize = 254;
/// Shortest and longest subject.
pub const SUBJECT_LENGTH: (usize, usize) = (5, 200);
/// Shortest and longest message.
pub const MESSAGE_LENGTH: (usize, usize) = (10, 5000);

/// The categories a submission may name (the document's enum for
/// `fte_domain::Category`, which parses them).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum CategoryName {
    /// general
    General,
    /// technical
    Technical,
    /// billing
    Billing,
    /// feedback
    Feedback,
    /// bug_report
    BugReport,
}

/// The priorities a submission may name (for `fte_domain::Priority`).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum PriorityName {
    /// low
    Low,
    /// medium (the default)
    Medium,
    /// high
    High,
}

/// `POST /support/submit`. Every field is read as optional text so that a
/// missing field is reported like an invalid one, next to its input.
#[derive(Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    /// 2 to 100 characters after trimming.
    #[serde(default)]
    #[schema(required = true, nullable = false, value_type = String, min_length = 2,
        pattern = r"^\s*[^\s\x00][^\x00]{0,98}[^\s\x00]\s*$", example = "Maria Santos")]
    pub name: Option<String>,
    /// A valid address, at most 254 characters.
    #[serde(default)]
    #[schema(required = true, nullable = false, value_type = String, format = Email,
        max_length = 254, example = "maria.santos@example.com")]
    pub email: Option<String>,
    /// 5 to 200 characters after trimming.
    #[serde(default)]
    #[schema(required = true, nullable = false, value_type = String, min_length = 5,
        pattern = r"^\s*[^\s\x00][^\x00]{3,198}[^\s\x00]\s*$", example = "Cannot export my board")]
    pub subject: Option<String>,
    /// general, technical, billing, feedback or bug_report.
    #[serde(default)]
    #[schema(required = true, nullable = false, value_type = CategoryName)]
    pub category: Option<String>,
    /// 10 to 5000 characters after trimming.
    #[serde(default)]
    #[schema(required = true, nullable = false, value_type = String, min_length = 10,
        pattern = r"^\s*[^\s\x00][^\x00]{8,4998}[^\s\x00]\s*$",
        example = "The CSV export button does nothing when I click it.")]
    pub message: Option<String>,
    /// low, medium (default) or high.
    #[serde(default)]
    #[schema(value_type = Option<PriorityName>)]
    pub priority: Option<String>,
    /// Optional; E.164 after removing spaces, dashes, dots and parentheses.
    #[serde(default)]
    #[schema(
        pattern = r"^\s*$|^\s*\+[ .()-]*[1-9](?:[ .()-]*[0-9]){6,14}[ .()-]*\s*$",
        example = "+34 612 345 678"
    )]
    pub phone: Option<String>,
    /// Honeypot: people leave it empty. A valid submission with it filled
    /// in is answered like any other and dropped; an invalid one is 422 as
    /// always.
    #[serde(default)]
    pub website: Option<String>,
    /// The solved bot challenge's token (Turnstile or hCaptcha); required
    /// when `GET /support/config` names a challenge, ignored otherwise.
    #[serde(default)]
    pub challenge_token: Option<String>,
    /// Optional identity verification from the embedding site: hex
    /// HMAC-SHA256 of the lower-cased email with the secret it shares with
    /// us (`WEB_IDENTITY_SECRET`). A valid token proves the submitter owns
    /// the email; a wrong one is refused with 403 naming this field.
    #[serde(default)]
    pub identity_token: Option<String>,
}

/// Personal data never appears in debug output.
impl std::fmt::Debug for SubmitRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubmitRequest")
            .field("category", &self.category)
            .field("priority", &self.priority)
            .finish_non_exhaustive()
    }
}

/// A submission that passed every rule.
#[derive(Clone)]
pub struct ValidSubmission {
    /// Trimmed name.
    pub name: String,
    /// Normalised address.
    pub email: EmailAddress,
    /// The phone as E.164 digits (separators removed), when given.
    pub phone: Option<String>,
    /// Trimmed subject.
    pub subject: String,
    /// Trimmed message.
    pub message: String,
    /// Category.
    pub category: Category,
    /// Priority.
    pub priority: Priority,
    /// Whether a valid identity token proved the email (set by the handler,
    /// which holds the secret).
    pub email_verified: bool,
}

fn length_rule(
    value: Option<&str>,
    (min, max): (usize, usize),
    label: &str,
    empty: &str,
) -> Result<String, String> {
    let trimmed = value.unwrap_or_default().trim();
    let length = trimmed.chars().count();
    if length == 0 {
        Err(empty.to_owned())
    } else if length < min {
        Err(format!("{label} must be at least {min} characters."))
    } else if length > max {
        Err(format!("{label} must be at most {max} characters."))
    } else {
        Ok(trimmed.to_owned())
    }
}

fn email_rule(value: Option<&str>) -> Result<EmailAddress, String> {
    let trimmed = value.unwrap_or_default().trim();
    if trimmed.is_empty() {
        return Err("Enter your email address.".into());
    }
    if trimmed.chars().count() > EMAIL_MAX {
        return Err(format!(
            "Email address must be at most {EMAIL_MAX} characters."
        ));
    }
    EmailAddress::parse(trimmed)
        .map_err(|_| "Enter a valid email address, like name@example.com.".to_owned())
}

/// `^\+[1-9][0-9]{6,14}$` after removing spaces, dashes, dots and parentheses.
fn phone_rule(value: Option<&str>) -> Result<Option<String>, String> {
    let trimmed = value.unwrap_or_default().trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    let compact: String = trimmed
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let digits = compact.strip_prefix('+').unwrap_or_default();
    let valid = compact.starts_with('+')
        && (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if valid {
        Ok(Some(compact))
    } else {
        Err("Enter the phone number with its country code, like +34 612 345 678.".into())
    }
}

/// Keeps the value, or records the field's error.
fn check<T>(errors: &mut Vec<FieldError>, field: &str, result: Result<T, String>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(message) => {
            errors.push(FieldError::new(field, message));
            None
        }
    }
}

impl SubmitRequest {
    /// One error per field (in screen order) that holds a NUL character.
    fn fields_with_nul(&self) -> Vec<FieldError> {
        [
            ("name", &self.name),
            ("email", &self.email),
            ("phone", &self.phone),
            ("category", &self.category),
            ("subject", &self.subject),
            ("message", &self.message),
            ("priority", &self.priority),
        ]
        .into_iter()
        .filter(|(_, value)| value.as_deref().is_some_and(|v| v.contains('\0')))
        .map(|(field, _)| {
            FieldError::new(field, "Remove the invisible NUL character from this field.")
        })
        .collect()
    }

    /// Whether the honeypot was filled in (an automated sender).
    pub fn is_bot(&self) -> bool {
        self.website.as_deref().is_some_and(|w| !w.is_empty())
    }

    /// Applies every rule; the error lists each failing field in screen order.
    /// A NUL character in any field is refused (the database could never
    /// store it): the field is named like any other invalid one.
    pub fn validate(&self) -> Result<ValidSubmission, Vec<FieldError>> {
        let nul_free = self.fields_with_nul();
        if !nul_free.is_empty() {
            return Err(nul_free);
        }
        let mut errors = Vec::new();
        let e = &mut errors;
        let name = check(
            e,
            "name",
            length_rule(
                self.name.as_deref(),
                NAME_LENGTH,
                "Name",
                "Enter your name.",
            ),
        );
        let email = check(e, "email", email_rule(self.email.as_deref()));
        let phone = check(e, "phone", phone_rule(self.phone.as_deref()));
        let category = check(
            e,
            "category",
            self.category
                .as_deref()
                .unwrap_or_default()
                .parse::<Category>()
                .map_err(|_| "Choose a category.".to_owned()),
        );
        let subject = check(
            e,
            "subject",
            length_rule(
                self.subject.as_deref(),
                SUBJECT_LENGTH,
                "Subject",
                "Enter a subject.",
            ),
        );
        let message = check(
            e,
            "message",
            length_rule(
                self.message.as_deref(),
                MESSAGE_LENGTH,
                "Message",
                "Enter your message.",
            ),
        );
        let priority = check(
            e,
            "priority",
            match self.priority.as_deref() {
                None => Ok(Priority::Medium),
                Some(raw) => raw
                    .parse::<Priority>()
                    .map_err(|_| "Choose a priority: Low, Medium or High.".to_owned()),
            },
        );
        match (name, email, phone, category, subject, message, priority) {
            (
                Some(name),
                Some(email),
                Some(phone),
                Some(category),
                Some(subject),
                Some(message),
                Some(priority),
            ) => Ok(ValidSubmission {
                name,
                email,
                phone,
                subject,
                message,
                category,
                priority,
                email_verified: false,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> SubmitRequest {
        SubmitRequest {
            name: Some("Ana Lima".into()),
            email: Some("ana@example.com".into()),
            subject: Some("Cannot export".into()),
            category: Some("technical".into()),
            message: Some("The CSV export button does nothing.".into()),
            priority: None,
            phone: Some("+34 (612) 345-678".into()),
            website: Some(String::new()),
            challenge_token: None,
            identity_token: None,
        }
    }

    fn failing_fields(request: &SubmitRequest) -> Vec<String> {
        match request.validate() {
            Ok(_) => Vec::new(),
            Err(errors) => errors.into_iter().map(|e| e.field).collect(),
        }
    }

    #[test]
    fn a_complete_form_passes_with_medium_priority_and_a_compact_phone() {
        let submission = valid().validate().expect("valid form");
        assert_eq!(submission.priority, Priority::Medium);
        assert_eq!(submission.phone.as_deref(), Some("+34612345678"));
    }

    #[test]
    fn lengths_count_characters_after_trimming() {
        let mut request = valid();
        request.name = Some("  é ".into());
        assert_eq!(failing_fields(&request), ["name"]);
        request.name = Some("😀😀".into());
        assert!(
            failing_fields(&request).is_empty(),
            "two emoji are two characters"
        );
        request.message = Some("x".repeat(5001));
        assert_eq!(failing_fields(&request), ["message"]);
        request.message = Some(format!("  {}  ", "x".repeat(5000)));
        assert!(failing_fields(&request).is_empty());
    }

    #[test]
    fn phone_follows_the_form_pattern() {
        for ok in ["", "   ", "+1 555 010 0142", "+1234567"] {
            assert_eq!(phone_rule(Some(ok)).map(|_| ()), Ok(()), "`{ok}` passes");
        }
        for bad in [
            "555 010 0142",
            "+0123456789",
            "+123456",
            "+1234567890123456",
            "+1 555 abc",
        ] {
            assert!(phone_rule(Some(bad)).is_err(), "`{bad}` fails");
        }
    }

    #[test]
    fn a_nul_character_in_any_field_names_that_field() {
        let fields = [
            "name", "email", "phone", "category", "subject", "message", "priority",
        ];
        for field in fields {
            let mut request = valid();
            let poisoned = Some("Cannot\0 export anything".to_owned());
            match field {
                "name" => request.name = poisoned,
                "email" => request.email = poisoned,
                "phone" => request.phone = poisoned,
                "category" => request.category = poisoned,
                "subject" => request.subject = poisoned,
                "message" => request.message = poisoned,
                _ => request.priority = poisoned,
            }
            assert_eq!(failing_fields(&request), [field], "a NUL in {field}");
        }
    }

    #[test]
    fn every_failing_field_is_named_in_screen_order() {
        let request = SubmitRequest {
            priority: Some("urgent".into()),
            ..SubmitRequest::default()
        };
        assert_eq!(
            failing_fields(&request),
            [
                "name", "email", "category", "subject", "message", "priority"
            ]
        );
    }
}
