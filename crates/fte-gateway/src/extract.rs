//! Verifying extractors: a handler that takes one of these cannot run on an
//! unverified request. Each reads the raw body itself, because signatures
//! cover the bytes (or parameters) exactly as sent.
//!
//! Failures are logged as security events with the route and the reason
//! kind only — never a phone number, address, signature or token.

use axum::body::Bytes;
use axum::extract::{FromRequest, OriginalUri, Request};
use axum::http::header;
use fte_channels::gmail::PushError;
use secrecy::ExposeSecret;

use crate::state::{GmailAuth, TwilioAuth};
use crate::{ApiError, AppState};

/// The Twilio signature header.
pub const TWILIO_SIGNATURE_HEADER: &str = "x-twilio-signature";

/// A Twilio webhook's form parameters, in order, after `X-Twilio-Signature`
/// verified against `PUBLIC_BASE_URL` + path + query.
#[derive(Debug)]
pub struct TwilioForm {
    /// The parameters, in order.
    pub params: Vec<(String, String)>,
    /// Whether the signature verified (`false` only in dev without
    /// `TWILIO_AUTH_TOKEN`): a signed webhook proves the sender's number.
    pub signed: bool,
}

impl FromRequest<AppState> for TwilioForm {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let path_and_query = request
            .extensions()
            .get::<OriginalUri>()
            .map(|OriginalUri(uri)| uri.clone())
            .unwrap_or_else(|| request.uri().clone())
            .path_and_query()
            .map(|pq| pq.as_str().to_owned())
            .unwrap_or_else(|| "/".to_owned());
        let signature = request
            .headers()
            .get(TWILIO_SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = Bytes::from_request(request, state).await?;
        let params = fte_channels::twilio::parse_form(&body);
        match &state.webhooks.twilio {
            TwilioAuth::Disabled => {
                return Err(ApiError::NotFound(
                    "The WhatsApp channel is disabled.".into(),
                ));
            }
            TwilioAuth::Unsigned => {
                return Ok(TwilioForm {
                    params,
                    signed: false,
                });
            }
            TwilioAuth::Signed(token) => {
                let url = format!("{}{}", state.api.public_base_url, path_and_query);
                let verified = signature.as_deref().is_some_and(|signature| {
                    fte_channels::twilio::verify_signature(
                        token.expose_secret(),
                        &url,
                        &params,
                        signature,
                    )
                });
                if !verified {
                    tracing::warn!(
                        security = true,
                        route = path_and_query.split('?').next().unwrap_or_default(),
                        reason = if signature.is_some() {
                            "signature_mismatch"
                        } else {
                            "signature_missing"
                        },
                        "rejected a Twilio webhook that does not verify"
                    );
                    return Err(ApiError::Forbidden);
                }
            }
        }
        Ok(TwilioForm {
            params,
            signed: true,
        })
    }
}

/// A Pub/Sub push request's raw body, after its OIDC token (or `?token=`
/// secret) verified.
#[derive(Debug)]
pub struct PubSubPush {
    /// The raw body.
    pub body: Bytes,
    /// Whether the push verified (`false` only in dev without push
    /// verification settings).
    pub authenticated: bool,
}

fn query_token(query: Option<&str>) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(name, _)| name == "token")
        .map(|(_, value)| value.into_owned())
}

impl FromRequest<AppState> for PubSubPush {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let authorization = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let token = query_token(request.uri().query());
        let body = Bytes::from_request(request, state).await?;
        match &state.webhooks.gmail {
            GmailAuth::Disabled => {
                return Err(ApiError::NotFound("The email channel is disabled.".into()));
            }
            GmailAuth::Unverified => {
                return Ok(PubSubPush {
                    body,
                    authenticated: false,
                });
            }
            GmailAuth::Verified(verifier) => {
                if let Err(error) = verifier
                    .verify(authorization.as_deref(), token.as_deref())
                    .await
                {
                    if let PushError::KeysUnavailable(_) = error {
                        tracing::warn!(error = %error, "Google's signing keys are unavailable");
                        return Err(ApiError::unavailable(
                            "Push verification is temporarily unavailable.",
                        ));
                    }
                    tracing::warn!(
                        security = true,
                        route = "/webhooks/gmail",
                        reason = %error,
                        "rejected a Pub/Sub push that does not verify"
                    );
                    return Err(ApiError::Forbidden);
                }
            }
        }
        Ok(PubSubPush {
            body,
            authenticated: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_push_token_is_read_from_the_query() {
        assert_eq!(
            query_token(Some("a=1&token=s%3Dcret")),
            Some("s=cret".into())
        );
        assert_eq!(query_token(Some("a=1")), None);
        assert_eq!(query_token(None), None);
    }
}
