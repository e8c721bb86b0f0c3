//! Every Prometheus metric the binaries export, registered once in one
//! registry. The names are a contract with `k8s/monitoring` (dashboard and
//! alerts): change them together. Labels stay low-cardinality (route,
//! channel, outcome, reason, tool), never a customer or a ticket.

use std::sync::LazyLock;

use prometheus::{
    CounterVec, Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Latency buckets in seconds, from 1 ms to 30 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 5.0, 10.0, 30.0,
];

/// The metrics of the process.
pub struct Metrics {
    registry: Registry,
    /// `fte_http_requests_total{route,method,status}`.
    pub http_requests: IntCounterVec,
    /// `fte_http_request_duration_seconds{route,method}`.
    pub http_duration: HistogramVec,
    /// `fte_submit_batch_size`: web form submissions committed together.
    pub submit_batch_size: HistogramVec,
    /// `fte_messages_processed_total{channel,outcome}`.
    pub messages_processed: IntCounterVec,
    /// `fte_message_processing_seconds{channel}`: receipt to reply committed.
    pub message_processing: HistogramVec,
    /// `fte_reply_delivery_seconds{channel}`.
    pub reply_delivery: HistogramVec,
    /// `fte_replies_sent_total{channel,outcome}`.
    pub replies_sent: IntCounterVec,
    /// `fte_escalations_total{channel,reason}`.
    pub escalations: IntCounterVec,
    /// `fte_escalation_rate{channel}`: share of the last hour's messages escalated.
    pub escalation_rate: GaugeVec,
    /// `fte_agent_tokens_total{channel}`.
    pub agent_tokens: IntCounterVec,
    /// `fte_agent_tool_calls_total{tool,outcome}`.
    pub agent_tool_calls: IntCounterVec,
    /// `fte_kb_searches_total{outcome}` (hit or miss).
    pub kb_searches: IntCounterVec,
    /// `fte_sentiment{channel}`: per-message sentiment on -1..1.
    pub sentiment: HistogramVec,
    /// `fte_kafka_consumer_lag{group,topic,partition}`.
    pub kafka_consumer_lag: IntGaugeVec,
    /// `fte_kafka_assigned_partitions{group,topic}`: partitions this
    /// process's consumer holds (0 before it joins its group and after it
    /// leaves).
    pub kafka_assigned_partitions: IntGaugeVec,
    /// `fte_dlq_messages_total{topic,reason}`: messages sent to the
    /// dead-letter queue, by origin topic and reason kind (a few fixed
    /// values such as `undecodable`, `invalid`, `database_data`,
    /// `agent_unavailable`, `send_failed`).
    pub dlq_messages: IntCounterVec,
    /// `fte_partition_stuck_seconds{group,partition}`: how long a partition
    /// holding messages has not moved (0 while it moves or is empty).
    pub partition_stuck: IntGaugeVec,
    /// `fte_db_pool_connections{state}` (idle or in_use).
    pub db_pool_connections: IntGaugeVec,
    /// `fte_db_pool_max_connections`.
    pub db_pool_max_connections: IntGauge,
    /// `fte_channel_state{channel}`: 0 disabled, 1 active, 2 degraded.
    pub channel_state: IntGaugeVec,
    /// `fte_channel_recording{channel}`: 1 while the channel's replies go to
    /// an in-memory recording sender (dev builds without provider
    /// credentials) and reach no customer; 0 otherwise.
    pub channel_recording: IntGaugeVec,
    /// `fte_build_info{version}`: always 1.
    pub build_info: IntGaugeVec,
    /// `fte_agent_turns_total{channel,outcome}` (answered or escalated),
    /// counted by the metrics collector once per `agent.turn` event.
    pub agent_turns: IntCounterVec,
    /// `fte_agent_turn_latency_seconds{channel}`: the agent's turn latency,
    /// from the metrics collector.
    pub agent_turn_latency: HistogramVec,
    /// `fte_agent_failed_tool_calls_total{channel}`, from the metrics collector.
    pub agent_failed_tool_calls: IntCounterVec,
    /// `fte_metrics_events_total{outcome}` (recorded, duplicate, rejected):
    /// what the metrics collector did with each event.
    pub metrics_events: IntCounterVec,
    /// `fte_alert_active{alert}`: in-process alerts holding now, by name.
    pub alert_active: IntGaugeVec,
    /// `fte_escalations_overdue{channel}`: unresolved escalations past their
    /// promised human response time, refreshed from the database by the
    /// worker's rates loop (and by `GET /metrics/channels` on the gateway).
    pub escalations_overdue: IntGaugeVec,
    /// `fte_model_tokens_total{channel,kind}` (kind: prompt, completion,
    /// embedding): billed tokens, counted by the metrics collector once per
    /// `agent.turn` event.
    pub model_tokens: IntCounterVec,
    /// `fte_model_cost_usd_total{channel}`: what those tokens cost at the
    /// worker's `MODEL_PRICE_*_PER_MTOK`, in US dollars, from the metrics
    /// collector.
    pub model_cost_usd: CounterVec,
}

