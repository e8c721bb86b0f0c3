//! `fte cost --window 30d`: the cost section of `GET /metrics/summary`
//! (the same store query and body, `fte_gateway::routes::cost`) for an
//! operator's terminal, over any window of hours or days, read straight
//! from the database like `fte migrate` is. `--json` prints the body.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use fte_domain::cost::{DAYS_PER_YEAR, yearly};
use fte_gateway::routes::cost::{CostLevel, cost_section};
use serde::Serialize;

/// The longest window: a year of turns.
const MAX_WINDOW_HOURS: u32 = 366 * 24;

/// A window as typed: a whole number of hours (`24h`) or days (`30d`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CostWindow {
    hours: u32,
}

impl CostWindow {
    /// `Nh` or `Nd`, from 1 hour to 366 days.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (number, per_unit) = match text.char_indices().last() {
            Some((at, 'h')) => (&text[..at], 1),
            Some((at, 'd')) => (&text[..at], 24),
            _ => return Err("a window is a number of hours or days, such as 24h or 30d".into()),
        };
        let count: u32 = number
            .parse()
            .map_err(|_| format!("{number:?} is not a whole number"))?;
        let hours = count.saturating_mul(per_unit);
        if !(1..=MAX_WINDOW_HOURS).contains(&hours) {
            return Err("a window is from 1h to 366d".into());
        }
        Ok(Self { hours })
    }

    /// Its length.
    pub fn duration(self) -> chrono::Duration {
        chrono::Duration::hours(i64::from(self.hours))
    }

    /// Its length in days (a fraction for hours).
    pub fn days(self) -> f64 {
        f64::from(self.hours) / 24.0
    }
}

/// What `fte cost --json` prints.
#[derive(Debug, Serialize)]
pub struct CostReport {
    /// The window as typed.
    pub window: String,
    /// Its start.
    pub since: DateTime<Utc>,
    /// When the report was made.
    pub until: DateTime<Utc>,
    /// Per channel and `overall`, as in `/metrics/summary`.
    pub cost: BTreeMap<String, CostLevel>,
    /// The overall model cost at the window's daily rate for a year.
    pub model_cost_per_year_usd: f64,
}

/// Reads the cost level over `window` and prints it.
pub async fn run(window: &str, json: bool) -> anyhow::Result<()> {
    let parsed = CostWindow::parse(window).map_err(anyhow::Error::msg)?;
    let pool = crate::migrate::connect_and_migrate().await?;
    let until = Utc::now();
    let since = until - parsed.duration();
    let cost = cost_section(&pool, since).await?;
    let per_day = cost.get("overall").map_or(0.0, |o| o.model_cost_usd) / parsed.days();
    let report = CostReport {
        window: window.trim().to_owned(),
        since,
        until,
        cost,
        model_cost_per_year_usd: yearly(per_day, 1.0),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report));
    }
    Ok(())
}

/// The report as a table, one row per channel then `overall`.
pub fn render(report: &CostReport) -> String {
    let mut out = format!(
        "Model cost over the last {} (since {})\n\n",
        report.window,
        report.since.format("%Y-%m-%d %H:%M UTC")
    );
    out.push_str(&format!(
        "{:<9} {:>6} {:>12} {:>11} {:>10} {:>11} {:>9} {:>13} {:>10} {:>13} {:>14}\n",
        "channel",
        "turns",
        "prompt tok",
        "compl. tok",
        "embed tok",
        "cost USD",
        "resolved",
        "USD/resolved",
        "escalated",
        "USD/escal.",
        "USD/res.all-in",
    ));
    let order = ["email", "whatsapp", "web_form", "overall"];
    for name in order {
        let Some(level) = report.cost.get(name) else {
            continue;
        };
        out.push_str(&format!(
            "{:<9} {:>6} {:>12.0} {:>11.0} {:>10.0} {:>11.6} {:>9} {:>13} {:>10} {:>13} {:>14}\n",
            name,
            level.turns,
            level.tokens.prompt,
            level.tokens.completion,
            level.tokens.embedding,
            level.model_cost_usd,
            level.resolved_conversations,
            money(level.cost_per_resolved_conversation_usd),
            level.escalated_conversations,
            money(level.cost_per_escalation_usd),
            money(level.cost_per_resolution_all_in_usd),
        ));
    }
    out.push_str(&format!(
        "\nAt this window's daily rate the model costs ${:.2} a year ({} days).\n",
        report.model_cost_per_year_usd, DAYS_PER_YEAR
    ));
    out
}

/// A dollar figure to six decimals, or `-` when there is none.
fn money(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.6}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_whole_hours_or_days_within_a_year() {
        assert_eq!(CostWindow::parse("30d").unwrap().days(), 30.0);
        assert_eq!(CostWindow::parse("24h").unwrap().days(), 1.0);
        assert_eq!(
            CostWindow::parse(" 7d ").unwrap().duration().num_hours(),
            168
        );
        for bad in [
            "",
            "d",
            "30",
            "0d",
            "1.5d",
            "-1d",
            "367d",
            "30m",
            "4294967295d",
        ] {
            assert!(CostWindow::parse(bad).is_err(), "{bad:?} is refused");
        }
    }
}
