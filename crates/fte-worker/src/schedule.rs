//! Business hours (Monday–Friday, 08:00–20:00 UTC, from the company
//! profile): when a person is expected to answer an escalated case.

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc, Weekday};

/// The first hour of a business day (UTC).
pub const OPENS_AT: u32 = 8;
/// The hour a business day ends (UTC).
pub const CLOSES_AT: u32 = 20;

fn is_business_day(t: DateTime<Utc>) -> bool {
    !matches!(t.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The next moment at or after `t` inside business hours.
fn next_open(mut t: DateTime<Utc>) -> DateTime<Utc> {
    loop {
        let day_start = Utc
            .with_ymd_and_hms(t.year(), t.month(), t.day(), OPENS_AT, 0, 0)
            .single()
            .unwrap_or(t);
        if is_business_day(t) && t.hour() < CLOSES_AT {
            return t.max(day_start);
        }
        t = day_start + Duration::days(1);
    }
}

/// `start` plus `hours` business hours.
pub fn business_hours_after(start: DateTime<Utc>, hours: i64) -> DateTime<Utc> {
    let mut t = next_open(start);
    let mut left = Duration::hours(hours);
    loop {
        let close = Utc
            .with_ymd_and_hms(t.year(), t.month(), t.day(), CLOSES_AT, 0, 0)
            .single()
            .unwrap_or(t);
        let available = close - t;
        if left <= available {
            return t + left;
        }
        left -= available;
        t = next_open(close);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn inside_hours_the_time_is_simply_added() {
        // 2026-11-25 is a Wednesday.
        assert_eq!(
            business_hours_after(at(2026, 11, 25, 10, 0), 4),
            at(2026, 11, 25, 14, 0)
        );
    }

    #[test]
    fn friday_evening_rolls_over_the_weekend() {
        assert_eq!(
            business_hours_after(at(2026, 11, 27, 19, 0), 4),
            at(2026, 11, 30, 11, 0)
        );
        assert_eq!(
            business_hours_after(at(2026, 11, 28, 3, 0), 1),
            at(2026, 11, 30, 9, 0)
        );
    }
}
