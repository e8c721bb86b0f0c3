//! Worker benchmark: prints figures, asserts nothing.
//!
//! Builds the real worker (`Worker::build`: offline agent over the local
//! MiniLM model and hybrid search, recording senders, Kafka publisher) on a
//! fresh database with the knowledge base imported and an embedded broker,
//! then measures:
//!
//! 1. overhead beside the model: `handle_event` called one message at a time,
//!    each call's time minus the agent's own time for that call (customer
//!    resolution, conversation and ticket state, the transaction, the reply
//!    and event outboxes);
//! 2. throughput: inbound messages (the sample tickets' texts, each from a
//!    different customer, across the three channels) published to
//!    `fte.tickets.incoming` and consumed by one worker (`startup::run`, the
//!    code the binary runs) until every one is stored; once with the offline
//!    agent (a fifth of the messages: it is bound by the embedding model),
//!    and once with an agent that answers at once, which is the worker's own
//!    ceiling beside any model.
//!
//!   cargo run --release -p fte-worker --example worker_bench -- [messages=1000]
//!
//! Run it from the repository root with PostgreSQL up (`scripts/pg.sh start`)
//! and the model installed (`scripts/models.sh`).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::Utc;
use fte_bus::{Bootstrap, KafkaPublisher, topics};
use fte_domain::events::InboundSender;
use fte_domain::{Channel, EventEnvelope, InboundMessage, format};
use fte_runtime::Profile;
use fte_runtime::settings::{AgentSettings, KafkaSettings, Lookup};
use fte_worker::agent::{AgentOutcome, AgentRequest, AgentUnavailable, ReplyAgent};
use fte_worker::startup::{self, Worker};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

#[derive(Deserialize)]
struct Samples {
    tickets: Vec<Sample>,
}

#[derive(Deserialize)]
struct Sample {
    channel: String,
    subject: Option<String>,
    message: String,
}

/// Answers every message at once with a fixed text: no model at all.
struct InstantAgent;

#[async_trait]
impl ReplyAgent for InstantAgent {
    async fn respond(&self, request: &AgentRequest) -> Result<AgentOutcome, AgentUnavailable> {
        let reference = request.ticket_id.to_string();
        let recipient = format::Recipient {
            first_name: request.customer_first_name.as_deref(),
            ticket_reference: &reference,
        };
        Ok(AgentOutcome {
            reply: format::format_reply(
                request.channel,
                recipient,
                "Open Settings, then Export, and choose CSV.",
            ),
            escalation: None,
            resolve_ticket: false,
            ticket_category: None,
            sentiment: 0.0,
            usage: fte_domain::TokenUsage::ZERO,
            latency_ms: 0,
            tool_calls: serde_json::json!([]),
        })
    }
}

/// Times every call of the wrapped agent.
struct TimedAgent {
    inner: Arc<dyn ReplyAgent>,
    last: Mutex<Duration>,
}

#[async_trait]
impl ReplyAgent for TimedAgent {
    async fn respond(&self, request: &AgentRequest) -> Result<AgentOutcome, AgentUnavailable> {
        let started = Instant::now();
        let outcome = self.inner.respond(request).await;
        *self.last.lock().expect("not poisoned") = started.elapsed();
        outcome
    }
}

fn event(sample: &Sample, n: usize, run: &str) -> EventEnvelope<InboundMessage> {
    let channel = match sample.channel.as_str() {
        "email" => Channel::Email,
        "whatsapp" => Channel::Whatsapp,
        _ => Channel::WebForm,
    };
    let sender = match channel {
        Channel::Whatsapp => InboundSender {
            email: None,
            phone: Some(format!("+1555{:07}", n)),
            name: None,
            ..InboundSender::default()
        },
        _ => InboundSender {
            email: Some(format!("bench.{run}.{n}@example.com")),
            phone: None,
            name: Some("Bench Customer".to_owned()),
            ..InboundSender::default()
        },
    };
    EventEnvelope::new(
        "ticket.inbound",
        Utc::now(),
        InboundMessage {
            channel,
            channel_message_id: format!("bench-{run}-{n}"),
            sender,
            subject: match channel {
                Channel::Whatsapp => None,
                _ => sample.subject.clone(),
            },
            content: sample.message.clone(),
            received_at: Utc::now(),
            ticket_id: None,
            metadata: serde_json::json!({}),
        },
    )
}

struct Throughput {
    processed: i64,
    busy: Duration,
}

