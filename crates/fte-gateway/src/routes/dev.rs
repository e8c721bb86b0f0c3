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

/// Rows per page of `/dev/outbox.html` unless `per_page` says otherwise.
pub const DEFAULT_PER_PAGE: usize = 50;
/// Most rows per page.
pub const MAX_PER_PAGE: usize = 200;
/// The highest page number accepted (a page past the last shows the last).
pub const MAX_PAGE: usize = 1_000_000;

/// Query of `/dev/outbox.html`.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxPageQuery {
    /// `email`, `whatsapp` or `all` (the default).
    #[param(value_type = Option<String>, pattern = "^(email|whatsapp|all)$")]
    pub channel: Option<String>,
    /// 1-based page, newest messages on page 1.
    #[param(value_type = Option<u64>, minimum = 1, maximum = 1000000)]
    pub page: Option<String>,
    /// Rows per page (50; at most 200).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 200)]
    pub per_page: Option<String>,
}

/// A positive whole number from the query, or a 400 naming the parameter.
fn positive(value: Option<&str>, name: &'static str, default: usize) -> Result<usize, ApiError> {
    match value {
        None => Ok(default),
        Some(raw) => raw.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_query",
                format!("{name} must be a positive whole number."),
            )
        }),
    }
}

/// `GET /dev/outbox.html`: the same as a page, newest first, with the time
/// each message was received, a channel filter and paging.
#[utoipa::path(get, path = "/dev/outbox.html", tag = "operations",
    params(OutboxPageQuery),
    responses((status = 200, description = "HTML page of the recorded outbound messages",
               content_type = "text/html", body = String),
              (status = 400, description = "Unknown channel, a page that is not a positive number, a page over 1000000 or per_page over 200, or a parameter given twice", body = crate::error::ErrorBody),
              (status = 404, description = "Not a local run with the provider fakes")))]
pub async fn outbox_page(
    State(state): State<AppState>,
    crate::error::AppQuery(query): crate::error::AppQuery<OutboxPageQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let channel = match query.channel.as_deref().unwrap_or("all") {
        "all" => None,
        "email" => Some("email"),
        "whatsapp" => Some("whatsapp"),
        _ => {
            return Err(ApiError::bad_request(
                "invalid_channel",
                "channel must be email, whatsapp or all.",
            ));
        }
    };
    let mut records: Vec<OutboundRecord> = log(&state)?
        .records()
        .into_iter()
        .filter(|r| channel.is_none_or(|c| r.channel == c))
        .collect();
    records.reverse();
    let per_page = positive(query.per_page.as_deref(), "per_page", DEFAULT_PER_PAGE)?;
    if per_page > MAX_PER_PAGE {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("per_page must be at most {MAX_PER_PAGE}."),
        ));
    }
    let pages = records.len().div_ceil(per_page).max(1);
    let page = positive(query.page.as_deref(), "page", 1)?;
    if page > MAX_PAGE {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("page must be at most {MAX_PAGE}."),
        ));
    }
    let page = page.min(pages);
    let shown = records.iter().skip((page - 1) * per_page).take(per_page);
    let filter = channel.unwrap_or("all");
    let link = |page: usize, channel: &str| {
        format!("/dev/outbox.html?channel={channel}&amp;page={page}&amp;per_page={per_page}")
    };
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>fte outbox</title>\
         <link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\
         <style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse;width:100%}\
         td,th{border:1px solid #ccc;padding:.4rem;vertical-align:top;text-align:left}\
         pre{white-space:pre-wrap;margin:0}nav a,nav strong{margin-right:1rem}</style></head><body>\
         <h1>Outbound messages (provider fakes)</h1>\
         <p>What the fake Gmail and the fake Twilio received from this local run, newest first. \
         Reload to refresh; <a href=\"/dev/outbox\">JSON</a>.</p>",
    );
    html.push_str("<nav aria-label=\"Channel\">");
    for name in ["all", "email", "whatsapp"] {
        if name == filter {
            html.push_str(&format!("<strong>{name}</strong>"));
        } else {
            html.push_str(&format!("<a href=\"{}\">{name}</a>", link(1, name)));
        }
    }
    html.push_str("</nav>");
    html.push_str(&format!(
        "<p>{} message(s); page {page} of {pages}.</p>",
        records.len()
    ));
    if records.is_empty() {
        html.push_str("<p>Nothing sent yet.</p>");
    } else {
        html.push_str(
            "<table><tr><th>received</th><th>channel</th><th>id</th><th>to</th><th>subject</th>\
             <th>text</th></tr>",
        );
        for record in shown {
            let received = record
                .received_at
                .map(|at| at.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                .unwrap_or_default();
            html.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><pre>{}</pre></td></tr>",
                escape(&received),
                escape(&record.channel),
                escape(&record.provider_id),
                escape(&record.to),
                escape(record.subject.as_deref().unwrap_or("")),
                escape(&record.body)
            ));
        }
        html.push_str("</table>");
    }
    html.push_str("<nav aria-label=\"Pages\">");
    if page > 1 {
        html.push_str(&format!("<a href=\"{}\">Newer</a>", link(page - 1, filter)));
    }
    if page < pages {
        html.push_str(&format!("<a href=\"{}\">Older</a>", link(page + 1, filter)));
    }
    html.push_str("</nav></body></html>");
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
