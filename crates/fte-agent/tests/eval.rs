//! The sample tickets replayed through the offline agent against the real
//! knowledge base and the real local model: the goal is 95 % on every
//! measure.

mod support;

use fte_agent::run_eval;
use support::{embedder, repo_root};

#[tokio::test]
async fn the_offline_agent_meets_the_goal_on_the_sample_tickets() {
    let pool = fte_store::testing::fresh_database().await;
    let report = run_eval(&pool, embedder(), &repo_root())
        .await
        .expect("the evaluation runs");
    println!("{report}");
    assert_eq!(report.tickets, 56);
    assert!(
        report.meets_goal(),
        "the evaluation is below the goal:\n{report}"
    );
}
