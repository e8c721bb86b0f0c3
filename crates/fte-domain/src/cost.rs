//! What the agent's model use costs: the tokens of one turn, the prices
//! they are charged at, and the divisions the cost view reports (per
//! resolved conversation, per escalation, per year).
//!
//! All of the arithmetic lives here, free of IO, so the worker (which prices
//! each turn), the store (which sums turns) and the views (gateway, `fte
//! cost`) agree on one definition and one unit test proves it. Prices are
//! US dollars per million tokens, as the providers publish them; sums are
//! US dollars in `f64` (a year of turns at micro-dollar costs is far inside
//! its exact range).

use serde::{Deserialize, Serialize};

/// Tokens per price unit: providers publish prices per million tokens.
pub const TOKENS_PER_PRICE_UNIT: f64 = 1_000_000.0;

/// Micro-dollars per dollar: per-turn costs are stored in micro-dollars so a
/// fraction of a cent survives a fixed-point column.
pub const MICRO_USD_PER_USD: f64 = 1_000_000.0;

/// The tokens one agent turn spent, as the provider billed them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    /// Chat prompt (input) tokens: `usage.prompt_tokens`, summed over the
    /// turn's model round trips.
    pub prompt: u32,
    /// Chat completion (output) tokens: `usage.completion_tokens`.
    pub completion: u32,
    /// Tokens sent to a remote embeddings endpoint during the turn (0 with
    /// the local embedding model).
    pub embedding: u32,
}

impl TokenUsage {
    /// Nothing spent: the offline agent, or a message no model saw.
    pub const ZERO: Self = Self {
        prompt: 0,
        completion: 0,
        embedding: 0,
    };

    /// A chat model's usage, without embeddings.
    pub const fn chat(prompt: u32, completion: u32) -> Self {
        Self {
            prompt,
            completion,
            embedding: 0,
        }
    }

    /// Chat tokens (prompt + completion): what `tokens_used` has always meant.
    pub const fn chat_total(&self) -> u32 {
        self.prompt.saturating_add(self.completion)
    }

    /// Both usages together (saturating: a counter never wraps).
    #[must_use]
    pub const fn plus(self, other: Self) -> Self {
        Self {
            prompt: self.prompt.saturating_add(other.prompt),
            completion: self.completion.saturating_add(other.completion),
            embedding: self.embedding.saturating_add(other.embedding),
        }
    }

    /// Whether no token was spent.
    pub const fn is_zero(&self) -> bool {
        self.prompt == 0 && self.completion == 0 && self.embedding == 0
    }
}

/// Prices in US dollars per million tokens.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelPrices {
    /// Chat prompt (input) tokens.
    pub input_per_mtok: f64,
    /// Chat completion (output) tokens.
    pub output_per_mtok: f64,
    /// Embedding tokens.
    pub embedding_per_mtok: f64,
}

/// Why a price cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a price must be a finite number of dollars, 0 or more")]
pub struct InvalidPrice;

impl ModelPrices {
    /// Everything free (a self-hosted model whose cost is the cluster's).
    pub const FREE: Self = Self {
        input_per_mtok: 0.0,
        output_per_mtok: 0.0,
        embedding_per_mtok: 0.0,
    };

    /// Checked prices: each finite and not negative.
    pub fn new(input: f64, output: f64, embedding: f64) -> Result<Self, InvalidPrice> {
        for price in [input, output, embedding] {
            if !price.is_finite() || price < 0.0 {
                return Err(InvalidPrice);
            }
        }
        Ok(Self {
            input_per_mtok: input,
            output_per_mtok: output,
            embedding_per_mtok: embedding,
        })
    }

    /// What `usage` costs at these prices, in US dollars.
    pub fn cost_usd(&self, usage: &TokenUsage) -> f64 {
        (f64::from(usage.prompt) * self.input_per_mtok
            + f64::from(usage.completion) * self.output_per_mtok
            + f64::from(usage.embedding) * self.embedding_per_mtok)
            / TOKENS_PER_PRICE_UNIT
    }

    /// [`Self::cost_usd`] in micro-dollars, the unit a turn is stored in.
    pub fn cost_micro_usd(&self, usage: &TokenUsage) -> f64 {
        self.cost_usd(usage) * MICRO_USD_PER_USD
    }
}

/// `total` shared over `count` (a cost per resolution, per escalation…);
/// `None` when there is nothing to share it over, so a window without a
/// resolution shows no figure rather than infinity or zero.
pub fn per_unit(total: f64, count: i64) -> Option<f64> {
    (count > 0).then(|| total / count as f64)
}