/// Publishes `messages` inbound events, runs `worker` until all of them are
/// stored, and stops it.
async fn throughput(
    pool: &fte_store::PgPool,
    bootstrap: &Bootstrap,
    worker: Worker,
    samples: &Samples,
    run: &str,
    messages: usize,
) -> anyhow::Result<Throughput> {
    let publisher = KafkaPublisher::new(bootstrap)?;
    let before = count(pool, INBOUND).await;
    for n in 0..messages {
        let sample = &samples.tickets[n % samples.tickets.len()];
        let event = event(sample, n, run);
        let payload = serde_json::to_vec(&event)?;
        publisher
            .publish(
                topics::TICKETS_INCOMING,
                &event.payload.partition_key(),
                &payload,
                &[],
            )
            .await?;
    }
    let shutdown = CancellationToken::new();
    let started = Instant::now();
    let running = tokio::spawn(startup::run(worker, shutdown.clone()));
    let wanted = before + i64::try_from(messages)?;
    let deadline = Instant::now() + Duration::from_secs(900);
    let mut first_at = None;
    loop {
        let done = count(pool, INBOUND).await;
        if first_at.is_none() && done > before {
            first_at = Some(started.elapsed());
        }
        if done >= wanted || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Measured from the first stored message: the group join is start-up,
    // not throughput.
    let busy = started.elapsed() - first_at.unwrap_or_default();
    let processed = count(pool, INBOUND).await - before;
    shutdown.cancel();
    let _ = running.await;
    Ok(Throughput { processed, busy })
}

const INBOUND: &str = "select count(*) from messages where direction = 'inbound'";

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

async fn count(pool: &fte_store::PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .expect("count query")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let messages: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(1000);
    let samples: Samples =
        serde_json::from_str(&std::fs::read_to_string("context/sample-tickets.json")?)?;
    let pool = fte_store::testing::fresh_database().await;

    // The knowledge base, as `fte kb import` stores it.
    let agent_settings = AgentSettings::from_lookup(&Lookup::env())?;
    let embedder = fte_agent::embedder_from_settings(&agent_settings)?;
    let started = Instant::now();
    let report =
        fte_agent::import_knowledge_base(&pool, embedder.as_ref(), Path::new("kb"), |_, _| {})
            .await?;
    eprintln!(
        "knowledge base imported ({report}) in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let overrides: HashMap<&str, &str> = HashMap::from([
        ("FTE_BROKER_ADDRESS_FILE", "/nonexistent/fte-broker.addr"),
        ("KAFKA_BOOTSTRAP_SERVERS", ""),
        // The real senders are swapped for recording ones below; the web form
        // alone needs no provider credentials to build.
        ("CHANNELS_ENABLED", "web_form"),
        ("WEB_REPLY_NOTIFY", "none"),
    ]);
    let lookup = Lookup::from_fn(|key| match overrides.get(key) {
        Some(&"") => None,
        Some(value) => Some((*value).to_owned()),
        None => std::env::var(key).ok(),
    });
    let kafka = KafkaSettings::from_lookup(&lookup, Profile::Dev)?;
    let bootstrap = Arc::new(Bootstrap::resolve(&kafka).await?);
    let build = || async {
        let mut worker =
            Worker::build(&lookup, Profile::Dev, pool.clone(), bootstrap.clone()).await?;
        worker.probe_addr = None;
        worker.enabled = Default::default();
        worker.senders = fte_fakes::guarded_recorders();
        anyhow::Ok(worker)
    };

    // 1. Overhead beside the model, one message at a time.
    let mut worker = build().await?;
    let timed = Arc::new(TimedAgent {
        inner: worker.ctx.agent.clone(),
        last: Mutex::new(Duration::ZERO),
    });
    worker.ctx.agent = timed.clone();
    let (warmup, measured) = (10, 200);
    let mut overhead = Vec::with_capacity(measured);
    let mut agent_ms = Vec::with_capacity(measured);
    for n in 0..warmup + measured {
        let sample = &samples.tickets[n % samples.tickets.len()];
        let event = event(sample, n, "step");
        let started = Instant::now();
        fte_worker::handle_event(&worker.ctx, &event).await?;
        let total = started.elapsed();
        let agent = *timed.last.lock().expect("not poisoned");
        if n >= warmup {
            overhead.push(total.saturating_sub(agent).as_secs_f64() * 1000.0);
            agent_ms.push(agent.as_secs_f64() * 1000.0);
        }
    }
    overhead.sort_by(f64::total_cmp);
    agent_ms.sort_by(f64::total_cmp);

    // 2. Throughput of one worker through Kafka: offline agent, then none.
    let offline = throughput(&pool, &bootstrap, worker, &samples, "offline", messages / 5).await?;
    let mut worker = build().await?;
    worker.ctx.agent = Arc::new(InstantAgent);
    let instant = throughput(&pool, &bootstrap, worker, &samples, "instant", messages).await?;

    println!("worker benchmark (local MiniLM, PostgreSQL and embedded broker on loopback)");
    println!("| figure | value |");
    println!("| --- | --- |");
    println!(
        "| per-message overhead beside the model ({measured} messages, offline agent) | P50 {:.1} ms, P95 {:.1} ms, P99 {:.1} ms |",
        percentile(&overhead, 50.0),
        percentile(&overhead, 95.0),
        percentile(&overhead, 99.0)
    );
    println!(
        "| offline agent's own time per message | P50 {:.1} ms, P95 {:.1} ms |",
        percentile(&agent_ms, 50.0),
        percentile(&agent_ms, 95.0)
    );
    for (agent, figures) in [
        ("offline agent", offline),
        ("no model (instant answer)", instant),
    ] {
        println!(
            "| throughput, one worker, {agent}, {} messages | {:.0} msgs/s over {:.1} s |",
            figures.processed,
            figures.processed as f64 / figures.busy.as_secs_f64(),
            figures.busy.as_secs_f64(),
        );
    }
    Ok(())
}
