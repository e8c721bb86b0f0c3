//! The OpenAPI document says what the server enforces: ids are UUIDs, text
//! fields carry their lengths, choices are enums, the lookup needs one of
//! two parameters, every route names how it is authenticated. schemathesis
//! (`scripts/test.sh`, the API contract stage) holds the server to it; these
//! tests hold the document to the rules schemathesis cannot guess.

use fte_testkit::gateway::{Options, STAFF_KEY, form_body, spawn_app, spawn_app_with};
use serde_json::Value;

async fn document() -> Value {
    let app = spawn_app().await;
    app.get("/openapi.json").await.json()
}

fn parameter<'a>(document: &'a Value, path: &str, method: &str, name: &str) -> &'a Value {
    document["paths"][path][method]["parameters"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("{method} {path} has the parameter {name}"))
}

#[tokio::test]
async fn every_id_in_a_path_is_documented_as_a_uuid_or_its_pattern() {
    let document = document().await;
    let mut seen = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for p in operation["parameters"].as_array().into_iter().flatten() {
                // A dead letter's id is its position in fte.dlq, not a UUID.
                if p["in"] == "path" && path == "/dlq/{id}" {
                    assert_eq!(
                        p["schema"]["pattern"],
                        fte_gateway::routes::dead_letters::ID_PATTERN,
                        "{method} {path}: {p}"
                    );
                } else if p["in"] == "path" {
                    assert_eq!(
                        p["schema"]["format"], "uuid",
                        "{method} {path} {}: {p}",
                        p["name"]
                    );
                    seen += 1;
                }
            }
        }
    }
    assert!(seen >= 10, "path ids checked: {seen}");
}

#[tokio::test]
async fn text_fields_carry_their_lengths_and_choices_their_enums() {
    let document = document().await;
    let schemas = &document["components"]["schemas"];
    let submit = &schemas["SubmitRequest"]["properties"];
    assert_eq!(submit["email"]["format"], "email");
    assert_eq!(submit["email"]["maxLength"], 254);
    assert_eq!(submit["name"]["minLength"], 2);
    assert_eq!(submit["subject"]["minLength"], 5);
    assert_eq!(submit["message"]["minLength"], 10);
    for field in ["name", "subject", "message"] {
        assert!(submit[field]["pattern"].is_string(), "{field}: {submit}");
    }
    let categories = &schemas["CategoryName"]["enum"];
    assert_eq!(
        categories,
        &serde_json::json!(["general", "technical", "billing", "feedback", "bug_report"])
    );
    assert_eq!(
        schemas["PriorityName"]["enum"],
        serde_json::json!(["low", "medium", "high"])
    );
    assert_eq!(
        schemas["ReplyRequest"]["properties"]["message"]["minLength"],
        1
    );
    assert_eq!(
        schemas["ResolveRequest"]["properties"]["resolution_notes"]["minLength"],
        1
    );
    assert_eq!(
        schemas["AssignRequest"]["properties"]["staff"]["minLength"],
        1
    );
    assert_eq!(
        schemas["MergeRequest"]["properties"]["customer_id"]["format"],
        "uuid"
    );
    assert_eq!(
        schemas["FollowUpRequest"]["properties"]["message"]["minLength"],
        1
    );
    assert_eq!(
        schemas["ValidationDetail"]["required"],
        serde_json::json!(["loc", "msg", "type"])
    );
}

#[tokio::test]
async fn the_lookup_requires_an_email_or_a_phone() {
    let document = document().await;
    let lookup = parameter(&document, "/customers/lookup", "get", "lookup");
    assert_eq!(lookup["in"], "query");
    assert_eq!(lookup["required"], true);
    assert_eq!(lookup["style"], "form");
    assert_eq!(lookup["explode"], true);
    let choices = lookup["schema"]["anyOf"].as_array().expect("anyOf");
    assert_eq!(choices.len(), 2, "{choices:?}");
    for (choice, field) in choices.iter().zip(["email", "phone"]) {
        assert_eq!(choice["required"], serde_json::json!([field]));
        assert_eq!(choice["properties"]["email"]["format"], "email");
        assert!(choice["properties"]["phone"]["pattern"].is_string());
    }
}

