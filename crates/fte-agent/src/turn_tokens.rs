//! The embedding tokens of one agent turn: a task-local counter scoped
//! around a turn ([`count_embedding_tokens`]) that a remote embedder adds
//! its billed tokens to ([`record_embedding_tokens`]). Calls made outside
//! any turn find no counter and count nowhere; see [`crate::usage`] for
//! why the count is per task.

use std::cell::Cell;
use std::future::Future;

tokio::task_local! {
    static EMBEDDING_TOKENS: Cell<u32>;
}

/// Adds `tokens` billed by a remote embedder to the running turn, if any.
pub(crate) fn record_embedding_tokens(tokens: u32) {
    let _outside_a_turn =
        EMBEDDING_TOKENS.try_with(|count| count.set(count.get().saturating_add(tokens)));
}

/// Runs `future` with an embedding token counter of its own; returns its
/// output and the tokens recorded while it ran.
pub async fn count_embedding_tokens<F: Future>(future: F) -> (F::Output, u32) {
    EMBEDDING_TOKENS
        .scope(Cell::new(0), async move {
            let output = future.await;
            (output, EMBEDDING_TOKENS.with(Cell::get))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tokens_count_toward_the_turn_that_spent_them() {
        let ((), first) = count_embedding_tokens(async {
            record_embedding_tokens(7);
            record_embedding_tokens(5);
        })
        .await;
        let ((), second) = count_embedding_tokens(async { record_embedding_tokens(1) }).await;
        assert_eq!((first, second), (12, 1));
    }

    #[tokio::test]
    async fn tokens_spent_outside_a_turn_count_nowhere() {
        record_embedding_tokens(100);
        let ((), during) = count_embedding_tokens(async {}).await;
        assert_eq!(during, 0);
    }

    #[tokio::test]
    async fn concurrent_turns_keep_their_own_counts() {
        let a = count_embedding_tokens(async {
            record_embedding_tokens(3);
            tokio::task::yield_now().await;
            record_embedding_tokens(3);
        });
        let b = count_embedding_tokens(async {
            record_embedding_tokens(40);
            tokio::task::yield_now().await;
        });
        let (((), a), ((), b)) = tokio::join!(a, b);
        assert_eq!((a, b), (6, 40));
    }
}
