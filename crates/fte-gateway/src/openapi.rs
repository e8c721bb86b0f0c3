//! The OpenAPI document (utoipa) at `/openapi.json`, and `/docs`: a small
//! self-contained page that lists the operations from that document. It
//! loads nothing from other origins, so it works offline.

use axum::Json;
use axum::response::Html;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{ErrorBody, FieldError};
use crate::routes::{customers, escalations, form, staff, staff_reply, support, webhooks, widget};

/// Adds the staff bearer key scheme.
struct StaffKeyScheme;

impl Modify for StaffKeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "staff_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A staff API key: its sha256 is configured with its owner's name in \
                         STAFF_API_KEYS; every request is audited under that name",
                    ))
                    .build(),
            ),
        );
    }
}

/// Every endpoint of the gateway.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "fte gateway",
        description = "Orbitask's AI support employee: web form, provider webhooks and the staff API."
    ),
    paths(
        support::submit,
        support::ticket_status,
        webhooks::whatsapp,
        webhooks::whatsapp_status,
        webhooks::gmail,
        staff::conversation,
        staff::customer_lookup,
        customers::customer,
        customers::merge,
        customers::unlink,
        staff::channel_metrics,
        crate::routes::metrics::summary,
        escalations::list,
        escalations::assign,
        staff_reply::reply,
        escalations::resolve,
        widget::script,
        widget::demo,
        crate::routes::probes::health,
        crate::routes::probes::ready,
        crate::routes::dev::outbox,
        crate::routes::dev::outbox_page,
        crate::routes::probes::metrics,
    ),
    components(schemas(ErrorBody, FieldError, form::SubmitRequest, webhooks::GmailNotificationEvent, crate::routes::dev::Outbox, crate::local::OutboundRecord)),
    modifiers(&StaffKeyScheme),
    tags(
        (name = "support", description = "The web form's endpoints (CORS-enabled)"),
        (name = "webhooks", description = "Verified provider webhooks"),
        (name = "staff", description = "Staff API (bearer key)"),
        (name = "web form", description = "The embeddable form"),
        (name = "operations", description = "Health, readiness and Prometheus metrics"),
    )
)]
pub struct ApiDoc;

/// `GET /openapi.json`.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

const DOCS_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>fte gateway API</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1d2130}
.op{border:1px solid #c9ccd6;border-radius:6px;margin:.6rem 0;padding:.6rem .8rem}
.m{display:inline-block;min-width:4rem;font-weight:700;text-transform:uppercase}
code{background:#f4f5f9;padding:0 .25rem}
.r{color:#545b6e;font-size:.9rem}
</style>
</head>
<body>
<h1>fte gateway API</h1>
<p>The machine-readable document is at <a href="/openapi.json"><code>/openapi.json</code></a>.</p>
<div id="ops">Loading…</div>
<script>
fetch('/openapi.json').then(function (r) { return r.json(); }).then(function (doc) {
  var root = document.getElementById('ops');
  root.textContent = '';
  Object.keys(doc.paths).sort().forEach(function (path) {
    var item = doc.paths[path];
    Object.keys(item).forEach(function (method) {
      var op = item[method];
      var box = document.createElement('div');
      box.className = 'op';
      var head = document.createElement('div');
      var m = document.createElement('span');
      m.className = 'm';
      m.textContent = method;
      var p = document.createElement('code');
      p.textContent = path;
      head.appendChild(m);
      head.appendChild(p);
      box.appendChild(head);
      var text = document.createElement('p');
      text.textContent = (op.summary || '') + (op.description ? ' ' + op.description : '');
      box.appendChild(text);
      var codes = document.createElement('div');
      codes.className = 'r';
      codes.textContent = 'Responses: ' + Object.keys(op.responses || {}).map(function (c) {
        return c + ' ' + (op.responses[c].description || '');
      }).join(' · ');
      box.appendChild(codes);
      root.appendChild(box);
    });
  });
}).catch(function () {
  document.getElementById('ops').textContent = 'Could not load /openapi.json.';
});
</script>
</body>
</html>
"#;

/// `GET /docs`: the operations of `/openapi.json`, rendered offline.
pub async fn docs() -> Html<&'static str> {
    Html(DOCS_PAGE)
}
