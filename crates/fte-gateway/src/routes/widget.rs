//! The embeddable web form (`web-form/dist`) and a demo page for the local
//! run. The script is read from disk on each request so a rebuilt form is
//! served without a restart.

use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

use crate::error::ErrorBody;
use crate::{ApiError, AppState};

/// The built script's file name.
pub const SCRIPT_FILE: &str = "fte-support-form.js";

/// The embeddable support form script.
#[utoipa::path(
    get,
    path = "/widget/fte-support-form.js",
    tag = "web form",
    responses(
        (status = 200, description = "The script", content_type = "text/javascript", body = String),
        (status = 404, description = "The form is not built (run `npm run build` in web-form/)", body = ErrorBody),
    )
)]
pub async fn script(State(state): State<AppState>) -> Result<Response, ApiError> {
    let path = state.api.web_form_dist_dir.join(SCRIPT_FILE);
    match tokio::fs::read(&path).await {
        Ok(bytes) => Ok((
            [
                (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                (header::CACHE_CONTROL, "public, max-age=300"),
            ],
            bytes,
        )
            .into_response()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Err(ApiError::NotFound(
            "The web form is not built: run `npm ci && npm run build` in web-form/ \
             (or set WEB_FORM_DIST_DIR)."
                .into(),
        )),
        Err(error) => Err(ApiError::Internal(
            anyhow::Error::new(error).context(format!("Failed to read {}", path.display())),
        )),
    }
}

const DEMO_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Orbitask support (demo)</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:48rem;padding:0 1rem}</style>
</head>
<body>
<h1>Orbitask support</h1>
<p>This page embeds the support form served by this gateway.</p>
<div id="fte-support-form"></div>
<script src="/widget/fte-support-form.js"></script>
</body>
</html>
"#;

/// A page embedding the form, for the local run.
#[utoipa::path(
    get,
    path = "/demo",
    tag = "web form",
    responses((status = 200, description = "HTML page", content_type = "text/html", body = String))
)]
pub async fn demo() -> Html<&'static str> {
    Html(DEMO_PAGE)
}
