//! The event relay against a fresh database: events queued for later wait,
//! and a slow broker holds no database connection while it publishes.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use fte_store::event_outbox::{QueuedEvent, queue_event};
use fte_testkit::worker::count;
use fte_worker::events::{EventSink, relay_pending};

/// A broker that takes every event only once the gate opens.
struct SlowBroker {
    gate: tokio::sync::Semaphore,
    arrived: tokio::sync::Notify,
}

#[async_trait]
impl EventSink for SlowBroker {
    async fn publish(
        &self,
        _topic: &str,
        _key: &str,
        _payload: &[u8],
        _headers: &[(&str, &str)],
    ) -> Result<(), String> {
        self.arrived.notify_one();
        let _permit = self.gate.acquire().await.map_err(|e| e.to_string())?;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_broker_holds_no_connection_while_the_relay_publishes() {
    let fresh = fte_store::testing::fresh_database().await;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(2))
        .connect_with(fresh.connect_options().as_ref().clone())
        .await
        .unwrap();
    for i in 0..3 {
        fte_store::outbox::enqueue_event(
            &pool,
            "fte.metrics",
            &format!("k{i}"),
            &serde_json::json!({ "n": i }),
        )
        .await
        .unwrap();
    }
    let broker = Arc::new(SlowBroker {
        gate: tokio::sync::Semaphore::new(0),
        arrived: tokio::sync::Notify::new(),
    });
    let relay = {
        let (pool, broker) = (pool.clone(), broker.clone());
        tokio::spawn(async move { relay_pending(&pool, broker.as_ref(), 10).await })
    };
    broker.arrived.notified().await;

    // The broker still holds the first event; a released connection may
    // take a moment to be back in the pool.
    let mut in_use = usize::MAX;
    for _ in 0..50 {
        in_use = pool.size() as usize - pool.num_idle();
        if in_use == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(in_use, 0, "no connection is held while the broker thinks");
    // A second relay meanwhile finds every event claimed: no double publish.
    let second = relay_pending(&pool, &fte_testkit::worker::RecordingEvents::default(), 10)
        .await
        .unwrap();
    assert_eq!(second, 0, "the first relay's lease keeps the events");

    broker.gate.add_permits(10);
    assert_eq!(relay.await.unwrap().unwrap(), 3);
    assert_eq!(count(&pool, "select count(*) from event_outbox").await, 0);
}

#[tokio::test]
async fn an_event_queued_for_later_waits_until_its_time() {
    let pool = fte_store::testing::fresh_database().await;
    let later = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    queue_event(
        &pool,
        &QueuedEvent {
            topic: "fte.tickets.incoming",
            key: "k",
            payload: &serde_json::json!({ "n": 1 }),
            headers: &[("h", "v")],
            available_at: Some(later),
        },
    )
    .await
    .unwrap();
    let sink = fte_testkit::worker::RecordingEvents::default();

    assert_eq!(relay_pending(&pool, &sink, 10).await.unwrap(), 0, "not yet");
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(relay_pending(&pool, &sink, 10).await.unwrap(), 1, "now due");
    assert_eq!(
        sink.headers.lock().unwrap()[0],
        [("h".to_owned(), "v".to_owned())],
        "headers travel with the event"
    );
}

/// A broker that refuses one topic until told otherwise and records what it
/// took.
#[derive(Default)]
struct PickyBroker {
    refused: std::sync::Mutex<Option<String>>,
    took: std::sync::Mutex<Vec<String>>,
}

#[async_trait]
impl EventSink for PickyBroker {
    async fn publish(
        &self,
        topic: &str,
        _key: &str,
        _payload: &[u8],
        _headers: &[(&str, &str)],
    ) -> Result<(), String> {
        if self.refused.lock().unwrap().as_deref() == Some(topic) {
            return Err("topic unavailable".into());
        }
        self.took.lock().unwrap().push(topic.to_owned());
        Ok(())
    }
}

#[tokio::test]
async fn an_event_for_two_topics_stays_until_both_took_it() {
    let pool = fte_store::testing::fresh_database().await;
    fte_store::outbox::enqueue_events(
        &pool,
        "fte.tickets.incoming",
        &["fte.channels.web.inbound"],
        &[("k", r#"{"n": 1}"#)],
    )
    .await
    .unwrap();
    let broker = PickyBroker::default();
    *broker.refused.lock().unwrap() = Some("fte.channels.web.inbound".into());

    assert_eq!(relay_pending(&pool, &broker, 10).await.unwrap(), 0);
    assert_eq!(
        count(
            &pool,
            "select count(*) from event_outbox where attempts = 1 and available_at <= now()"
        )
        .await,
        1,
        "the event stays, its failure recorded and due again"
    );

    *broker.refused.lock().unwrap() = None;
    assert_eq!(relay_pending(&pool, &broker, 10).await.unwrap(), 1);
    assert_eq!(count(&pool, "select count(*) from event_outbox").await, 0);
    assert_eq!(
        *broker.took.lock().unwrap(),
        [
            "fte.tickets.incoming",
            "fte.tickets.incoming",
            "fte.channels.web.inbound"
        ],
        "the first topic took it twice (consumers deduplicate), the second once"
    );
}
