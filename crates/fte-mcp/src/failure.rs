//! How results and failures reach the MCP client.
//!
//! Tools speak the staff API's one error vocabulary ([`ApiError`]): the
//! operations they call return it, and the checks of their own arguments
//! produce it. A tool's failure is an MCP *tool error* (`isError: true`):
//! its text says what to fix, field by field, and its structured content is
//! the staff API's error body (`error`, `message`, `fields`). An internal
//! failure is logged once with its cause and answered with a generic
//! message; an unreachable database asks the caller to retry. Resources and
//! prompts have no tool errors, so they answer the matching JSON-RPC error.

use fte_gateway::ApiError;
use fte_gateway::error::FieldError;
use rmcp::ErrorData;
use rmcp::model::{CallToolResult, ContentBlock};
use serde::Serialize;

/// A tool's answer: its structured content, or a tool error.
pub fn tool_result<T: Serialize>(result: Result<T, ApiError>) -> CallToolResult {
    let value = result.and_then(|value| {
        serde_json::to_value(value).map_err(|e| {
            ApiError::Internal(anyhow::Error::new(e).context("encoding a tool result"))
        })
    });
    match value {
        Ok(value) => CallToolResult::structured(value),
        Err(error) => tool_error(error),
    }
}

/// `error` as an MCP tool error.
pub fn tool_error(error: ApiError) -> CallToolResult {
    let error = error.settle();
    let body = error.body();
    let mut text = body.message.clone();
    if let Some(fields) = &body.fields {
        let details: Vec<String> = fields
            .iter()
            .map(|f| format!("{} {}", f.field, f.message))
            .collect();
        text = format!("{text} {}.", details.join("; "));
    }
    let mut result =
        CallToolResult::structured_error(serde_json::to_value(&body).unwrap_or_default());
    result.content = vec![ContentBlock::text(text)];
    result
}

/// A 422 naming one argument.
pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::Validation(vec![FieldError::new(field, message)])
}

/// `raw` as an id, or a 422 naming `field`.
pub fn parse_id(raw: &str, field: &str) -> Result<uuid::Uuid, ApiError> {
    raw.trim()
        .parse()
        .map_err(|_| invalid(field, "is not a valid ID (a UUID)"))
}

/// `error` as the JSON-RPC error of a resource read or a prompt.
pub fn protocol_error(error: ApiError) -> ErrorData {
    let error = error.settle();
    let message = error.body().message;
    match error {
        ApiError::NotFound(_) => ErrorData::resource_not_found(message, None),
        ApiError::BadRequest { .. } | ApiError::Validation(_) | ApiError::Conflict { .. } => {
            ErrorData::invalid_params(message, None)
        }
        ApiError::Unauthorized | ApiError::Forbidden => ErrorData::invalid_request(message, None),
        _ => ErrorData::internal_error(message, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_validation_failure_names_every_field_in_text_and_structure() {
        let result = tool_error(ApiError::Validation(vec![
            FieldError::new("limit", "must be a whole number from 1 to 100"),
            FieldError::new("status", "must be pending, assigned, resolved or open"),
        ]));
        assert_eq!(result.is_error, Some(true));
        let text = &result.content[0].as_text().unwrap().text;
        assert!(
            text.contains("limit must be a whole number from 1 to 100")
                && text.contains("status must be"),
            "{text}"
        );
        let body = result.structured_content.unwrap();
        assert_eq!(body["error"], "validation_failed");
        assert_eq!(body["fields"][0]["field"], "limit");
    }

    #[test]
    fn an_internal_failure_never_shows_its_cause() {
        let result = tool_error(ApiError::Internal(anyhow::anyhow!(
            "select * from customers failed"
        )));
        let text = &result.content[0].as_text().unwrap().text;
        assert!(!text.contains("select"), "{text}");
        assert_eq!(
            result.structured_content.unwrap()["error"],
            "internal_error"
        );
    }

    #[test]
    fn a_result_is_structured_content() {
        let result = tool_result::<serde_json::Value>(Ok(serde_json::json!({"total": 2})));
        assert_eq!(result.is_error, Some(false));
        assert_eq!(result.structured_content.unwrap()["total"], 2);
    }
}
