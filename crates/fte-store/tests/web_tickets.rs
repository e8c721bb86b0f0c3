//! Web form tickets stored one by one and as a batch (the gateway's group
//! commit) against a real PostgreSQL: both resolve customers the same way.

use fte_domain::{Category, EmailAddress, PhoneNumber, Priority, TicketId};
use fte_store::testing::fresh_database;
use fte_store::tickets::{self, NewWebTicket};
use uuid::Uuid;

fn ticket<'a>(
    email: &'a EmailAddress,
    name: &'a str,
    phone: Option<&'a PhoneNumber>,
) -> NewWebTicket<'a> {
    NewWebTicket {
        ticket_id: TicketId::new(),
        email,
        email_verified: false,
        name,
        phone,
        subject: "Cannot export my board",
        message: "The CSV export button does nothing.",
        category: Category::Technical,
        priority: Priority::Medium,
    }
}

#[tokio::test]
async fn a_batch_shares_customers_by_address_and_keeps_existing_ones() {
    let pool = fresh_database().await;
    let known = EmailAddress::parse("known@example.com").unwrap();
    let new = EmailAddress::parse("New.Person@Example.com").unwrap();
    let phone = PhoneNumber::parse("+34612345678").unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let earlier = tickets::create_web_ticket(&mut conn, &ticket(&known, "Known Person", None))
        .await
        .unwrap();

    let batch = [
        ticket(&new, "New Person", Some(&phone)),
        ticket(&known, "Someone Else", Some(&phone)),
        ticket(&new, "Another Name", None),
    ];
    let mut tx = pool.begin().await.unwrap();
    let created = tickets::create_web_tickets(&mut tx, &batch).await.unwrap();
    tx.commit().await.unwrap();

    assert_eq!(created.len(), 3);
    for (row, input) in created.iter().zip(&batch) {
        assert_eq!(row.ticket_id, input.ticket_id, "results are in input order");
    }
    assert_eq!(
        created[1].customer_id, earlier.customer_id,
        "an existing customer is found"
    );
    assert_eq!(
        created[0].customer_id, created[2].customer_id,
        "one address, one customer"
    );
    assert_ne!(created[0].customer_id, created[1].customer_id);
    assert_eq!(
        created[1].conversation_id, earlier.conversation_id,
        "a submission continues the customer's active conversation"
    );
    assert_eq!(
        created[0].conversation_id, created[2].conversation_id,
        "one customer's submissions in a batch share a new conversation"
    );
    let (name, stored_phone): (String, Option<String>) =
        sqlx::query_as("select name, phone from customers where id = $1")
            .bind(created[0].customer_id.0)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(name, "New Person", "the first submission's name is kept");
    assert_eq!(stored_phone.as_deref(), Some("+34612345678"));
    let known_name: String = sqlx::query_scalar("select name from customers where id = $1")
        .bind(earlier.customer_id.0)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        known_name, "Known Person",
        "an existing name is never overwritten"
    );
    for (sql, wanted) in [
        ("select count(*) from customers", 2_i64),
        (
            "select count(*) from customer_identifiers where identifier_type = 'email'",
            2,
        ),
        ("select count(*) from tickets where status = 'open'", 4),
        // Each customer's active conversation is continued.
        ("select count(*) from conversations", 2),
        ("select count(*) from messages where role = 'customer'", 4),
    ] {
        let count: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        assert_eq!(count, wanted, "{sql}");
    }
    // The message of each ticket is keyed by the ticket id in its conversation.
    for row in &created {
        let conversation: Uuid = sqlx::query_scalar(
            "select conversation_id from messages where channel_message_id = $1",
        )
        .bind(row.ticket_id.to_string())
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(conversation, row.conversation_id.as_uuid());
    }
}

