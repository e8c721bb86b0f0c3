//! The one error type every handler and extractor returns, and the `Json`
//! extractor wrapper that turns unreadable bodies into it.
//!
//! Every error answers `{"error": "<code>", "message": "…", "fields": […]?}`;
//! a 422 also carries the plan's `detail` (`[{"loc": [field], "msg", "type"}]`,
//! the shape FastAPI clients read), naming the same fields.
//! Client errors say precisely what to fix; internal errors answer a generic
//! 500 while their cause chain is logged once, here, where they are handled.
//! No stack trace, SQL or connection string ever reaches a response.

use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

/// One field that failed validation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field's name in the request.
    pub field: String,
    /// What is wrong with it, written for the person who typed it.
    pub message: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// One entry of a 422's `detail`: the plan's (FastAPI's) validation error
/// shape. `loc` ends with the field's name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ValidationDetail {
    /// Where the error is; the last element is the field's name.
    pub loc: Vec<String>,
    /// What is wrong with it.
    pub msg: String,
    /// The kind of error (always `value_error`).
    #[serde(rename = "type")]
    #[schema(example = "value_error")]
    pub kind: String,
}

impl From<&FieldError> for ValidationDetail {
    fn from(field: &FieldError) -> Self {
        Self {
            loc: vec![field.field.clone()],
            msg: field.message.clone(),
            kind: "value_error".to_owned(),
        }
    }
}

