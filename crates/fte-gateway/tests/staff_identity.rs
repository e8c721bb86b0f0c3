//! Staff identity: a key authenticates as its owner, every staff read and
//! write leaves an audit row under that owner, nobody writes under another's
//! name, and bursts — of guesses or of status reads — are cut off with 429.

use fte_testkit::gateway::{
    OTHER_STAFF_KEY, OTHER_STAFF_NAME, Options, STAFF_KEY, STAFF_NAME, TestApp, spawn_app,
    spawn_app_with,
};
use serde_json::{Value, json};
use uuid::Uuid;

async fn audit_rows(app: &TestApp) -> Vec<fte_store::audit::AuditRow> {
    fte_store::audit::recent(&app.pool, 1000).await.unwrap()
}

/// A body the operation at `path` accepts as far as its shape goes.
fn body_for(path: &str) -> Value {
    if path.ends_with("/reply") {
        json!({ "message": "We refunded the duplicate charge." })
    } else if path.ends_with("/resolve") {
        json!({ "resolution_notes": "Refunded." })
    } else if path.ends_with("/merge") {
        json!({ "customer_id": Uuid::new_v4() })
    } else {
        json!({})
    }
}

#[tokio::test]
async fn every_staff_operation_in_the_openapi_document_leaves_an_audit_row_under_the_keys_owner() {
    let app = spawn_app().await;
    let document = app.get("/openapi.json").await.json();
    let mut checked = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let staff_only = operation["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("staff_key").is_some()));
            if !staff_only {
                continue;
            }
            let id = Uuid::new_v4().to_string();
            let url = path
                .replace("{id}", &id)
                .replace("{conversation_id}", &id)
                .replace("{message_id}", &id)
                .replace("{identifier_id}", &id);
            let url = if url == "/customers/lookup" {
                "/customers/lookup?email=nobody@example.com".to_owned()
            } else {
                url
            };
            let before = audit_rows(&app).await.len();
            let request = match method.as_str() {
                "get" => app.client.get(app.url(&url)),
                "post" => app.client.post(app.url(&url)).json(&body_for(path)),
                other => panic!("{other} {path}: a staff method this test does not know"),
            };
            let answer = request.bearer_auth(STAFF_KEY).send().await.unwrap();
            let status = answer.status().as_u16();
            assert!(
                status < 500,
                "{method} {path} answered {status}: {}",
                answer.text().await.unwrap()
            );
            let rows = audit_rows(&app).await;
            assert_eq!(
                rows.len(),
                before + 1,
                "{method} {path} ({status}) writes exactly one audit row"
            );
            assert_eq!(rows[0].staff, STAFF_NAME, "{method} {path}");
            assert!(!rows[0].action.is_empty(), "{method} {path}");
            checked.push(format!("{method} {path}"));
        }
    }
    assert!(
        checked.len() >= 8,
        "the document lists the staff operations: {checked:?}"
    );
}

#[tokio::test]
async fn a_wrong_key_or_no_key_is_401_and_leaves_no_audit_row() {
    let app = spawn_app().await;
    for key in [None, Some("guessed-key"), Some("")] {
        let answer = app.get_as_staff("/escalations", key).await;
        assert_eq!(answer.status, 401, "{key:?}: {}", answer.text);
        assert_eq!(answer.json()["error"], "unauthorized");
    }
    assert!(audit_rows(&app).await.is_empty());
}

#[tokio::test]
async fn each_key_acts_as_its_own_owner_and_a_lookup_is_audited_by_customer_id_not_address() {
    let app = spawn_app().await;
    let submitted = app.submit(&fte_testkit::gateway::valid_form()).await;
    assert_eq!(submitted.status, 200, "{}", submitted.text);
    app.let_worker_take(1).await;

    let lookup = "/customers/lookup?email=maria.santos@example.com";
    let found = app.get_as_staff(lookup, Some(OTHER_STAFF_KEY)).await;
    assert_eq!(found.status, 200, "{}", found.text);
    let customer_id = found.json()["id"].as_str().unwrap().to_owned();

    let rows = audit_rows(&app).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].staff, OTHER_STAFF_NAME);
    assert_eq!(rows[0].action, "customer.lookup");
    assert_eq!(rows[0].target_type, "customer");
    assert_eq!(rows[0].target_id.as_deref(), Some(customer_id.as_str()));
    assert_eq!(rows[0].method.as_deref(), Some("GET"));
    assert_eq!(
        rows[0].route.as_deref(),
        Some("/customers/lookup"),
        "the route template, never the query"
    );
    assert_eq!(rows[0].status, Some(200));
    let stored: String = sqlx::query_scalar("select row_to_json(a)::text from staff_audit a")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(
        !stored.contains("maria") && !stored.contains("example.com"),
        "no customer data in the audit trail: {stored}"
    );
}

