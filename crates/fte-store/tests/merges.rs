//! Staff merges and unlinks against a real PostgreSQL: what moves, what a
//! merged customer's lookups return, and the merges that are refused.

use fte_domain::Channel;
use fte_store::customers::IdentifierKind::{Email, Phone};
use fte_store::identity::{Presentation, Presented, resolve};
use fte_store::merges::{self, MergeError};
use fte_store::testing::fresh_database;
use fte_store::{conversations, links};
use sqlx::PgPool;
use uuid::Uuid;

async fn customer_by(pool: &PgPool, channel: Channel, presented: Presented<'_>) -> Uuid {
    let mut tx = pool.begin().await.unwrap();
    let resolution = resolve(
        &mut tx,
        &Presentation {
            identifiers: &[presented],
            channel,
            reference: "ref-1",
            name: Some("Maria Santos"),
        },
    )
    .await
    .unwrap();
    conversations::start_conversation(&mut *tx, resolution.customer_id, channel.as_str())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    resolution.customer_id
}

/// Maria's proven email (a Gmail message) resolved, with a conversation.
async fn maria_by_email(pool: &PgPool) -> Uuid {
    let email = Presented {
        kind: Email,
        value: "maria@example.com",
        proven: true,
    };
    customer_by(pool, Channel::Email, email).await
}

/// Maria's proven phone (a signed WhatsApp message) resolved, with a
/// conversation.
async fn maria_by_phone(pool: &PgPool) -> Uuid {
    let phone = Presented {
        kind: Phone,
        value: "+34612345678",
        proven: true,
    };
    customer_by(pool, Channel::Whatsapp, phone).await
}

async fn two_customers(pool: &PgPool) -> (Uuid, Uuid) {
    let by_email = maria_by_email(pool).await;
    let by_phone = maria_by_phone(pool).await;
    (by_email, by_phone)
}

async fn merge(pool: &PgPool, target: Uuid, source: Uuid) -> Result<merges::Merged, MergeError> {
    let mut tx = pool.begin().await.unwrap();
    let merged = merges::merge(&mut tx, target, source, Some("Ana Ruiz")).await;
    if merged.is_ok() {
        tx.commit().await.unwrap();
    }
    merged
}

#[tokio::test]
async fn a_merge_moves_links_and_conversations_and_old_ids_find_the_survivor() {
    let pool = fresh_database().await;
    let (survivor, absorbed) = two_customers(&pool).await;

    let merged = merge(&pool, survivor, absorbed).await.unwrap();

    assert_eq!(merged.identifiers_moved, 1);
    assert_eq!(merged.conversations_moved, 1);
    let phone = links::find(&pool, Phone, "+34612345678")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        phone.customer_id, survivor,
        "lookups by the phone return the survivor"
    );
    assert!(phone.verified, "a merge keeps each link's trust");
    assert_eq!(
        merges::surviving(&pool, absorbed).await.unwrap(),
        Some(survivor)
    );
    assert_eq!(
        merges::surviving(&pool, survivor).await.unwrap(),
        Some(survivor)
    );
    assert_eq!(
        merges::surviving(&pool, Uuid::new_v4()).await.unwrap(),
        None
    );
    assert_eq!(
        merges::merged_into(&pool, survivor).await.unwrap(),
        vec![absorbed]
    );
    let conversations: i64 =
        sqlx::query_scalar("select count(*) from conversations where customer_id = $1")
            .bind(survivor)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(conversations, 2);
    let (phone_on_profile, merged_by): (Option<String>, Option<String>) = sqlx::query_as(
        "select c.phone, m.merged_by from customers c
         join customer_merges m on m.target_customer_id = c.id where c.id = $1",
    )
    .bind(survivor)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        phone_on_profile.as_deref(),
        Some("+34612345678"),
        "empty fields are filled"
    );
    assert_eq!(merged_by.as_deref(), Some("Ana Ruiz"));

    // The next message from the absorbed customer's phone lands on the survivor.
    let again = maria_by_phone(&pool).await;
    assert_eq!(again, survivor);
}