/// The body of every error response.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable, machine-readable code (`validation_failed`, `not_found`, …).
    pub error: String,
    /// A human-readable explanation.
    pub message: String,
    /// The fields at fault (422, and a 403 that names the field).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<FieldError>>,
    /// 422 only: the same fields in the plan's shape.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Vec<ValidationDetail>>,
}

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request cannot be read.
    #[error("{message}")]
    BadRequest {
        /// Machine-readable code.
        code: &'static str,
        /// What is wrong.
        message: String,
    },
    /// 401: no or wrong credentials.
    #[error("authentication required")]
    Unauthorized,
    /// 403: a webhook whose signature or token does not verify.
    #[error("request could not be verified")]
    Forbidden,
    /// 403: a customer request refused for what it carried (a ticket access
    /// key that does not match, a bot challenge that did not pass).
    #[error("{message}")]
    Denied {
        /// Machine-readable code.
        code: &'static str,
        /// What was refused, and what to do instead.
        message: String,
    },
    /// 403: a field that should prove something does not (a web form's
    /// identity token).
    #[error("{code}")]
    ForbiddenField {
        /// Machine-readable code.
        code: &'static str,
        /// The field, and what to do about it.
        field: FieldError,
    },
    /// 404.
    #[error("{0}")]
    NotFound(String),
    /// 409: the request conflicts with the resource's state (an escalation
    /// already resolved, a reply to a conversation the bot is answering).
    #[error("{message}")]
    Conflict {
        /// Machine-readable code.
        code: &'static str,
        /// What conflicts, and what to do instead.
        message: String,
    },
    /// 405: the path exists, the method does not.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 413: the body exceeds the limit.
    #[error("request body too large")]
    PayloadTooLarge,
    /// 422: readable, but fields are invalid.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// 422 with its own code: a well-formed value that cannot be used for
    /// this request (an idempotency key first used with another content).
    #[error("{code}")]
    Unprocessable {
        /// Machine-readable code.
        code: &'static str,
        /// The field or header at fault, and what to do about it.
        field: FieldError,
    },
    /// 429: too many requests from this client.
    #[error("rate limited")]
    RateLimited {
        /// Seconds until a request will be accepted again.
        retry_after_secs: u64,
    },
    /// 503: a dependency is down; the caller should retry.
    #[error("{message}")]
    Unavailable {
        /// What is unavailable (never a cause chain).
        message: &'static str,
        /// Seconds to wait before retrying.
        retry_after_secs: u64,
    },
    /// 500: anything else; the cause chain goes to the log only.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// A 400 with a code and message.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// A 403 with a code and message.
    pub fn denied(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Denied {
            code,
            message: message.into(),
        }
    }

    /// A 503 asking the caller to retry in a few seconds.
    pub fn unavailable(message: &'static str) -> Self {
        ApiError::Unavailable {
            message,
            retry_after_secs: RETRY_AFTER_UNAVAILABLE_SECS,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden | ApiError::Denied { .. } | ApiError::ForbiddenField { .. } => {
                StatusCode::FORBIDDEN
            }
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Validation(_) | ApiError::Unprocessable { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The JSON body of this error: a stable code, a message written for the
    /// caller and, for 422, the fields at fault. An internal error's body is
    /// generic (its cause is logged by [`ApiError::settle`], never shown).
    pub fn body(&self) -> ErrorBody {
        let (error, message, fields) = match self {
            ApiError::BadRequest { code, message } => (*code, message.clone(), None),
            ApiError::Unauthorized => (
                "unauthorized",
                "A valid staff API key is required (Authorization: Bearer <key>).".to_owned(),
                None,
            ),
            ApiError::Forbidden => (
                "forbidden",
                "The request could not be verified.".to_owned(),
                None,
            ),
            ApiError::Denied { code, message } => (*code, message.clone(), None),
            ApiError::ForbiddenField { code, field } | ApiError::Unprocessable { code, field } => {
                (*code, field.message.clone(), Some(vec![field.clone()]))
            }
            ApiError::NotFound(message) => ("not_found", message.clone(), None),
            ApiError::Conflict { code, message } => (*code, message.clone(), None),
            ApiError::MethodNotAllowed => (
                "method_not_allowed",
                "This endpoint does not accept that method; see /docs.".to_owned(),
                None,
            ),
            ApiError::PayloadTooLarge => (
                "payload_too_large",
                "The request is too large. Shorten the message and try again.".to_owned(),
                None,
            ),
            ApiError::Validation(fields) => {
                let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
                (
                    "validation_failed",
                    format!("Please correct: {}.", names.join(", ")),
                    Some(fields.clone()),
                )
            }
            ApiError::RateLimited { retry_after_secs } => (
                "rate_limited",
                format!("Too many requests. Please try again in {retry_after_secs} seconds."),
                None,
            ),
            ApiError::Unavailable { message, .. } => ("unavailable", (*message).to_owned(), None),
            ApiError::Internal(_) => (
                "internal_error",
                "Something went wrong on our side. Please try again.".to_owned(),
                None,
            ),
        };
        let detail = match self {
            ApiError::Validation(fields) => Some(fields.iter().map(Into::into).collect()),
            _ => None,
        };
        ErrorBody {
            error: error.to_owned(),
            message,
            fields,
            detail,
        }
    }
}

/// How long a client should wait after a 503.
pub const RETRY_AFTER_UNAVAILABLE_SECS: u64 = 5;

impl ApiError {
    /// The error as the caller should get it: an internal failure that is
    /// PostgreSQL being unreachable becomes a 503 to retry, and any other
    /// internal failure has its cause chain logged, once, here. Responses
    /// and the MCP server's tool errors both go through it.
    pub fn settle(self) -> ApiError {
        let error = match self {
            ApiError::Internal(cause) if database_unreachable(&cause) => {
                tracing::warn!(error = format!("{cause:#}"), "database unreachable");
                ApiError::unavailable("The service is temporarily unavailable.")
            }
            other => other,
        };
        if let ApiError::Internal(cause) = &error {
            // `{:#}` prints the whole chain on one line; causes are written
            // by our own code and carry ids and kinds, never personal data.
            tracing::error!(error = format!("{cause:#}"), "request failed");
        }
        error
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = self.settle();
        let retry_after = match &error {
            ApiError::RateLimited { retry_after_secs }
            | ApiError::Unavailable {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        };
        let mut response = (error.status(), axum::Json(error.body())).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<fte_store::StoreError> for ApiError {
    fn from(error: fte_store::StoreError) -> Self {
        ApiError::Internal(anyhow::Error::new(error))
    }
}

/// Whether an internal failure is PostgreSQL being unreachable somewhere in
/// its cause chain: that is a 503 the client may retry, not a fault.
fn database_unreachable(cause: &anyhow::Error) -> bool {
    cause.chain().any(|c| {
        c.downcast_ref::<fte_store::StoreError>()
            .is_some_and(fte_store::StoreError::is_unavailable)
            || c.downcast_ref::<sqlx::Error>()
                .is_some_and(fte_store::is_unreachable)
    })
}

/// The field named in a serde message such as ``unknown field `x` ``.
fn field_in(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let end = message[start..].find('`')? + start;
    Some(&message[start..end])
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(error) => {
                let text = error.body_text();
                let field = if text.contains("unknown field") {
                    field_in(&text).map(|f| FieldError::new(f, "is not an accepted field"))
                } else if text.contains("missing field") {
                    field_in(&text).map(|f| FieldError::new(f, "is required"))
                } else {
                    // `path: invalid type …` after axum's prefix.
                    text.rsplit_once("target type: ")
                        .and_then(|(_, rest)| rest.split_once(": "))
                        .map(|(path, _)| FieldError::new(path, "has the wrong type"))
                };
                ApiError::Validation(field.into_iter().collect())
            }
            JsonRejection::JsonSyntaxError(_) => {
                ApiError::bad_request("invalid_json", "The request body is not valid JSON.")
            }
            JsonRejection::MissingJsonContentType(_) => ApiError::bad_request(
                "invalid_content_type",
                "Send the body as JSON with Content-Type: application/json.",
            ),
            JsonRejection::BytesRejection(bytes) => ApiError::from(bytes),
            _ => ApiError::bad_request("invalid_body", "The request body cannot be read."),
        }
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::bad_request("invalid_body", "The request body cannot be read.")
        }
    }
}

/// `axum::Json`, but a body that cannot be read answers in [`ApiError`]'s
/// shape: bad JSON is a 400, unknown or mistyped fields a 422 naming them.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<S, T> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<T>::from_request(request, state).await?;
        Ok(AppJson(value))
    }
}

impl<T: Serialize> IntoResponse for AppJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Query`, but a query string that cannot be read (a
/// parameter given twice, a value of the wrong type) answers 400
/// `invalid_query` in [`ApiError`]'s shape instead of axum's plain text.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for AppQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(AppQuery(value)),
            Err(rejection) => {
                let text = rejection.body_text();
                let message = match field_in(&text) {
                    Some(field) if text.contains("duplicate field") => {
                        format!("The query parameter {field} is given more than once.")
                    }
                    _ => "The query string cannot be read.".to_owned(),
                };
                Err(ApiError::bad_request("invalid_query", message))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_name_their_field() {
        assert_eq!(
            field_in("unknown field `website2`, expected one of `name`"),
            Some("website2")
        );
        assert_eq!(field_in("no field here"), None);
    }

    #[test]
    fn internal_errors_never_show_their_cause() {
        let error = ApiError::Internal(anyhow::anyhow!("select * from customers failed"));
        let body = serde_json::to_string(&error.body()).unwrap();
        assert!(!body.contains("select"), "{body}");
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
