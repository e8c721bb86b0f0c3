//! The embeddable web form (`web-form/dist`), what it needs to know about
//! this gateway (`GET /support/config`) and a demo page for the local run.
//! The script is read from disk on each request so a rebuilt form is served
//! without a restart.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

use serde::Serialize;
use utoipa::ToSchema;

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
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
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

/// The bot challenge the form must show.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChallengeConfig {
    /// `turnstile` or `hcaptcha`.
    pub provider: String,
    /// The public site key to render the challenge with.
    pub site_key: String,
    /// The provider's browser script (explicit rendering).
    pub script_url: String,
}

/// `200` of `GET /support/config`.
#[derive(Debug, Serialize, ToSchema)]
pub struct WidgetConfig {
    /// The challenge to solve before submitting (`challenge_token`), or
    /// null when none is required.
    pub challenge: Option<ChallengeConfig>,
}

/// What the embedded form needs to know about this gateway: whether a bot
/// challenge is required, with the provider and the public site key.
#[utoipa::path(
    get,
    path = "/support/config",
    tag = "support",
    responses((status = 200, description = "The form's configuration", body = WidgetConfig))
)]
pub async fn config(State(state): State<AppState>) -> Json<WidgetConfig> {
    Json(WidgetConfig {
        challenge: state.challenge.as_ref().map(|verifier| ChallengeConfig {
            provider: verifier.provider().as_str().to_owned(),
            site_key: verifier.site_key().to_owned(),
            script_url: verifier.script_url().to_owned(),
        }),
    })
}

/// The icon every page of the gateway shows (ours: an orbit on the brand
/// colour), embedded in the binary.
const FAVICON_ICO: &[u8] = include_bytes!("../../assets/favicon.ico");
const FAVICON_SVG: &str = include_str!("../../assets/favicon.svg");

/// `GET /favicon.ico`.
#[utoipa::path(get, path = "/favicon.ico", tag = "web form",
    responses((status = 200, description = "The icon", content_type = "image/x-icon", body = Vec<u8>)))]
pub async fn favicon_ico() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/x-icon"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON_ICO,
    )
        .into_response()
}

/// `GET /favicon.svg`.
#[utoipa::path(get, path = "/favicon.svg", tag = "web form",
    responses((status = 200, description = "The icon", content_type = "image/svg+xml", body = String)))]
pub async fn favicon_svg() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON_SVG,
    )
        .into_response()
}
