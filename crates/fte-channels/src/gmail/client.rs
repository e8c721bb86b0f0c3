//! The Gmail REST calls the agent makes: `watch`, `history.list`,
//! `messages.get`, `messages.list`, `threads.get` and `messages.send`. Every
//! authorised call renews the token once after a 401; reads are retried with
//! backoff, sends never are.
//!
//! Written here rather than with `google-gmail1` (7.0, checked 2026-12):
//! that crate can be pointed at the fake's base URL, but it sends mail only
//! as a media upload (`users.messages.send` has `upload`/`upload_resumable`,
//! no plain JSON `raw` call), brings a second OAuth implementation
//! (`yup-oauth2`) beside the service-account flow in `auth.rs`, and adds
//! eight crates the workspace does not have (`h2`, `serde_with`,
//! `google-apis-common`, …) plus 29,856 lines of generated client, for the
//! six calls above (under 360 lines here, on the workspace's `reqwest`).

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::auth::TokenSource;
use super::error::GmailError;
use crate::http::{self, Idempotency, RetryPolicy};

/// A Gmail API client for one mailbox.
pub struct GmailClient {
    base_url: String,
    tokens: TokenSource,
    http: reqwest::Client,
    retry: RetryPolicy,
}

/// The answer to `users.watch`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WatchResponse {
    /// The mailbox's history id when the watch started.
    #[serde(deserialize_with = "super::de::de_u64")]
    pub history_id: u64,
    /// When the watch expires (milliseconds since the epoch).
    #[serde(default, deserialize_with = "super::de::de_opt_i64")]
    pub expiration: Option<i64>,
}

/// A message id pair as lists return it.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageRef {
    /// Gmail message id.
    pub id: String,
    /// Gmail thread id.
    #[serde(default)]
    pub thread_id: String,
    /// Labels, when the API included them.
    #[serde(default)]
    pub label_ids: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HistoryPage {
    #[serde(default)]
    pub history: Vec<HistoryRecord>,
    pub next_page_token: Option<String>,
    #[serde(deserialize_with = "super::de::de_u64")]
    pub history_id: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HistoryRecord {
    #[serde(default)]
    pub messages_added: Vec<MessageAdded>,
}

#[derive(Deserialize)]
pub(crate) struct MessageAdded {
    pub message: MessageRef,
}

/// A message fetched with `format=raw`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawMessage {
    /// Gmail message id.
    pub id: String,
    /// Gmail thread id.
    pub thread_id: String,
    /// Labels.
    #[serde(default)]
    pub label_ids: Vec<String>,
    /// The RFC 2822 message, base64url.
    pub raw: String,
    /// Receipt time, milliseconds since the epoch.
    #[serde(default, deserialize_with = "super::de::de_opt_i64")]
    pub internal_date: Option<i64>,
}

#[derive(Deserialize)]
pub(crate) struct MessageListPage {
    #[serde(default)]
    pub messages: Vec<MessageRef>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Profile {
    #[serde(deserialize_with = "super::de::de_u64")]
    pub history_id: u64,
}

/// A message with metadata headers (`format=metadata`).
#[derive(Clone, Debug, Deserialize)]
pub struct MetadataMessage {
    /// Gmail message id.
    pub id: String,
    /// The requested headers.
    #[serde(default)]
    pub payload: MetadataPayload,
}

/// Headers of a metadata message.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct MetadataPayload {
    /// Name/value pairs.
    #[serde(default)]
    pub headers: Vec<MetadataHeader>,
}

/// One header.
#[derive(Clone, Debug, Deserialize)]
pub struct MetadataHeader {
    /// Header name.
    pub name: String,
    /// Header value.
    pub value: String,
}

impl MetadataMessage {
    /// The value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.payload
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }
}

#[derive(Deserialize)]
pub(crate) struct ThreadMetadata {
    #[serde(default)]
    pub messages: Vec<MetadataMessage>,
}