fn counter(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let metric = IntCounterVec::new(Opts::new(name, help), labels).expect("valid counter");
    registry
        .register(Box::new(metric.clone()))
        .expect("unique metric name");
    metric
}

fn float_counter(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> CounterVec {
    let metric = CounterVec::new(Opts::new(name, help), labels).expect("valid counter");
    registry
        .register(Box::new(metric.clone()))
        .expect("unique metric name");
    metric
}

fn histogram(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
    buckets: Vec<f64>,
) -> HistogramVec {
    let metric = HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets), labels)
        .expect("valid histogram");
    registry
        .register(Box::new(metric.clone()))
        .expect("unique metric name");
    metric
}

fn int_gauge(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let metric = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid gauge");
    registry
        .register(Box::new(metric.clone()))
        .expect("unique metric name");
    metric
}

impl Metrics {
    fn new() -> Self {
        let registry = Registry::new();
        let latency = LATENCY_BUCKETS.to_vec();
        let escalation_rate = GaugeVec::new(
            Opts::new(
                "fte_escalation_rate",
                "Share of messages escalated over the last hour",
            ),
            &["channel"],
        )
        .expect("valid gauge");
        registry
            .register(Box::new(escalation_rate.clone()))
            .expect("unique metric name");
        let db_pool_max_connections =
            IntGauge::new("fte_db_pool_max_connections", "Size of the PostgreSQL pool")
                .expect("valid gauge");
        registry
            .register(Box::new(db_pool_max_connections.clone()))
            .expect("unique metric name");
        let metrics = Self {
            http_requests: counter(
                &registry,
                "fte_http_requests_total",
                "HTTP requests by route, method and status",
                &["route", "method", "status"],
            ),
            http_duration: histogram(
                &registry,
                "fte_http_request_duration_seconds",
                "HTTP request latency",
                &["route", "method"],
                latency.clone(),
            ),
            submit_batch_size: histogram(
                &registry,
                "fte_submit_batch_size",
                "Web form submissions committed in one transaction (group commit)",
                &[],
                vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0],
            ),
            messages_processed: counter(
                &registry,
                "fte_messages_processed_total",
                "Inbound messages processed by the worker, by outcome",
                &["channel", "outcome"],
            ),
            message_processing: histogram(
                &registry,
                "fte_message_processing_seconds",
                "Time from receipt of a message to its reply being committed",
                &["channel"],
                latency.clone(),
            ),
            reply_delivery: histogram(
                &registry,
                "fte_reply_delivery_seconds",
                "Time from a reply being committed to the provider accepting it",
                &["channel"],
                latency.clone(),
            ),
            replies_sent: counter(
                &registry,
                "fte_replies_sent_total",
                "Reply delivery attempts by outcome",
                &["channel", "outcome"],
            ),
            escalations: counter(
                &registry,
                "fte_escalations_total",
                "Cases handed to a human, by reason",
                &["channel", "reason"],
            ),
            escalation_rate,
            agent_tokens: counter(
                &registry,
                "fte_agent_tokens_total",
                "Model tokens used",
                &["channel"],
            ),
            agent_tool_calls: counter(
                &registry,
                "fte_agent_tool_calls_total",
                "Agent tool calls by tool and outcome",
                &["tool", "outcome"],
            ),
            kb_searches: counter(
                &registry,
                "fte_kb_searches_total",
                "Knowledge base searches by outcome (hit = a result above the threshold)",
                &["outcome"],
            ),
            sentiment: histogram(
                &registry,
                "fte_sentiment",
                "Sentiment of inbound messages on -1..1",
                &["channel"],
                vec![-1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0],
            ),
            kafka_consumer_lag: int_gauge(
                &registry,
                "fte_kafka_consumer_lag",
                "Messages not yet consumed, per group and partition",
                &["group", "topic", "partition"],
            ),
            kafka_assigned_partitions: int_gauge(
                &registry,
                "fte_kafka_assigned_partitions",
                "Partitions assigned to this process's consumer, per group and topic",
                &["group", "topic"],
            ),
            dlq_messages: counter(
                &registry,
                "fte_dlq_messages_total",
                "Messages sent to the dead-letter queue, by origin topic and reason",
                &["topic", "reason"],
            ),
            partition_stuck: int_gauge(
                &registry,
                "fte_partition_stuck_seconds",
                "Seconds a partition holding messages has not moved",
                &["group", "partition"],
            ),
            db_pool_connections: int_gauge(
                &registry,
                "fte_db_pool_connections",
                "PostgreSQL pool connections by state",
                &["state"],
            ),
            db_pool_max_connections,
            channel_state: int_gauge(
                &registry,
                "fte_channel_state",
                "Channel state: 0 disabled, 1 active, 2 degraded",
                &["channel"],
            ),
            channel_recording: int_gauge(
                &registry,
                "fte_channel_recording",
                "1 while the channel's replies are recorded in memory instead of delivered",
                &["channel"],
            ),
            build_info: int_gauge(
                &registry,
                "fte_build_info",
                "Build information",
                &["version"],
            ),
            agent_turns: counter(
                &registry,
                "fte_agent_turns_total",
                "Agent turns recorded by the metrics collector, by outcome",
                &["channel", "outcome"],
            ),
            agent_turn_latency: histogram(
                &registry,
                "fte_agent_turn_latency_seconds",
                "Agent turn latency recorded by the metrics collector",
                &["channel"],
                latency.clone(),
            ),
            agent_failed_tool_calls: counter(
                &registry,
                "fte_agent_failed_tool_calls_total",
                "Failed agent tool calls recorded by the metrics collector",
                &["channel"],
            ),
            metrics_events: counter(
                &registry,
                "fte_metrics_events_total",
                "Events the metrics collector consumed, by outcome",
                &["outcome"],
            ),
            alert_active: int_gauge(
                &registry,
                "fte_alert_active",
                "In-process alerts holding now, by alert name",
                &["alert"],
            ),
            escalations_overdue: int_gauge(
                &registry,
                "fte_escalations_overdue",
                "Unresolved escalations past their promised human response time",
                &["channel"],
            ),
            model_tokens: counter(
                &registry,
                "fte_model_tokens_total",
                "Billed model tokens recorded by the metrics collector, by kind (prompt, completion, embedding)",
                &["channel", "kind"],
            ),
            model_cost_usd: float_counter(
                &registry,
                "fte_model_cost_usd_total",
                "What the recorded model tokens cost at the configured prices, in US dollars",
                &["channel"],
            ),
            registry,
        };
        metrics
            .build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        metrics
    }

    /// The Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut buffer = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buffer)
            .expect("text encoding into memory cannot fail");
        String::from_utf8(buffer).expect("the text format is UTF-8")
    }

    /// HTTP responses counted so far in `fte_http_requests_total`: those
    /// with a 4xx status and those with a 5xx status.
    pub fn http_error_totals(&self) -> (u64, u64) {
        use prometheus::core::Collector;
        let (mut client, mut server) = (0, 0);
        for family in self.http_requests.collect() {
            for metric in family.get_metric() {
                let status = metric
                    .get_label()
                    .iter()
                    .find(|label| label.name() == "status")
                    .map(|label| label.value().to_owned());
                // Counters only ever hold whole numbers here.
                let count = metric.get_counter().get_value() as u64;
                match status.as_deref().and_then(|s| s.chars().next()) {
                    Some('4') => client += count,
                    Some('5') => server += count,
                    _ => {}
                }
            }
        }
        (client, server)
    }

    /// Test support: gives every labelled family one series (sample label
    /// values), so the exposition lists every metric name before any
    /// traffic. The tests that hold the dashboard and the alert rules to
    /// the exported names call it.
    #[doc(hidden)]
    pub fn expose_every_family(&self) {
        self.http_requests
            .with_label_values(&["/health", "GET", "200"])
            .inc();
        self.http_duration
            .with_label_values(&["/health", "GET"])
            .observe(0.001);
        self.messages_processed
            .with_label_values(&["email", "replied"])
            .inc();
        self.message_processing
            .with_label_values(&["email"])
            .observe(0.2);
        self.reply_delivery
            .with_label_values(&["email"])
            .observe(0.1);
        self.replies_sent
            .with_label_values(&["email", "sent"])
            .inc();
        self.escalations
            .with_label_values(&["email", "pricing"])
            .inc();
        self.escalation_rate.with_label_values(&["email"]).set(0.1);
        self.agent_tokens.with_label_values(&["email"]).inc_by(10);
        self.agent_tool_calls
            .with_label_values(&["search_knowledge_base", "ok"])
            .inc();
        self.kb_searches.with_label_values(&["hit"]).inc();
        self.sentiment.with_label_values(&["email"]).observe(0.2);
        self.kafka_consumer_lag
            .with_label_values(&["g", "t", "0"])
            .set(0);
        self.kafka_assigned_partitions
            .with_label_values(&["g", "t"])
            .set(0);
        self.dlq_messages
            .with_label_values(&["fte.tickets.incoming", "undecodable"])
            .inc();
        self.partition_stuck.with_label_values(&["g", "0"]).set(0);
        self.db_pool_connections.with_label_values(&["idle"]).set(1);
        self.channel_state.with_label_values(&["email"]).set(1);
        self.channel_recording.with_label_values(&["email"]).set(0);
        self.agent_turns
            .with_label_values(&["email", "answered"])
            .inc();
        self.agent_turn_latency
            .with_label_values(&["email"])
            .observe(0.4);
        self.agent_failed_tool_calls
            .with_label_values(&["email"])
            .inc();
        self.metrics_events.with_label_values(&["recorded"]).inc();
        self.alert_active
            .with_label_values(&["FteDatabasePoolSaturated"])
            .set(0);
        self.escalations_overdue
            .with_label_values(&["email"])
            .set(0);
        self.model_tokens
            .with_label_values(&["email", "prompt"])
            .inc_by(10);
        self.model_cost_usd
            .with_label_values(&["email"])
            .inc_by(0.0001);
    }

    /// The registry, for binaries that add process-specific collectors.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process-wide metrics.
