//! Identity with trust against a real PostgreSQL: which customer a message
//! resolves to, how far each link is proven, what a claim may not do, and
//! the attacks of a form that names someone else's email or phone.

use fte_domain::{Channel, Trust};
use fte_store::customers::IdentifierKind::{self, Email, Phone};
use fte_store::identity::{LinkChange, Presentation, Presented, Resolution, resolve};
use fte_store::links;
use fte_store::testing::fresh_database;
use sqlx::PgPool;
use uuid::Uuid;

const VICTIM_EMAIL: &str = "victim@example.com";
const VICTIM_PHONE: &str = "+34612345678";
const ATTACKER_EMAIL: &str = "attacker@example.net";
const ATTACKER_PHONE: &str = "+14155550100";

async fn message(
    pool: &PgPool,
    channel: Channel,
    identifiers: &[(IdentifierKind, &str, bool)],
    name: Option<&str>,
) -> Resolution {
    let presented: Vec<Presented<'_>> = identifiers
        .iter()
        .map(|(kind, value, proven)| Presented {
            kind: *kind,
            value,
            proven: *proven,
        })
        .collect();
    let reference = Uuid::new_v4().to_string();
    let mut tx = pool.begin().await.unwrap();
    let resolution = resolve(
        &mut tx,
        &Presentation {
            identifiers: &presented,
            channel,
            reference: &reference,
            name,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    resolution
}

async fn whatsapp(pool: &PgPool, phone: &str, name: &str) -> Resolution {
    message(pool, Channel::Whatsapp, &[(Phone, phone, true)], Some(name)).await
}

async fn gmail(pool: &PgPool, email: &str, name: &str) -> Resolution {
    message(pool, Channel::Email, &[(Email, email, true)], Some(name)).await
}

/// A web form: the email is proven only with a valid identity token.
async fn form(
    pool: &PgPool,
    email: &str,
    token: bool,
    phone: Option<&str>,
    name: &str,
) -> Resolution {
    let mut identifiers = vec![(Email, email, token)];
    if let Some(phone) = phone {
        identifiers.push((Phone, phone, false));
    }
    message(pool, Channel::WebForm, &identifiers, Some(name)).await
}

async fn link(pool: &PgPool, kind: IdentifierKind, value: &str) -> links::Link {
    links::find(pool, kind, value)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("a {} link exists", kind.as_str()))
}

async fn profile(pool: &PgPool, id: Uuid) -> (Option<String>, Option<String>, Option<String>) {
    sqlx::query_as("select name, email, phone from customers where id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn whatsapp_then_a_form_with_email_and_the_same_phone_is_one_customer() {
    let pool = fresh_database().await;
    let first = whatsapp(&pool, VICTIM_PHONE, "Maria Santos").await;
    assert!(first.created);
    assert_eq!(
        first.link_trust(Phone),
        Trust::Verified,
        "a signed WhatsApp founds a verified link"
    );

    let second = form(
        &pool,
        VICTIM_EMAIL,
        false,
        Some(VICTIM_PHONE),
        "Maria Santos",
    )
    .await;

    assert_eq!(
        second.customer_id, first.customer_id,
        "the phone's owner is found"
    );
    assert_eq!(
        link(&pool, Email, VICTIM_EMAIL).await.customer_id,
        first.customer_id
    );
    assert_eq!(
        second.link_trust(Email),
        Trust::Claimed,
        "a form without a token proves nothing"
    );
    assert_eq!(
        second.link_trust(Phone),
        Trust::Verified,
        "the claim leaves the verified link as it is"
    );
    assert_eq!(
        second.sender_trust(Phone),
        Trust::Claimed,
        "but the form's sender proved nothing"
    );
}

#[tokio::test]
async fn a_form_naming_the_victims_email_and_the_attackers_phone_cannot_capture_either() {
    let pool = fresh_database().await;
    let victim = gmail(&pool, VICTIM_EMAIL, "Maria Santos").await;
    assert_eq!(victim.link_trust(Email), Trust::Verified);

    let claim = form(
        &pool,
        VICTIM_EMAIL,
        false,
        Some(ATTACKER_PHONE),
        "Eve Attacker",
    )
    .await;
    assert_eq!(
        claim.customer_id, victim.customer_id,
        "claims still resolve to the customer"
    );
    assert_eq!(
        claim.sender_trust(Email),
        Trust::Claimed,
        "the submitter is not the proven owner"
    );
    assert_eq!(
        claim.link_trust(Email),
        Trust::Verified,
        "the victim's link stays verified"
    );
    let attached = link(&pool, Phone, ATTACKER_PHONE).await;
    assert!(
        !attached.verified && !attached.vouched,
        "a phone beside a claim is a bare claim"
    );
    assert_eq!(
        profile(&pool, victim.customer_id).await,
        (Some("Maria Santos".into()), Some(VICTIM_EMAIL.into()), None),
        "a claim never writes the verified profile"
    );

    let attacker = whatsapp(&pool, ATTACKER_PHONE, "Eve").await;

    assert_ne!(
        attacker.customer_id, victim.customer_id,
        "the attacker's WhatsApp is not the victim"
    );
    assert!(attacker.created);
    assert_eq!(
        attacker.link(Phone).unwrap().change,
        LinkChange::Displaced {
            from_customer: victim.customer_id
        }
    );
    assert_eq!(
        link(&pool, Phone, ATTACKER_PHONE).await.customer_id,
        attacker.customer_id
    );
    let events: Vec<String> = sqlx::query_scalar(
        "select action from identifier_events where customer_id = $1 order by created_at, action",
    )
    .bind(victim.customer_id)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(events.contains(&"displaced".to_owned()), "{events:?}");
}

#[tokio::test]
async fn a_form_naming_the_victims_phone_is_taken_back_by_the_victims_whatsapp() {
    let pool = fresh_database().await;
    let attacker = form(
        &pool,
        ATTACKER_EMAIL,
        false,
        Some(VICTIM_PHONE),
        "Eve Attacker",
    )
    .await;
    assert_eq!(
        link(&pool, Phone, VICTIM_PHONE).await.customer_id,
        attacker.customer_id
    );

    let victim = whatsapp(&pool, VICTIM_PHONE, "Maria Santos").await;

    assert_ne!(victim.customer_id, attacker.customer_id);
    assert_eq!(victim.link_trust(Phone), Trust::Verified);
    assert_eq!(
        profile(&pool, victim.customer_id).await.0.as_deref(),
        Some("Maria Santos")
    );
    // Even once the attacker proves their own email, the victim's phone is gone.
    let proven = gmail(&pool, ATTACKER_EMAIL, "Eve").await;
    assert_eq!(proven.customer_id, attacker.customer_id);
    let attacker_links = links::all_of_customer(&pool, attacker.customer_id)
        .await
        .unwrap();
    assert!(
        attacker_links
            .iter()
            .all(|l| l.identifier_value != VICTIM_PHONE)
    );
}

#[tokio::test]
async fn the_proof_of_a_founding_identifier_upgrades_it_and_replaces_claimed_profile_fields() {
    let pool = fresh_database().await;
    let claimed = form(&pool, VICTIM_EMAIL, false, None, "Someone Else").await;
    assert!(claimed.created);
    assert_eq!(claimed.link_trust(Email), Trust::Claimed);

    let proven = gmail(&pool, VICTIM_EMAIL, "Maria Santos").await;

    assert_eq!(proven.customer_id, claimed.customer_id);
    assert_eq!(proven.link(Email).unwrap().change, LinkChange::Upgraded);
    assert_eq!(proven.link_trust(Email), Trust::Verified);
    let stored = link(&pool, Email, VICTIM_EMAIL).await;
    assert_eq!(stored.trust_source, "gmail_authenticated");
    assert_eq!(
        profile(&pool, claimed.customer_id).await.0.as_deref(),
        Some("Maria Santos"),
        "the verified sender's name replaces the claimed one"
    );
    // A later claim cannot change it back.
    form(&pool, VICTIM_EMAIL, false, None, "Eve Attacker").await;
    assert_eq!(
        profile(&pool, claimed.customer_id).await.0.as_deref(),
        Some("Maria Santos")
    );
}

#[tokio::test]
async fn a_phone_vouched_for_by_a_token_verified_email_is_proven_by_its_whatsapp() {
    let pool = fresh_database().await;
    let first = form(
        &pool,
        VICTIM_EMAIL,
        true,
        Some(VICTIM_PHONE),
        "Maria Santos",
    )
    .await;
    assert_eq!(first.link_trust(Email), Trust::Verified);
    let phone = link(&pool, Phone, VICTIM_PHONE).await;
    assert!(
        !phone.verified && phone.vouched,
        "claimed, vouched for by the verified email"
    );

    let later = whatsapp(&pool, VICTIM_PHONE, "Maria").await;

    assert_eq!(later.customer_id, first.customer_id);
    assert_eq!(later.link(Phone).unwrap().change, LinkChange::Upgraded);
    assert_eq!(later.link_trust(Phone), Trust::Verified);
}

#[tokio::test]
async fn a_proven_email_joining_another_identifiers_customer_stays_claimed_there() {
    let pool = fresh_database().await;
    let whatsapp_customer = whatsapp(&pool, VICTIM_PHONE, "Maria Santos").await;

    let joined = form(
        &pool,
        VICTIM_EMAIL,
        true,
        Some(VICTIM_PHONE),
        "Maria Santos",
    )
    .await;
    assert_eq!(
        joined.customer_id, whatsapp_customer.customer_id,
        "the form joins the WhatsApp customer"
    );
    assert_eq!(
        joined.link_trust(Email),
        Trust::Claimed,
        "owning the email does not prove owning this customer"
    );
    assert!(link(&pool, Email, VICTIM_EMAIL).await.identifier_proven);

    let email = gmail(&pool, VICTIM_EMAIL, "Maria Santos").await;
    assert_eq!(
        email.customer_id, whatsapp_customer.customer_id,
        "its owner made the link: kept"
    );
    assert_eq!(email.link(Email).unwrap().change, LinkChange::Unchanged);
}

#[tokio::test]
async fn two_identifiers_of_two_customers_are_never_merged_by_a_message() {
    let pool = fresh_database().await;
    let by_email = gmail(&pool, VICTIM_EMAIL, "Maria").await;
    let by_phone = whatsapp(&pool, ATTACKER_PHONE, "Eve").await;

    let both = form(&pool, VICTIM_EMAIL, false, Some(ATTACKER_PHONE), "Eve").await;

    assert_eq!(both.customer_id, by_email.customer_id, "email first");
    assert_eq!(
        link(&pool, Phone, ATTACKER_PHONE).await.customer_id,
        by_phone.customer_id
    );
    assert_eq!(
        both.link_trust(Phone),
        Trust::Claimed,
        "someone else's link is a claim for this one"
    );
}

#[tokio::test]
async fn concurrent_first_messages_of_one_new_identifier_create_one_customer() {
    let pool = fresh_database().await;
    let runs = (0..6).map(|_| {
        let pool = pool.clone();
        tokio::spawn(async move { whatsapp(&pool, VICTIM_PHONE, "Maria").await.customer_id })
    });
    let ids: Vec<Uuid> = futures_ids(runs).await;
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    let customers: i64 = sqlx::query_scalar("select count(*) from customers")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(customers, 1, "the losers' empty customers are gone");
}

async fn futures_ids(handles: impl Iterator<Item = tokio::task::JoinHandle<Uuid>>) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for handle in handles {
        ids.push(handle.await.unwrap());
    }
    ids
}