impl GmailClient {
    /// A client calling `base_url` (`https://gmail.googleapis.com` or a fake)
    /// with tokens from `tokens`; every call times out after `timeout`.
    pub fn new(base_url: &str, tokens: TokenSource, timeout: Duration, retry: RetryPolicy) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            tokens,
            http: http::client(timeout),
            retry,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/gmail/v1/users/me/{path}", self.base_url)
    }

    /// Sends an authorised request; after a 401 the token is renewed and the
    /// request sent once more.
    async fn authorised(
        &self,
        idempotency: Idempotency,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Response, GmailError> {
        for attempt in 0..2 {
            let token = self.tokens.token().await?;
            let with_auth = || build().bearer_auth(token.expose_secret());
            let response = match idempotency {
                Idempotency::Idempotent => http::send_idempotent(self.retry, with_auth).await?,
                Idempotency::NotIdempotent => with_auth()
                    .send()
                    .await
                    .map_err(|e| http::classify_transport(&e, idempotency))?,
            };
            if response.status() == StatusCode::UNAUTHORIZED && attempt == 0 {
                tracing::info!("Gmail token rejected; renewing it once");
                self.tokens.invalidate().await;
                continue;
            }
            return Ok(response);
        }
        Err(GmailError::Auth(
            "Gmail rejected a freshly issued token".into(),
        ))
    }

    async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<serde_json::Value>,
    ) -> Result<T, GmailError> {
        let idempotency = if method == Method::GET {
            Idempotency::Idempotent
        } else {
            Idempotency::NotIdempotent
        };
        let url = self.url(path);
        let response = self
            .authorised(idempotency, || {
                let request = self.http.request(method.clone(), &url).query(query);
                match &body {
                    Some(body) => request.json(body),
                    None => request,
                }
            })
            .await?;
        let status = response.status();
        if !status.is_success() {
            return Err(match status {
                StatusCode::NOT_FOUND if path == "history" => GmailError::HistoryTooOld,
                StatusCode::NOT_FOUND => GmailError::NotFound,
                StatusCode::UNAUTHORIZED => {
                    GmailError::Auth("Gmail answered 401 after a token renewal".into())
                }
                _ => GmailError::Provider(http::classify_status(
                    status,
                    http::retry_after(&response),
                    None,
                )),
            });
        }
        response.json().await.map_err(|_| {
            if idempotency == Idempotency::NotIdempotent {
                GmailError::Provider(crate::SendError::Unknown {
                    reason: "unreadable response to a send".into(),
                })
            } else {
                GmailError::Malformed(format!("response of {path}"))
            }
        })
    }

    /// `users.watch`: publish INBOX changes to `topic`.
    pub async fn watch(&self, topic: &str) -> Result<WatchResponse, GmailError> {
        let body = json!({
            "topicName": topic,
            "labelIds": ["INBOX"],
            "labelFilterBehavior": "INCLUDE",
        });
        self.json(Method::POST, "watch", &[], Some(body)).await
    }

    /// `users.getProfile`: the mailbox's current history id.
    pub async fn current_history_id(&self) -> Result<u64, GmailError> {
        let profile: Profile = self.json(Method::GET, "profile", &[], None).await?;
        Ok(profile.history_id)
    }

    /// `history.list` from `start`: the INBOX messages added since, and the
    /// history id to store afterwards. A 404 is [`GmailError::HistoryTooOld`].
    pub async fn added_since(&self, start: u64) -> Result<(Vec<MessageRef>, u64), GmailError> {
        let mut added = Vec::new();
        let mut page_token: Option<String> = None;
        loop {
            let mut query = vec![
                ("startHistoryId", start.to_string()),
                ("historyTypes", "messageAdded".to_owned()),
                ("labelId", "INBOX".to_owned()),
            ];
            if let Some(token) = &page_token {
                query.push(("pageToken", token.clone()));
            }
            let page: HistoryPage = self.json(Method::GET, "history", &query, None).await?;
            for record in page.history {
                for item in record.messages_added {
                    if !added.iter().any(|m: &MessageRef| m.id == item.message.id) {
                        added.push(item.message);
                    }
                }
            }
            match page.next_page_token {
                Some(token) => page_token = Some(token),
                None => return Ok((added, page.history_id)),
            }
        }
    }

    /// `messages.list` with a label and an optional search query.
    pub async fn list(
        &self,
        label: Option<&str>,
        q: Option<&str>,
        max: u32,
    ) -> Result<Vec<MessageRef>, GmailError> {
        let mut query = vec![("maxResults", max.to_string())];
        if let Some(label) = label {
            query.push(("labelIds", label.to_owned()));
        }
        if let Some(q) = q {
            query.push(("q", q.to_owned()));
        }
        let page: MessageListPage = self.json(Method::GET, "messages", &query, None).await?;
        Ok(page.messages)
    }

    /// `messages.get?format=raw`.
    pub async fn raw_message(&self, id: &str) -> Result<RawMessage, GmailError> {
        let query = [("format", "raw".to_owned())];
        self.json(Method::GET, &format!("messages/{id}"), &query, None)
            .await
    }

    /// `messages.get?format=metadata` with our reply headers.
    pub async fn reply_metadata(&self, id: &str) -> Result<MetadataMessage, GmailError> {
        let query = reply_header_query();
        self.json(Method::GET, &format!("messages/{id}"), &query, None)
            .await
    }

    /// `threads.get?format=metadata` with our reply headers.
    pub async fn thread_metadata(&self, id: &str) -> Result<Vec<MetadataMessage>, GmailError> {
        let query = reply_header_query();
        let thread: ThreadMetadata = self
            .json(Method::GET, &format!("threads/{id}"), &query, None)
            .await?;
        Ok(thread.messages)
    }

    /// `messages.send` of a base64url RFC 2822 message, in `thread_id`.
    /// Never retried: a timeout is an unknown outcome.
    pub async fn send_raw(
        &self,
        raw: &str,
        thread_id: Option<&str>,
    ) -> Result<MessageRef, GmailError> {
        let mut body = json!({ "raw": raw });
        if let Some(thread_id) = thread_id {
            body["threadId"] = json!(thread_id);
        }
        self.json(Method::POST, "messages/send", &[], Some(body))
            .await
    }
}

fn reply_header_query() -> Vec<(&'static str, String)> {
    vec![
        ("format", "metadata".to_owned()),
        (
            "metadataHeaders",
            super::compose::REPLY_ID_HEADER.to_owned(),
        ),
        (
            "metadataHeaders",
            super::compose::REPLY_PART_HEADER.to_owned(),
        ),
    ]
}