#[tokio::test]
async fn merges_into_itself_of_a_merged_customer_and_of_unknown_ids_are_refused() {
    let pool = fresh_database().await;
    let (a, b) = two_customers(&pool).await;
    let unknown = Uuid::new_v4();

    assert!(matches!(
        merge(&pool, a, a).await,
        Err(MergeError::SameCustomer)
    ));
    assert!(matches!(
        merge(&pool, unknown, a).await,
        Err(MergeError::UnknownTarget)
    ));
    assert!(matches!(
        merge(&pool, a, unknown).await,
        Err(MergeError::UnknownSource)
    ));
    merge(&pool, a, b).await.unwrap();
    assert!(
        matches!(merge(&pool, a, b).await, Err(MergeError::SourceMerged(into)) if into == a),
        "merging a merged customer again"
    );
    assert!(
        matches!(merge(&pool, b, a).await, Err(MergeError::TargetMerged(into)) if into == a),
        "merging into a tombstone"
    );
}

#[tokio::test]
async fn an_unlinked_identifier_resolves_as_new_and_leaves_the_profile() {
    let pool = fresh_database().await;
    let (customer, _) = two_customers(&pool).await;
    let email = links::find(&pool, Email, "maria@example.com")
        .await
        .unwrap()
        .unwrap();

    let mut tx = pool.begin().await.unwrap();
    let wrong = links::unlink(&mut tx, Uuid::new_v4(), email.id, Some("Ana Ruiz"))
        .await
        .unwrap();
    assert!(wrong.is_none(), "another customer's link is not unlinked");
    let removed = links::unlink(&mut tx, customer, email.id, Some("Ana Ruiz"))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    assert_eq!(removed.map(|l| l.id), Some(email.id));
    let profile_email: Option<String> =
        sqlx::query_scalar("select email from customers where id = $1")
            .bind(customer)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        profile_email, None,
        "the profile no longer shows the address"
    );
    let next = maria_by_email(&pool).await;
    assert_ne!(next, customer);
    let (action, reference): (String, Option<String>) = sqlx::query_as(
        "select action, reference from identifier_events
         where customer_id = $1 and action = 'unlinked'",
    )
    .bind(customer)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (action.as_str(), reference.as_deref()),
        ("unlinked", Some("Ana Ruiz"))
    );
}

/// A staff unlink while a turn of the same person is finishing: the turn
/// holds its identifier's lock, so the unlink queues behind it instead of
/// taking the link's row first (deleting a link touches the person's
/// messages through their `sender_identifier_id`, which the turn is
/// updating; the two once deadlocked and the staff call answered 500).
#[tokio::test]
async fn an_unlink_waits_for_a_turn_of_the_same_identifier_to_finish() {
    let pool = fresh_database().await;
    let customer = maria_by_email(&pool).await;
    let email = links::find(&pool, Email, "maria@example.com")
        .await
        .unwrap()
        .unwrap();

    let mut turn = pool.begin().await.unwrap();
    links::serialise_identifiers(&mut turn, &[(Email, "maria@example.com")])
        .await
        .unwrap();

    let unlink = tokio::spawn({
        let pool = pool.clone();
        async move {
            let mut tx = pool.begin().await.unwrap();
            let removed = links::unlink(&mut tx, customer, email.id, Some("Ana Ruiz"))
                .await
                .unwrap();
            tx.commit().await.unwrap();
            removed.map(|l| l.id)
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!unlink.is_finished(), "the unlink waits for the turn");
    let still_linked: bool =
        sqlx::query_scalar("select exists (select 1 from customer_identifiers where id = $1)")
            .bind(email.id)
            .fetch_one(&mut *turn)
            .await
            .unwrap();
    assert!(still_linked, "nothing was removed under the turn");
    turn.commit().await.unwrap();

    assert_eq!(unlink.await.unwrap(), Some(email.id));
}
