//! The human handoff's promise: how many business hours a person takes to
//! answer an escalated case, per plan tier, and the sentence that tells the
//! customer. The hours come from settings (the worker reads
//! `ESCALATION_RESPONSE_HOURS_<TIER>`); the defaults are the company
//! profile's: 1 business hour for Business and Enterprise, 4 otherwise.

/// Support hours, as the customer is told them.
pub const SUPPORT_HOURS: &str = "Monday–Friday, 08:00–20:00 UTC";

/// Promised human response time per plan tier, in business hours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseHours {
    /// Free plan, and customers whose plan is unknown.
    pub free: u32,
    /// Team plan.
    pub team: u32,
    /// Business plan.
    pub business: u32,
    /// Enterprise plan.
    pub enterprise: u32,
}

impl Default for ResponseHours {
    fn default() -> Self {
        Self {
            free: 4,
            team: 4,
            business: 1,
            enterprise: 1,
        }
    }
}

impl ResponseHours {
    /// The hours promised to a customer on `plan` (any case); an unknown or
    /// missing plan gets the free tier's.
    pub fn for_plan(&self, plan: Option<&str>) -> u32 {
        match plan.map(|p| p.trim().to_ascii_lowercase()).as_deref() {
            Some("enterprise") => self.enterprise,
            Some("business") => self.business,
            Some("team") => self.team,
            _ => self.free,
        }
    }
}

/// "A person will follow up within 4 business hours (support hours are …)."
pub fn follow_up_promise(hours: u32) -> String {
    let within = if hours == 1 {
        "1 business hour".to_owned()
    } else {
        format!("{hours} business hours")
    };
    format!("A person will follow up within {within} (support hours are {SUPPORT_HOURS}).")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_and_enterprise_get_the_fast_promise_by_default() {
        let hours = ResponseHours::default();
        assert_eq!(hours.for_plan(Some("Business")), 1);
        assert_eq!(hours.for_plan(Some("enterprise")), 1);
        assert_eq!(hours.for_plan(Some("team")), 4);
        assert_eq!(hours.for_plan(None), 4);
        assert_eq!(
            hours.for_plan(Some("platinum")),
            4,
            "unknown plans get free's"
        );
    }

    #[test]
    fn the_promise_names_the_hours_and_the_support_hours() {
        assert!(follow_up_promise(1).contains("within 1 business hour "));
        assert!(follow_up_promise(8).contains("within 8 business hours"));
        assert!(follow_up_promise(4).contains(SUPPORT_HOURS));
    }
}