/// Every phone number the document's pattern admits is one the server
/// takes: schemathesis once generated `+6500000000`, which the pattern
/// allowed and the server refused with 422 (a national number of zeros).
/// Every one- and two-digit country code is tried with each first digit and
/// each length, in three digit fillings; the numbers the parser refuses
/// (no customer can have them) must be looked up as nobody (404), never
/// refused as malformed.
#[tokio::test]
async fn every_phone_the_lookup_documents_is_one_the_server_takes() {
    let app = spawn_app_with(Options {
        vars: vec![("STAFF_RATE_LIMIT_PER_MINUTE", "100000".to_owned())],
        ..Options::default()
    })
    .await;
    let document = app.get("/openapi.json").await.json();
    let lookup = parameter(&document, "/customers/lookup", "get", "lookup");
    let pattern = lookup["schema"]["anyOf"][1]["properties"]["phone"]["pattern"]
        .as_str()
        .expect("the phone pattern");
    let pattern = regex::Regex::new(pattern).expect("the pattern is a regular expression");
    let (mut admitted, mut unparsed) = (0, Vec::new());
    for code in 1..=99 {
        for first in 0..=9 {
            for len in 6..=13 {
                for filling in ["0", "9", "4821"] {
                    let rest: String = filling.chars().cycle().take(len - 1).collect();
                    let number = format!("+{code}{first}{rest}");
                    if !pattern.is_match(&number) {
                        continue;
                    }
                    admitted += 1;
                    if fte_domain::PhoneNumber::parse(&number).is_err() {
                        unparsed.push(number);
                    }
                }
            }
        }
    }
    assert!(admitted > 1_000, "the pattern admits numbers: {admitted}");
    unparsed.sort();
    unparsed.dedup();
    assert!(
        !unparsed.is_empty(),
        "the parser refuses some documented numbers"
    );
    for number in &unparsed {
        let query = form_body(&[("phone".to_owned(), number.clone())]);
        let answer = app
            .get_as_staff(&format!("/customers/lookup?{query}"), Some(STAFF_KEY))
            .await;
        assert_eq!(answer.status, 404, "{number}: {}", answer.text);
    }
    assert!(!pattern.is_match("+6500000000"));
    let malformed = app
        .get_as_staff("/customers/lookup?phone=call-me-maybe", Some(STAFF_KEY))
        .await;
    assert_eq!(malformed.status, 422, "{}", malformed.text);
}

#[tokio::test]
async fn every_webhook_and_staff_route_names_its_security_scheme() {
    let document = document().await;
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["staff_key"]["scheme"], "bearer");
    assert_eq!(schemes["twilio_signature"]["in"], "header");
    assert_eq!(schemes["twilio_signature"]["name"], "X-Twilio-Signature");
    assert_eq!(schemes["pubsub_oidc"]["bearerFormat"], "JWT");
    assert_eq!(schemes["pubsub_token"]["in"], "query");
    let security = |path: &str| document["paths"][path]["post"]["security"].clone();
    assert_eq!(
        security("/webhooks/whatsapp"),
        serde_json::json!([{ "twilio_signature": [] }])
    );
    assert_eq!(
        security("/webhooks/whatsapp/status"),
        serde_json::json!([{ "twilio_signature": [] }])
    );
    assert_eq!(
        security("/webhooks/gmail"),
        serde_json::json!([{ "pubsub_oidc": [] }, { "pubsub_token": [] }])
    );
}

#[tokio::test]
async fn every_documented_error_response_has_the_error_body() {
    let document = document().await;
    let mut seen = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                let json = &response["content"]["application/json"]["schema"]["$ref"];
                if status.starts_with('4') && json.is_string() {
                    assert_eq!(
                        json, "#/components/schemas/ErrorBody",
                        "{method} {path} {status}"
                    );
                    seen += 1;
                }
            }
        }
    }
    assert!(seen >= 30, "error responses checked: {seen}");
}

#[tokio::test]
async fn the_idempotency_key_is_documented_with_the_length_and_characters_it_needs() {
    let document = document().await;
    for path in ["/support/submit", "/support/ticket/{ticket_id}/messages"] {
        let key = parameter(&document, path, "post", "Idempotency-Key");
        assert_eq!(key["schema"]["minLength"], 16, "{path}: {key}");
        assert_eq!(key["schema"]["maxLength"], 255, "{path}: {key}");
        assert_eq!(key["schema"]["pattern"], "^[!-~]{16,255}$", "{path}: {key}");
    }
}

#[tokio::test]
async fn a_replay_names_exactly_one_selection_and_dead_letter_ids_their_pattern() {
    let document = document().await;
    let body = &document["components"]["schemas"]["ReplayRequest"]["oneOf"];
    let choices = body.as_array().expect("oneOf");
    assert_eq!(choices.len(), 3, "{body}");
    for choice in choices {
        assert_eq!(choice["additionalProperties"], false, "{choice}");
    }
    assert_eq!(
        choices[0]["properties"]["ids"]["items"]["pattern"],
        fte_gateway::routes::dead_letters::ID_PATTERN
    );
    assert_eq!(choices[0]["properties"]["ids"]["maxItems"], 100);
    assert_eq!(choices[1]["properties"]["since"]["format"], "date-time");
    assert_eq!(choices[1]["minProperties"], 1);
    assert_eq!(
        choices[2]["properties"]["all"]["enum"],
        serde_json::json!([true])
    );
    for (path, method) in [
        ("/dlq", "get"),
        ("/dlq/{id}", "get"),
        ("/dlq/replay", "post"),
        ("/outbox/failed", "get"),
        ("/outbox/{id}/retry", "post"),
    ] {
        assert_eq!(
            document["paths"][path][method]["security"],
            serde_json::json!([{ "staff_key": [] }]),
            "{method} {path}"
        );
    }
    let since = parameter(&document, "/dlq", "get", "since");
    assert_eq!(since["schema"]["format"], "date-time", "{since}");
}
