//! The windows a metrics summary covers (`1h`, `24h`, `7d`) and the
//! sentiment trend's bucket for each.

use std::time::Duration;

/// A summary window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// The last hour (sentiment in 5-minute buckets).
    Hour,
    /// The last 24 hours (hourly buckets).
    Day,
    /// The last 7 days (daily buckets).
    Week,
}

impl Window {
    /// `1h`, `24h` or `7d`; anything else is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "1h" => Some(Self::Hour),
            "24h" => Some(Self::Day),
            "7d" => Some(Self::Week),
            _ => None,
        }
    }

    /// The window as written in the query.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hour => "1h",
            Self::Day => "24h",
            Self::Week => "7d",
        }
    }

    /// Its length.
    pub fn duration(self) -> Duration {
        Duration::from_secs(match self {
            Self::Hour => 3600,
            Self::Day => 24 * 3600,
            Self::Week => 7 * 24 * 3600,
        })
    }

    /// The sentiment trend's bucket, in seconds.
    pub fn bucket_secs(self) -> u32 {
        match self {
            Self::Hour => 300,
            Self::Day => 3600,
            Self::Week => 24 * 3600,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_three_windows_parse() {
        for (text, window) in [
            ("1h", Window::Hour),
            ("24h", Window::Day),
            ("7d", Window::Week),
        ] {
            assert_eq!(Window::parse(text), Some(window));
            assert_eq!(window.as_str(), text);
        }
        for text in ["", "2h", "1d", "7D", "24 h"] {
            assert_eq!(Window::parse(text), None, "{text:?}");
        }
    }
}