#[tokio::test]
async fn events_of_a_batch_are_enqueued_in_input_order() {
    let pool = fresh_database().await;
    let payloads = [serde_json::json!({"n": 1}), serde_json::json!({"n": 2})];
    let ids = fte_store::outbox::enqueue_events(
        &pool,
        &[("fte.a", "k1", &payloads[0]), ("fte.b", "k2", &payloads[1])],
    )
    .await
    .unwrap();
    assert_eq!(ids.len(), 2);
    for (id, (topic, n)) in ids.iter().zip([("fte.a", 1), ("fte.b", 2)]) {
        let (stored_topic, payload): (String, serde_json::Value) =
            sqlx::query_as("select topic, payload from event_outbox where id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(stored_topic, topic);
        assert_eq!(payload["n"], n);
    }
}

/// A customer who wrote on WhatsApp first (a verified phone link).
async fn whatsapp_customer(pool: &sqlx::PgPool, phone: &str, name: &str) -> Uuid {
    use fte_store::customers::IdentifierKind;
    use fte_store::identity::{Presentation, Presented, resolve};
    let mut tx = pool.begin().await.unwrap();
    let resolution = resolve(
        &mut tx,
        &Presentation {
            identifiers: &[Presented {
                kind: IdentifierKind::Phone,
                value: phone,
                proven: true,
            }],
            channel: fte_domain::Channel::Whatsapp,
            reference: "SM1",
            name: Some(name),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    resolution.customer_id
}

#[tokio::test]
async fn a_form_with_the_phone_of_a_whatsapp_customer_joins_them_without_touching_their_profile() {
    let pool = fresh_database().await;
    let phone = PhoneNumber::parse("+34612345678").unwrap();
    let customer = whatsapp_customer(&pool, phone.as_str(), "Maria Santos").await;
    let email = EmailAddress::parse("maria@example.com").unwrap();
    let other = EmailAddress::parse("someone@example.com").unwrap();

    let mut tx = pool.begin().await.unwrap();
    let created = tickets::create_web_tickets(
        &mut tx,
        &[
            ticket(&email, "Eve Claims", Some(&phone)),
            ticket(&email, "Eve Again", None),
            ticket(&other, "Someone", Some(&phone)),
        ],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    assert_eq!(
        created[0].customer_id.0, customer,
        "the phone's owner is found"
    );
    assert_eq!(
        created[1].customer_id.0, customer,
        "the email now leads there too"
    );
    assert_eq!(
        created[2].customer_id.0, customer,
        "any claim naming the phone resolves to its owner (and reveals nothing: it is a claim)"
    );
    let claimed_emails: i64 = sqlx::query_scalar(
        "select count(*) from customer_identifiers
         where customer_id = $1 and identifier_type = 'email' and not verified",
    )
    .bind(customer)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(claimed_emails, 2);
    let (name, profile_email): (String, Option<String>) =
        sqlx::query_as("select name, email from customers where id = $1")
            .bind(customer)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        name, "Maria Santos",
        "a claim never writes a verified profile"
    );
    assert_eq!(profile_email, None);
    let trusts: Vec<(Option<String>, bool)> = sqlx::query_as(
        "select m.sender_trust, m.sender_identifier_id = i.id from messages m
         join customer_identifiers i on i.identifier_type = 'email'
              and i.identifier_value = 'maria@example.com'
         where m.channel_message_id = any($1) order by m.channel_message_id",
    )
    .bind(vec![
        created[0].ticket_id.to_string(),
        created[1].ticket_id.to_string(),
    ])
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        trusts,
        vec![(Some("claimed".into()), true); 2],
        "each message records its sender"
    );
}

#[tokio::test]
async fn a_token_verified_email_founds_a_verified_customer_and_vouches_for_its_phone() {
    let pool = fresh_database().await;
    let email = EmailAddress::parse("maria@example.com").unwrap();
    let phone = PhoneNumber::parse("+34612345678").unwrap();
    let mut proven = ticket(&email, "Maria Santos", Some(&phone));
    proven.email_verified = true;

    let mut tx = pool.begin().await.unwrap();
    let created = tickets::create_web_tickets(&mut tx, &[proven])
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let (verified, trust_source): (bool, String) = sqlx::query_as(
        "select verified, trust_source from customer_identifiers where identifier_type = 'email'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(verified);
    assert_eq!(trust_source, "web_identity_token");
    let (phone_verified, vouched): (bool, bool) = sqlx::query_as(
        "select verified, vouched from customer_identifiers where identifier_type = 'phone'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(!phone_verified && vouched);
    let sender_trust: String =
        sqlx::query_scalar("select sender_trust from messages where channel_message_id = $1")
            .bind(created[0].ticket_id.to_string())
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(sender_trust, "verified");
}
