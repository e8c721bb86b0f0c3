//! Steering a fake: fail the next calls with a status, slow every call down,
//! or accept a call and then never answer (a timeout after the provider has
//! acted, the case senders must report as unknown).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

#[derive(Default)]
struct FaultState {
    fail_next: VecDeque<Option<u16>>,
    delay: Duration,
    hang_after_accept: u32,
    calls: u64,
}

/// Shared fault plan of one fake.
#[derive(Clone, Default)]
pub struct Faults(Arc<Mutex<FaultState>>);

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, FaultState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next `times` calls answer `status` (429 also sends `Retry-After: 0`).
    pub fn fail_next(&self, status: u16, times: usize) {
        self.lock()
            .fail_next
            .extend(std::iter::repeat_n(Some(status), times));
    }

    /// The next `times` calls pass; queue failures after them with
    /// [`fail_next`](Self::fail_next) to fail a later call in a sequence.
    pub fn pass_next(&self, times: usize) {
        self.lock()
            .fail_next
            .extend(std::iter::repeat_n(None, times));
    }

    /// Every call waits `delay` before being handled.
    pub fn set_delay(&self, delay: Duration) {
        self.lock().delay = delay;
    }

    /// The next `times` state-changing calls are carried out, then never
    /// answered (the fake holds the response for ten minutes).
    pub fn hang_after_accept(&self, times: u32) {
        self.lock().hang_after_accept = times;
    }

    /// Whether the current state-changing call should hang after acting.
    pub fn take_hang(&self) -> bool {
        let mut state = self.lock();
        if state.hang_after_accept > 0 {
            state.hang_after_accept -= 1;
            true
        } else {
            false
        }
    }

    /// Calls seen by the fault layer (including failed ones).
    pub fn calls(&self) -> u64 {
        self.lock().calls
    }

    /// Clears every fault.
    pub fn clear(&self) {
        let mut state = self.lock();
        state.fail_next.clear();
        state.delay = Duration::ZERO;
        state.hang_after_accept = 0;
    }
}

/// How long a hung call is held.
pub const HANG: Duration = Duration::from_secs(600);

/// Axum middleware applying the plan.
pub async fn apply(State(faults): State<Faults>, request: Request, next: Next) -> Response {
    let (delay, failure) = {
        let mut state = faults.lock();
        state.calls += 1;
        (state.delay, state.fail_next.pop_front().flatten())
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some(status) = failure {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (
            status,
            axum::Json(serde_json::json!({
                "code": status.as_u16(),
                "message": "injected failure",
                "status": status.as_u16(),
            })),
        )
            .into_response();
        if status == StatusCode::TOO_MANY_REQUESTS {
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from_static("0"));
        }
        return response;
    }
    next.run(request).await
}