pub fn global() -> &'static Metrics {
    &METRICS
}

/// The content type of [`Metrics::encode`].
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_contracted_metric_name_is_exported() {
        let m = global();
        m.expose_every_family();
        let text = m.encode();
        for name in [
            "fte_http_requests_total",
            "fte_http_request_duration_seconds_bucket",
            "fte_messages_processed_total",
            "fte_message_processing_seconds_bucket",
            "fte_reply_delivery_seconds_bucket",
            "fte_replies_sent_total",
            "fte_escalations_total",
            "fte_escalation_rate",
            "fte_agent_tokens_total",
            "fte_agent_tool_calls_total",
            "fte_kb_searches_total",
            "fte_sentiment_bucket",
            "fte_kafka_consumer_lag",
            "fte_kafka_assigned_partitions",
            "fte_dlq_messages_total",
            "fte_partition_stuck_seconds",
            "fte_db_pool_connections",
            "fte_db_pool_max_connections",
            "fte_channel_state",
            "fte_channel_recording",
            "fte_build_info",
            "fte_agent_turns_total",
            "fte_agent_turn_latency_seconds_bucket",
            "fte_agent_failed_tool_calls_total",
            "fte_metrics_events_total",
            "fte_alert_active",
            "fte_escalations_overdue",
            "fte_model_tokens_total",
            "fte_model_cost_usd_total",
        ] {
            assert!(
                text.contains(name),
                "metric {name} missing from the exposition"
            );
        }
    }
}