#[tokio::test]
async fn a_staff_burst_is_cut_off_with_429_json_and_retry_after_even_for_the_right_key() {
    let app = spawn_app_with(Options {
        vars: vec![("STAFF_RATE_LIMIT_PER_MINUTE", "5".into())],
        ..Options::default()
    })
    .await;
    for attempt in 0..5 {
        let guess = format!("guess-{attempt}");
        let answer = app.get_as_staff("/metrics/channels", Some(&guess)).await;
        assert_eq!(answer.status, 401, "guess {attempt}");
    }
    for key in [Some("guess-6"), Some(STAFF_KEY), None] {
        let answer = app.get_as_staff("/metrics/channels", key).await;
        assert_eq!(answer.status, 429, "{key:?}: {}", answer.text);
        assert_eq!(answer.json()["error"], "rate_limited");
        let wait: u64 = answer
            .header("retry-after")
            .expect("Retry-After")
            .parse()
            .unwrap();
        assert!((1..=60).contains(&wait), "Retry-After {wait}");
    }
    let answer = app.post_json("/escalations/x/assign", &json!({})).await;
    assert_eq!(answer.status, 429, "one budget over every staff endpoint");
    assert!(audit_rows(&app).await.is_empty());
}

#[tokio::test]
async fn the_public_status_page_is_rate_limited_per_client() {
    let app = spawn_app_with(Options {
        vars: vec![("STATUS_RATE_LIMIT_PER_MINUTE", "3".into())],
        ..Options::default()
    })
    .await;
    let path = format!("/support/ticket/{}", Uuid::new_v4());
    for _ in 0..3 {
        assert_eq!(app.get(&path).await.status, 404);
    }
    let limited = app.get(&path).await;
    assert_eq!(limited.status, 429, "{}", limited.text);
    assert_eq!(limited.json()["error"], "rate_limited");
    assert!(limited.header("retry-after").is_some());
    assert_eq!(
        app.submit(&fte_testkit::gateway::valid_form()).await.status,
        200,
        "the form has its own budget"
    );
}

#[tokio::test]
async fn an_audit_row_records_the_route_template_and_the_status_the_request_answered() {
    let app = spawn_app().await;
    let unknown = Uuid::new_v4();
    let answer = app
        .get_as_staff(&format!("/conversations/{unknown}"), Some(STAFF_KEY))
        .await;
    assert_eq!(answer.status, 404, "{}", answer.text);
    let rows = audit_rows(&app).await;
    assert_eq!(rows.len(), 1, "a read of nothing is still a read");
    assert_eq!(rows[0].staff, STAFF_NAME);
    assert_eq!(rows[0].method.as_deref(), Some("GET"));
    assert_eq!(rows[0].route.as_deref(), Some("/conversations/{id}"));
    assert_eq!(rows[0].status, Some(404));
}

#[tokio::test]
async fn a_key_cannot_write_under_another_staff_members_name() {
    let app = spawn_app().await;
    let answer = app
        .post_as_staff(
            &format!("/conversations/{}/reply", Uuid::new_v4()),
            &json!({ "message": "Refunded.", "staff": OTHER_STAFF_NAME }),
            Some(STAFF_KEY),
        )
        .await;
    assert_eq!(answer.status, 403, "{}", answer.text);
    assert_eq!(answer.json()["error"], "staff_mismatch");
    assert_eq!(answer.json()["fields"][0]["field"], "staff");
}
