//! The sample tickets replayed through the offline agent against the real
//! knowledge base and the real local model: they must reach the targets
//! (decision 97 %, reason 93 %, must-include 90 %, format 100 %).

use fte_agent::{EvalSet, run_eval};
use fte_testkit::kb::{embedder, repo_root};

#[tokio::test]
async fn the_offline_agent_meets_the_targets_on_the_sample_tickets() {
    let pool = fte_store::testing::fresh_database().await;
    let report = run_eval(&pool, embedder(), &repo_root(), &[EvalSet::Samples])
        .await
        .expect("the evaluation runs");
    println!("{report}");
    let samples = report.set(EvalSet::Samples).expect("the samples ran");
    assert_eq!(samples.tickets, 56);
    assert!(
        samples.meets_targets(),
        "the evaluation is below the targets:\n{report}"
    );
}
