//! The OpenAPI document (utoipa) at `/openapi.json`, and `/docs`: an
//! interactive reference (Swagger UI) generated from that same document —
//! every operation with its parameters and schemas, the staff endpoints
//! marked with the staff key scheme, and "Try it out" against this gateway.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use crate::error::{ErrorBody, FieldError};
use crate::routes::{
    customers, escalations, form, staff, staff_reply, support, thread, ticket, webhooks, widget,
};

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
        ticket::ticket_status,
        thread::post_message,
        widget::config,
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
        widget::favicon_ico,
        widget::favicon_svg,
        crate::routes::probes::live,
        crate::routes::probes::health,
        crate::routes::probes::ready,
        crate::routes::dev::outbox,
        crate::routes::dev::outbox_page,
        crate::routes::probes::metrics,
    ),
    components(schemas(
        ErrorBody,
        FieldError,
        form::SubmitRequest,
        thread::FollowUpRequest,
        webhooks::GmailNotificationEvent,
        crate::routes::dev::Outbox,
        crate::local::OutboundRecord,
    )),
    modifiers(&StaffKeyScheme),
    tags(
        (name = "support", description = "The web form's endpoints (CORS-enabled): submit, the ticket's status and thread, follow-ups"),
        (name = "webhooks", description = "Verified provider webhooks"),
        (name = "staff", description = "Staff API (bearer key)"),
        (name = "web form", description = "The embeddable form"),
        (name = "operations", description = "Health, readiness and Prometheus metrics"),
    )
)]
pub struct ApiDoc;

/// `/docs`: Swagger UI over `/openapi.json` (the same document), served
/// from the binary. Its assets come from the `utoipa-swagger-ui` crate's
/// vendored Swagger UI, so the page loads nothing from another origin and
/// the build downloads nothing. Every operation can be tried from the page
/// ("Try it out"); staff endpoints show a lock and take the staff key under
/// "Authorize".
pub fn docs() -> SwaggerUi {
    SwaggerUi::new("/docs").url("/openapi.json", ApiDoc::openapi())
}
