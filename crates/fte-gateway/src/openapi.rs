//! The OpenAPI document (utoipa) at `/openapi.json`, and `/docs`: an
//! interactive reference (Swagger UI) generated from that same document —
//! every operation with its parameters and schemas, the staff endpoints
//! marked with the staff key scheme, and "Try it out" against this gateway.

use utoipa::openapi::Required;
use utoipa::openapi::path::{ParameterBuilder, ParameterIn, ParameterStyle};
use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use crate::error::{ErrorBody, FieldError};
use crate::routes::{
    customers, escalations, form, staff, staff_reply, support, thread, ticket, webhooks, widget,
};

/// Adds the security schemes (the staff key, Twilio's signature, Gmail's
/// Pub/Sub push: an OIDC bearer token or the `?token=` secret) and the
/// parts of the document utoipa's attributes cannot say: the customer
/// lookup takes `email` or `phone`, at least one of them.
struct Completions;

impl Modify for Completions {
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
        components.add_security_scheme(
            "twilio_signature",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Twilio-Signature",
                "Twilio's HMAC-SHA1 of the public URL and the sorted form parameters, with \
                 TWILIO_AUTH_TOKEN (403 when it does not verify)",
            ))),
        );
        components.add_security_scheme(
            "pubsub_oidc",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "The OIDC token Google's Pub/Sub push signs for GMAIL_PUBSUB_AUDIENCE \
                         and GMAIL_PUBSUB_SERVICE_ACCOUNT",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "pubsub_token",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "token",
                "The push endpoint's shared secret (GMAIL_PUBSUB_PUSH_TOKEN), when token mode \
                 is configured",
            ))),
        );
        lookup_takes_email_or_phone(openapi);
        replay_takes_one_selection(openapi);
    }
}

/// `POST /dlq/replay`'s body: exactly one of `ids`, a time range or
/// `all: true`, each an object with nothing else in it. Built here because
/// the Rust type is one struct of optional fields.
fn replay_takes_one_selection(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{AdditionalProperties, ArrayBuilder, OneOfBuilder, Schema};
    let closed = || Some(AdditionalProperties::<Schema>::FreeForm(false));
    let time = |description: &str| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some(description))
    };
    let by_ids = ObjectBuilder::new()
        .property(
            "ids",
            ArrayBuilder::new()
                .items(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .pattern(Some(crate::routes::dead_letters::ID_PATTERN))
                        .examples(["0-42"]),
                )
                .min_items(Some(1))
                .max_items(Some(crate::routes::dlq_replay::MAX_REPLAY_IDS))
                .description(Some("Dead letter ids, `<partition>-<offset>` in fte.dlq")),
        )
        .required("ids")
        .additional_properties(closed());
    let by_time = ObjectBuilder::new()
        .property(
            "since",
            time("Those dead-lettered at or after this time (RFC 3339)"),
        )
        .property(
            "until",
            time("Those dead-lettered before this time (RFC 3339)"),
        )
        .min_properties(Some(1))
        .additional_properties(closed());
    let all = ObjectBuilder::new()
        .property(
            "all",
            ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .enum_values(Some([true]))
                .description(Some("Every dead letter not replayed yet")),
        )
        .required("all")
        .additional_properties(closed());
    let schema = OneOfBuilder::new()
        .item(by_ids)
        .item(by_time)
        .item(all)
        .description(Some(
            "Exactly one of: `ids`; a time range (`since` and/or `until`); `all: true`",
        ))
        .build();
    openapi
        .components
        .get_or_insert_with(Default::default)
        .schemas
        .insert("ReplayRequest".to_owned(), RefOr::T(Schema::OneOf(schema)));
}

/// `GET /customers/lookup`: one query object (`email`, `phone`) of which
/// at least one is required; `email` wins when both are given. Built here
/// because a choice between parameters has no attribute.
fn lookup_takes_email_or_phone(openapi: &mut utoipa::openapi::OpenApi) {
    let Some(get) = openapi
        .paths
        .paths
        .get_mut("/customers/lookup")
        .and_then(|item| item.get.as_mut())
    else {
        return;
    };
    let with_required = |field: &str| {
        ObjectBuilder::new()
            .property(
                "email",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
                    .max_length(Some(254))
                    .examples(["maria.santos@example.com"]),
            )
            .property(
                "phone",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(crate::routes::staff::LOOKUP_PHONE_PATTERN))
                    .description(Some("International form: + country code and number"))
                    .examples(["+34612345678"]),
            )
            .required(field)
    };
    let parameter = ParameterBuilder::new()
        .name("lookup")
        .parameter_in(ParameterIn::Query)
        .required(Required::True)
        .style(Some(ParameterStyle::Form))
        .explode(Some(true))
        .description(Some(
            "`email` or `phone` as query parameters (at least one; `email` wins when both \
             are given)",
        ))
        .schema(Some(
            AnyOfBuilder::new()
                .item(with_required("email"))
                .item(with_required("phone")),
        ))
        .build();
    get.parameters = Some(vec![parameter]);
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
        crate::routes::dead_letters::list,
        crate::routes::dead_letters::show,
        crate::routes::dlq_replay::replay,
        crate::routes::failed_replies::list,
        crate::routes::failed_replies::retry,
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
        crate::error::ValidationDetail,
        escalations::EscalationFilter,
        form::SubmitRequest,
        thread::FollowUpRequest,
        webhooks::GmailNotificationEvent,
        crate::routes::dev::Outbox,
        crate::local::OutboundRecord,
    )),
    modifiers(&Completions),
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