/// Days in the year the yearly projections use.
pub const DAYS_PER_YEAR: f64 = 365.0;

/// A yearly figure from a cost per unit and units per day.
pub fn yearly(cost_per_unit: f64, units_per_day: f64) -> f64 {
    cost_per_unit * units_per_day * DAYS_PER_YEAR
}

#[cfg(test)]
mod tests {
    use super::*;

    /// gpt-4o-mini with text-embedding-3-small, as the defaults document them.
    fn mini() -> ModelPrices {
        ModelPrices::new(0.15, 0.60, 0.02).unwrap()
    }

    fn close(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() < 1e-12
    }

    #[test]
    fn prompt_and_completion_are_priced_apart() {
        // 1,000 prompt tokens at $0.15/M and 1,000 completion tokens at
        // $0.60/M: the output side costs four times the input side.
        let input_only = mini().cost_usd(&TokenUsage::chat(1_000, 0));
        let output_only = mini().cost_usd(&TokenUsage::chat(0, 1_000));
        assert!(close(input_only, 0.000_15), "{input_only}");
        assert!(close(output_only, 0.000_6), "{output_only}");
        let both = mini().cost_usd(&TokenUsage::chat(1_000, 1_000));
        assert!(close(both, input_only + output_only), "{both}");
    }

    #[test]
    fn embedding_tokens_are_priced_at_the_embedding_price() {
        let usage = TokenUsage {
            prompt: 0,
            completion: 0,
            embedding: 500_000,
        };
        assert!(close(mini().cost_usd(&usage), 0.01));
        assert!(close(mini().cost_micro_usd(&usage), 10_000.0));
    }

    #[test]
    fn the_configured_prices_are_the_ones_applied() {
        let usage = TokenUsage::chat(2_000_000, 500_000);
        let gpt_4o = ModelPrices::new(2.50, 10.00, 0.02).unwrap();
        assert!(close(gpt_4o.cost_usd(&usage), 5.0 + 5.0));
        assert!(close(mini().cost_usd(&usage), 0.30 + 0.30));
        assert_eq!(ModelPrices::FREE.cost_usd(&usage), 0.0);
    }

    #[test]
    fn the_offline_agent_costs_nothing_at_any_price() {
        let expensive = ModelPrices::new(100.0, 100.0, 100.0).unwrap();
        assert!(TokenUsage::ZERO.is_zero());
        assert_eq!(expensive.cost_usd(&TokenUsage::ZERO), 0.0);
        assert_eq!(expensive.cost_micro_usd(&TokenUsage::default()), 0.0);
    }

    #[test]
    fn a_cost_is_shared_over_resolutions_and_never_over_zero() {
        assert_eq!(per_unit(1.5, 3), Some(0.5));
        assert_eq!(per_unit(1.5, 0), None, "no resolution: no figure");
        assert_eq!(per_unit(0.0, 0), None);
        assert_eq!(per_unit(1.5, -1), None);
        assert_eq!(per_unit(0.0, 4), Some(0.0));
    }

    #[test]
    fn usages_add_up_and_saturate() {
        let a = TokenUsage {
            prompt: 10,
            completion: 5,
            embedding: 7,
        };
        let sum = a.plus(TokenUsage::chat(1, 2));
        assert_eq!(
            sum,
            TokenUsage {
                prompt: 11,
                completion: 7,
                embedding: 7
            }
        );
        assert_eq!(sum.chat_total(), 18, "embeddings are not chat tokens");
        let full = TokenUsage::chat(u32::MAX, u32::MAX);
        assert_eq!(full.plus(full).prompt, u32::MAX);
        assert_eq!(full.chat_total(), u32::MAX);
    }

    #[test]
    fn prices_must_be_finite_and_not_negative() {
        assert_eq!(ModelPrices::new(-0.01, 0.6, 0.02), Err(InvalidPrice));
        assert_eq!(ModelPrices::new(0.15, f64::NAN, 0.02), Err(InvalidPrice));
        assert_eq!(
            ModelPrices::new(0.15, 0.6, f64::INFINITY),
            Err(InvalidPrice)
        );
        assert!(ModelPrices::new(0.0, 0.0, 0.0).is_ok());
    }

    #[test]
    fn a_year_is_three_hundred_sixty_five_days_of_the_daily_figure() {
        assert!(close(yearly(0.001, 800.0), 292.0));
        assert_eq!(yearly(0.0, 800.0), 0.0);
    }
}
