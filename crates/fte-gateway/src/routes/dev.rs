//! `/dev/outbox` and `/dev/outbox.html`: every outbound message the
//! in-process provider fakes received (what Gmail's `messages.send` and
//! Twilio's Messages API were asked to deliver), for trying the product
//! locally. Only in the dev profile with the fakes running (`fte run`
//! without provider credentials); 404 otherwise. The page shows addresses
//! and text on purpose — they are simulated customers on a local machine —
//! and nothing here is logged.

use axum::Json;
use axum::extract::State;
use axum::response::{Html, IntoResponse};

use crate::local::{OutboundLog, OutboundRecord};
use crate::{ApiError, AppState};

/// The outbox as JSON.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Outbox {
    /// Every recorded message, oldest first.
    pub messages: Vec<OutboundRecord>,
}

fn log(state: &AppState) -> Result<&dyn OutboundLog, ApiError> {
    match (&state.outbound_log, state.profile.is_production()) {
        (Some(log), false) => Ok(log.as_ref()),
        _ => Err(ApiError::NotFound(
            "The outbox exists only in a local run with the provider fakes (fte run without provider credentials).".into(),
        )),
    }
}

/// `GET /dev/outbox`: what the provider fakes received (dev profile only).
#[utoipa::path(get, path = "/dev/outbox", tag = "operations",
    responses((status = 200, description = "Recorded outbound messages", body = Outbox),
              (status = 404, description = "Not a local run with the provider fakes")))]
pub async fn outbox(State(state): State<AppState>) -> Result<Json<Outbox>, ApiError> {
    Ok(Json(Outbox {
        messages: log(&state)?.records(),
    }))
}

/// `GET /dev/outbox.html`: the same as a page, one table per channel.
#[utoipa::path(get, path = "/dev/outbox.html", tag = "operations",
    responses((status = 200, description = "HTML page of the recorded outbound messages",
               content_type = "text/html", body = String),
              (status = 404, description = "Not a local run with the provider fakes")))]
pub async fn outbox_page(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let records = log(&state)?.records();
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>fte outbox</title>\
         <style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse;width:100%}\
         td,th{border:1px solid #ccc;padding:.4rem;vertical-align:top;text-align:left}\
         pre{white-space:pre-wrap;margin:0}</style></head><body><h1>Outbound messages (provider fakes)</h1>\
         <p>What the fake Gmail and the fake Twilio received from this local run. Reload to refresh; \
         <a href=\"/dev/outbox\">JSON</a>.</p>",
    );
    for channel in ["email", "whatsapp"] {
        let rows: Vec<&OutboundRecord> = records.iter().filter(|r| r.channel == channel).collect();
        html.push_str(&format!("<h2>{channel} ({})</h2>", rows.len()));
        if rows.is_empty() {
            html.push_str("<p>Nothing sent yet.</p>");
            continue;
        }
        html.push_str("<table><tr><th>id</th><th>to</th><th>subject</th><th>text</th></tr>");
        for record in rows {
            html.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><pre>{}</pre></td></tr>",
                escape(&record.provider_id),
                escape(&record.to),
                escape(record.subject.as_deref().unwrap_or("")),
                escape(&record.body)
            ));
        }
        html.push_str("</table>");
    }
    html.push_str("</body></html>");
    Ok(Html(html))
}

/// Escapes text for HTML element content.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn customer_text_cannot_inject_markup() {
        assert_eq!(
            super::escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}
