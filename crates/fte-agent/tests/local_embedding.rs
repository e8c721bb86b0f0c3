//! The local model under many calls at once (they take turns, one per
//! core): each call gets the vectors of its own texts, as if it had been
//! alone, and a call that gives up while waiting leaves nobody waiting.

use std::time::Duration;

use fte_agent::Embedder;
use fte_testkit::kb::MODEL;

fn texts(call: usize, count: usize) -> Vec<String> {
    (0..count)
        .map(|i| {
            format!("question {i} of customer {call}: how do I export my tasks to a spreadsheet?")
        })
        .collect()
}

fn close(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-4)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_calls_each_get_the_vectors_of_their_own_texts() {
    let model = MODEL.clone();
    // Sizes on both sides of one pass's batch limit.
    let sizes = [1, 3, 1, 20, 1, 40, 2, 1, 5, 1, 1, 8];
    let calls = sizes.iter().enumerate().map(|(call, &count)| {
        let model = model.clone();
        tokio::spawn(async move { (call, model.embed(&texts(call, count)).await.unwrap()) })
    });
    let results = futures::future::join_all(calls).await;
    for result in results {
        let (call, vectors) = result.unwrap();
        let alone = model.embed_blocking(&texts(call, sizes[call])).unwrap();
        assert_eq!(vectors.len(), alone.len(), "call {call}");
        for (shared, own) in vectors.iter().zip(&alone) {
            assert!(close(shared, own), "call {call} got another text's vector");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn calls_that_give_up_while_waiting_hold_nobody_up() {
    let model = MODEL.clone();
    // Many calls queue; half of them are dropped while they wait.
    let mut kept = Vec::new();
    for call in 0..24 {
        let model = model.clone();
        let task = tokio::spawn(async move { model.embed(&texts(call, 4)).await });
        if call % 2 == 0 {
            task.abort();
        } else {
            kept.push((call, task));
        }
    }
    for (call, task) in kept {
        let vectors = tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .unwrap_or_else(|_| panic!("call {call} was left waiting"))
            .unwrap()
            .unwrap();
        assert_eq!(vectors.len(), 4);
        let alone = model.embed_blocking(&texts(call, 4)).unwrap();
        assert!(close(&vectors[0], &alone[0]));
    }
}
