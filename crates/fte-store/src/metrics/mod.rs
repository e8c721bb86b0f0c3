//! The plan's metric levels, from the rows the metrics collector writes and
//! the CRM tables.
//!
//! `agent_metrics` holds one row per figure of each `agent.turn` event; the
//! event id makes a redelivered event a no-op ([`record_turn`]). The
//! aggregates are computed by SQL over a window, for each channel and
//! overall ([`OVERALL`]): channel level ([`channel_level`]), agent level
//! ([`agent_level`]), business level ([`business_level`]). The system level
//! keeps what processes report: consumer lag as the worker last measured it
//! ([`store_consumer_lag`], [`consumer_lag`]) and process starts
//! ([`record_process_start`], [`process_starts_since`]).

mod levels;
mod system;
mod turns;

pub use levels::{
    AgentTotals, BusinessLevel, ChannelLevel, SentimentPoint, agent_level, business_level,
    channel_level,
};
pub use system::{
    LAG_FRESHNESS, LagRow, alert_inputs, consumer_lag, process_starts_since, record_process_start,
    store_consumer_lag,
};
pub use turns::{OVERALL, TurnRecord, names, record_turn};
