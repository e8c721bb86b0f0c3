//! A fake of the Gmail API and Google's token endpoint: `users.watch`,
//! `getProfile`, `history.list`, `messages.list/get/send`, `threads.get`,
//! with bearer-token checks and a mailbox whose history id moves like
//! Gmail's. [`FakeGmail::deliver_inbound`] plays a customer writing in:
//! like Gmail's receiving servers, it prepends an `Authentication-Results:
//! mx.google.com; …` header with its verdict on the From domain — a pass
//! for a sender whose domain signs its mail,
//! [`FakeGmail::deliver_inbound_spoofed`] a DMARC failure for a forged one.

use std::sync::{Arc, Mutex};

use axum::routing::{get, post};
use axum::{Router, middleware};

use crate::faults::{self, Faults};

mod mailbox;
mod routes;

use crate::server::FakeServer;
pub use mailbox::{FakeOAuth, SenderVerdict, StoredMessage, authentication_results};
use mailbox::{Inner, State_, deliver, id_base, sent_of};
use routes::{
    control_expire_tokens, control_fail, control_inbound, control_sent, get_message, get_thread,
    history, list_messages, profile, send, token, watch,
};

/// The running fake and its handle.
pub struct FakeGmail {
    server: FakeServer,
    inner: Arc<Inner>,
}

impl FakeGmail {
    /// Starts a fake for `mailbox` whose token endpoint accepts `oauth`.
    pub async fn start(mailbox: &str, oauth: FakeOAuth) -> std::io::Result<Self> {
        let inner = Arc::new(Inner {
            mailbox: mailbox.to_owned(),
            oauth,
            token_path: "/token".into(),
            state: Mutex::new(State_ {
                history_id: 1000,
                oldest_history_id: 1,
                id_base: id_base(),
                next_id: 1,
                messages: Vec::new(),
                tokens: Vec::new(),
                token_requests: 0,
                token_lifetime_secs: 3600,
                watches: Vec::new(),
                deleted: Vec::new(),
            }),
            faults: Faults::default(),
        });
        let api = Router::new()
            .route("/gmail/v1/users/me/watch", post(watch))
            .route("/gmail/v1/users/me/profile", get(profile))
            .route("/gmail/v1/users/me/history", get(history))
            .route("/gmail/v1/users/me/messages", get(list_messages))
            .route("/gmail/v1/users/me/messages/send", post(send))
            .route("/gmail/v1/users/me/messages/{id}", get(get_message))
            .route("/gmail/v1/users/me/threads/{id}", get(get_thread))
            .layer(middleware::from_fn_with_state(
                inner.faults.clone(),
                faults::apply,
            ));
        let other = Router::new()
            .route("/token", post(token))
            .route("/_fake/inbound", post(control_inbound))
            .route("/_fake/sent", get(control_sent))
            .route("/_fake/fail", post(control_fail))
            .route("/_fake/expire-tokens", post(control_expire_tokens));
        let router = api.merge(other).with_state(inner.clone());
        Ok(Self {
            server: FakeServer::start(router).await?,
            inner,
        })
    }

    /// The API base URL (`GMAIL_API_BASE_URL`).
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The token endpoint (`GMAIL_TOKEN_URL`).
    pub fn token_url(&self) -> String {
        format!("{}{}", self.server.base_url(), self.inner.token_path)
    }

    /// The fault plan of the API routes (the token endpoint is not affected).
    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// The mailbox's current history id.
    pub fn history_id(&self) -> u64 {
        self.inner.lock().history_id
    }

    /// Adds a customer message to INBOX (threaded by `In-Reply-To` when it
    /// answers a message in the mailbox) and bumps the history id.
    /// Returns `(message id, thread id)`.
    pub fn deliver_inbound(&self, raw_mime: &str) -> (String, String) {
        deliver(&self.inner, raw_mime, SenderVerdict::Pass)
    }

    /// [`deliver_inbound`](Self::deliver_inbound) for a message whose From
    /// domain does not authenticate it (SPF and DMARC fail): a forged
    /// sender.
    pub fn deliver_inbound_spoofed(&self, raw_mime: &str) -> (String, String) {
        deliver(&self.inner, raw_mime, SenderVerdict::Fail)
    }

    /// Deletes a message (as a customer or admin might between the push
    /// and our fetch); its history record stays, like Gmail's.
    pub fn delete_message(&self, id: &str) {
        self.inner.lock().deleted.push(id.to_owned());
    }

    /// Every message we sent (label SENT), oldest first.
    pub fn sent(&self) -> Vec<StoredMessage> {
        sent_of(&self.inner)
    }

    /// Every message in the mailbox.
    pub fn messages(&self) -> Vec<StoredMessage> {
        self.inner.lock().messages.clone()
    }

    /// Marks every issued access token as expired (the next call gets 401).
    pub fn expire_tokens(&self) {
        for token in &mut self.inner.lock().tokens {
            token.1 = false;
        }
    }

    /// Sets the lifetime (`expires_in`) of tokens issued from now on.
    pub fn set_token_lifetime(&self, secs: u64) {
        self.inner.lock().token_lifetime_secs = secs;
    }

    /// How many tokens were requested.
    pub fn token_requests(&self) -> u32 {
        self.inner.lock().token_requests
    }

    /// Forgets history older than now: `history.list` from an older id
    /// answers 404, as Gmail does after about a week.
    pub fn expire_history(&self) {
        let mut state = self.inner.lock();
        state.oldest_history_id = state.history_id;
    }

    /// The topics `users.watch` was called with.
    pub fn watches(&self) -> Vec<String> {
        self.inner.lock().watches.clone()
    }

    /// Refuses connections until [`come_back`](Self::come_back).
    pub async fn go_down(&self) {
        self.server.down().await;
    }

    /// Accepts connections again.
    pub async fn come_back(&self) -> std::io::Result<()> {
        self.server.up().await
    }
}
