//! `fte kb import` and `fte eval`.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Context;
use fte_runtime::settings::AgentSettings;

/// Draws a one-line progress bar on stderr when it is a terminal (logs
/// and CI get only the final report).
fn progress(done: usize, total: usize) {
    const WIDTH: usize = 30;
    if !std::io::stderr().is_terminal() {
        return;
    }
    let filled = (done * WIDTH)
        .checked_div(total)
        .unwrap_or(WIDTH)
        .min(WIDTH);
    let mut stderr = std::io::stderr();
    let _ = write!(
        stderr,
        "\r  [{}{}] {done}/{total} articles",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled)
    );
    if done == total {
        let _ = writeln!(stderr);
    }
    let _ = stderr.flush();
}

async fn connect() -> anyhow::Result<fte_store::PgPool> {
    crate::migrate::connect_and_migrate().await
}

/// Imports the articles of `dir`.
pub async fn import(dir: &Path) -> anyhow::Result<()> {
    let settings = AgentSettings::from_env()?;
    let pool = connect().await?;
    let embedder = fte_agent::embedder_from_settings(&settings)
        .context("Failed to load the embedding model (run scripts/models.sh)")?;
    let started = std::time::Instant::now();
    let report = fte_agent::import_knowledge_base(&pool, embedder.as_ref(), dir, progress)
        .await
        .with_context(|| format!("Failed to import the knowledge base from {}", dir.display()))?;
    println!("{report} in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Runs the evaluation of `sets` (names of [`fte_agent::EvalSet`]) and
/// fails when the sample tickets, if run, miss the targets.
pub async fn eval(root: &Path, sets: &[String]) -> anyhow::Result<()> {
    let sets = sets
        .iter()
        .map(|name| {
            fte_agent::EvalSet::parse(name).with_context(|| {
                format!(
                    "unknown set {name:?}: expected samples, tuning, tuning-2, tuning-3, tuning-4, held-out, held-out-2, held-out-3 or held-out-4"
                )
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let settings = AgentSettings::from_env()?;
    let pool = connect().await?;
    let embedder = fte_agent::embedder_from_settings(&settings)
        .context("Failed to load the embedding model (run scripts/models.sh)")?;
    let report = fte_agent::run_eval(&pool, embedder, root, &sets)
        .await
        .context("The evaluation could not run")?;
    println!("{report}");
    if let Some(samples) = report.set(fte_agent::EvalSet::Samples) {
        anyhow::ensure!(
            samples.meets_targets(),
            "the sample tickets are below the targets"
        );
    }
    Ok(())
}
