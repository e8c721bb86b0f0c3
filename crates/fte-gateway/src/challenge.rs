//! The web form's bot challenge on the gateway: a submission is accepted
//! only when its `challenge_token` passes the provider's siteverify (when a
//! challenge is configured). A token that does not pass is a 403
//! `challenge_failed`; a provider that cannot be reached after the bounded
//! retries is a 503 with Retry-After — never an accepted submission.

use std::net::IpAddr;

use fte_channels::challenge::Verdict;

use crate::error::RETRY_AFTER_UNAVAILABLE_SECS;
use crate::{ApiError, AppState};

/// Checks `token` when the gateway has a challenge configured.
pub async fn check(state: &AppState, token: Option<&str>, client: IpAddr) -> Result<(), ApiError> {
    let Some(verifier) = &state.challenge else {
        return Ok(());
    };
    let remote_ip = (!client.is_unspecified()).then_some(client);
    match verifier.verify(token.unwrap_or_default(), remote_ip).await {
        Ok(Verdict::Passed) => Ok(()),
        Ok(Verdict::Failed(codes)) => {
            tracing::info!(
                provider = verifier.provider().as_str(),
                codes = codes.join(","),
                "web form challenge did not pass"
            );
            Err(ApiError::denied(
                "challenge_failed",
                "The verification step (challenge_token) did not pass or has expired. \
                 Complete it again and resend.",
            ))
        }
        Err(error) => {
            tracing::warn!(
                provider = verifier.provider().as_str(),
                %error,
                "web form challenge could not be verified"
            );
            Err(ApiError::Unavailable {
                message: "We could not check the verification step right now. Please try again.",
                retry_after_secs: RETRY_AFTER_UNAVAILABLE_SECS,
            })
        }
    }
}
