//! `fte bench kb`: knowledge search latency and local embedding throughput,
//! printed as a table (figures for the README, not a pass/fail test).
//!
//! It works in a scratch database on the configured PostgreSQL server
//! (created, migrated, dropped at the end), so the development knowledge
//! base is never touched: it imports `kb/`, measures the embedding
//! throughput on every chunk, times searches with the real articles, adds
//! synthetic chunks (generated text, random unit vectors — the worst case
//! for an HNSW graph, which has no clusters to exploit) and times them
//! again. Each search is split into the query's embedding and the SQL (both
//! queries and the fusion), because they have different budgets and
//! different fixes. `explain analyze` of the vector query shows whether the
//! per-model HNSW index is used.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use fte_agent::knowledge::{chunk_body, embedding_text, read_articles};
use fte_agent::{Embedder, HybridSearch};
use fte_runtime::settings::{AgentSettings, DatabaseSettings};
use fte_store::knowledge::{self, NewArticle};
use sqlx::{Connection, Executor, PgConnection};

/// Chunks per synthetic article.
const SYNTHETIC_CHUNKS_PER_ARTICLE: usize = 20;
/// Texts per embedding call when measuring throughput (the import embeds an
/// article's chunks per call, one to a few).
const EMBED_BATCH: usize = 16;

/// What `fte bench kb` measures.
#[derive(Clone, Copy, Debug)]
pub struct KbBenchOptions {
    /// Synthetic chunks added for the second measurement.
    pub synthetic_chunks: usize,
    /// Searches per measurement.
    pub searches: usize,
}

/// Latency percentiles of one part of a search.
struct Percentiles {
    p50: Duration,
    p95: Duration,
    p99: Duration,
}

impl Percentiles {
    fn of(mut timings: Vec<Duration>) -> Self {
        timings.sort();
        let at = |q: usize| timings[(timings.len() * q / 100).min(timings.len() - 1)];
        Self {
            p50: at(50),
            p95: at(95),
            p99: at(99),
        }
    }
}

struct SearchFigures {
    chunks: i64,
    embed: Percentiles,
    sql: Percentiles,
    total: Percentiles,
    index_used: bool,
}

/// Runs the benchmark against `root`'s `kb/` and `context/`.
pub async fn kb(root: &Path, options: KbBenchOptions) -> anyhow::Result<()> {
    anyhow::ensure!(options.searches > 0, "--searches must be at least 1");
    let settings = AgentSettings::from_env()?;
    let embedder = fte_agent::embedder_from_settings(&settings)
        .context("Failed to load the embedding model (run scripts/models.sh)")?;
    let database = DatabaseSettings::from_env()?;
    let server_url = database.expose_url().to_owned();
    let name = format!("fte_bench_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&server_url)
        .await
        .context("Failed to connect to PostgreSQL (is it running? scripts/pg.sh start)")?;
    admin
        .execute(sqlx::AssertSqlSafe(format!("create database {name}")))
        .await
        .context("Failed to create the scratch database (the role needs CREATEDB)")?;
    let result = run_in(&with_database(&server_url, &name), root, embedder, options).await;
    if let Err(error) = admin
        .execute(sqlx::AssertSqlSafe(format!(
            "drop database if exists {name} with (force)"
        )))
        .await
    {
        eprintln!("could not drop the scratch database {name}: {error}");
    }
    result
}

async fn run_in(
    url: &str,
    root: &Path,
    embedder: Arc<dyn Embedder>,
    options: KbBenchOptions,
) -> anyhow::Result<()> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(url)
        .await
        .context("Failed to connect to the scratch database")?;
    fte_store::migrate(&pool)
        .await
        .context("Failed to apply migrations")?;
    let kb_dir = root.join("kb");

    // Embedding throughput over every chunk of the knowledge base.
    let articles = read_articles(&kb_dir)?;
    let texts: Vec<String> = articles
        .iter()
        .flat_map(|a| {
            chunk_body(&a.body)
                .into_iter()
                .map(|chunk| embedding_text(&a.title, &chunk))
                .collect::<Vec<_>>()
        })
        .collect();
    embedder.embed(&texts[..1]).await?;
    let started = Instant::now();
    for batch in texts.chunks(EMBED_BATCH) {
        embedder.embed(batch).await?;
    }
    let embed_elapsed = started.elapsed();
    let started = Instant::now();
    let single = texts.len().min(64);
    for text in &texts[..single] {
        embedder.embed(std::slice::from_ref(text)).await?;
    }
    let single_elapsed = started.elapsed();

    let started = Instant::now();
    let report =
        fte_agent::import_knowledge_base(&pool, embedder.as_ref(), &kb_dir, |_, _| {}).await?;
    let import_elapsed = started.elapsed();

    let questions = sample_questions(root)?;
    let search = HybridSearch::new(pool.clone(), embedder.clone());
    let real = measure(&pool, &search, &questions, options.searches).await?;
    add_synthetic_chunks(&pool, options.synthetic_chunks).await?;
    let synthetic = measure(&pool, &search, &questions, options.searches).await?;
    pool.close().await;

    let ms = |d: Duration| format!("{:.2}", d.as_secs_f64() * 1000.0);
    println!(
        "knowledge base: {} articles, {} chunks; model {}; {} searches per row ({} distinct sample-ticket questions)",
        report.articles,
        texts.len(),
        report.model,
        options.searches,
        questions.len()
    );
    println!();
    println!("| chunks in the base | part | P50 ms | P95 ms | P99 ms | HNSW index used |");
    println!("| ---: | --- | ---: | ---: | ---: | --- |");
    for figures in [&real, &synthetic] {
        for (part, p) in [
            ("query embedding", &figures.embed),
            ("SQL (vector + full text, fused)", &figures.sql),
            ("whole search", &figures.total),
        ] {
            println!(
                "| {} | {part} | {} | {} | {} | {} |",
                figures.chunks,
                ms(p.p50),
                ms(p.p95),
                ms(p.p99),
                if figures.index_used { "yes" } else { "no" }
            );
        }
    }
    println!();
    println!("| embedding (local) | figure |");
    println!("| --- | ---: |");
    println!(
        "| {} chunks in batches of {EMBED_BATCH} | {:.1} chunks/s |",
        texts.len(),
        texts.len() as f64 / embed_elapsed.as_secs_f64()
    );
    println!(
        "| {single} chunks one at a time | {:.1} chunks/s |",
        single as f64 / single_elapsed.as_secs_f64()
    );
    println!(
        "| `kb import` of {} articles ({} chunks, embedding and storing) | {:.1} s |",
        report.articles,
        report.chunks_embedded,
        import_elapsed.as_secs_f64()
    );
    Ok(())
}

/// Every non-empty sample ticket message.
fn sample_questions(root: &Path) -> anyhow::Result<Vec<String>> {
    let path = root.join("context/sample-tickets.json");
    let raw = std::fs::read_to_string(&path)
        .with_context(|| format!("Failed to read {}", path.display()))?;
    let json: serde_json::Value = serde_json::from_str(&raw)?;
    let questions: Vec<String> = json["tickets"]
        .as_array()
        .context("sample-tickets.json has no tickets")?
        .iter()
        .filter_map(|t| t["message"].as_str())
        .filter(|m| !m.trim().is_empty())
        .map(str::to_owned)
        .collect();
    anyhow::ensure!(!questions.is_empty(), "no sample questions");
    Ok(questions)
}

async fn measure(
    pool: &fte_store::PgPool,
    search: &HybridSearch,
    questions: &[String],
    searches: usize,
) -> anyhow::Result<SearchFigures> {
    let chunks: i64 = sqlx::query_scalar("select count(*) from knowledge_chunks")
        .fetch_one(pool)
        .await?;
    // Warm up: the model, the connections and the prepared statements.
    for question in questions.iter().take(10) {
        let vector = search.embed_query(question).await?;
        search.search_embedded(question, vector, 5).await?;
    }
    let (mut embed, mut sql, mut total) = (Vec::new(), Vec::new(), Vec::new());
    for question in questions.iter().cycle().take(searches) {
        let started = Instant::now();
        let vector = search.embed_query(question).await?;
        let embedded = Instant::now();
        let results = search.search_embedded(question, vector, 5).await?;
        let done = Instant::now();
        anyhow::ensure!(!results.hits.is_empty(), "a search found nothing");
        embed.push(embedded - started);
        sql.push(done - embedded);
        total.push(done - started);
    }
    let index_used = vector_index_used(pool, search, &questions[0]).await?;
    Ok(SearchFigures {
        chunks,
        embed: Percentiles::of(embed),
        sql: Percentiles::of(sql),
        total: Percentiles::of(total),
        index_used,
    })
}

/// Whether `explain analyze` of the vector query shows the model's HNSW
/// index, for both the custom and the generic plan of the prepared
/// statement (a long-lived pool ends up running the generic one).
async fn vector_index_used(
    pool: &fte_store::PgPool,
    search: &HybridSearch,
    question: &str,
) -> anyhow::Result<bool> {
    let model = search.embedder().model();
    let vector = search.embed_query(question).await?;
    let literal = format!(
        "'[{}]'",
        vector
            .iter()
            .map(f32::to_string)
            .collect::<Vec<_>>()
            .join(",")
    );
    let sql = knowledge::nearest_chunks_sql(model);
    let mut conn = pool.acquire().await?;
    conn.execute(sqlx::AssertSqlSafe(format!(
        "prepare bench_nearest(vector, bigint) as {sql}"
    )))
    .await?;
    let mut used = true;
    for mode in ["force_custom_plan", "force_generic_plan"] {
        conn.execute(sqlx::AssertSqlSafe(format!("set plan_cache_mode = {mode}")))
            .await?;
        let plan: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "explain analyze execute bench_nearest({literal}, 20)"
        )))
        .fetch_all(&mut *conn)
        .await?;
        let plan = plan.join("\n");
        let hit = plan.contains("idx_knowledge_embeddings_");
        if !hit {
            eprintln!("{mode}: the vector query does not use the HNSW index:\n{plan}");
        }
        used &= hit;
    }
    conn.execute("deallocate bench_nearest; reset plan_cache_mode")
        .await?;
    Ok(used)
}

/// Adds `total` chunks of generated text with random unit vectors, in
/// synthetic articles of [`SYNTHETIC_CHUNKS_PER_ARTICLE`], then analyzes.
async fn add_synthetic_chunks(pool: &fte_store::PgPool, total: usize) -> anyhow::Result<()> {
    const WORDS: [&str; 15] = [
        "task", "project", "board", "sprint", "invoice", "member", "guest", "export", "import",
        "token", "webhook", "calendar", "label", "status", "filter",
    ];
    let model = fte_store::knowledge::MINILM;
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let facts: Vec<String> = Vec::new();
    let articles = total.div_ceil(SYNTHETIC_CHUNKS_PER_ARTICLE);
    let mut left = total;
    for a in 0..articles {
        let slug = format!("synthetic/article-{a}");
        let mut tx = pool.begin().await?;
        let (article_id, _) = knowledge::upsert_article(
            &mut *tx,
            &NewArticle {
                slug: &slug,
                title: &slug,
                content: "synthetic",
                category: "synthetic",
                facts: &facts,
                content_hash: &slug,
            },
        )
        .await?;
        for c in 0..SYNTHETIC_CHUNKS_PER_ARTICLE.min(left) {
            let text: Vec<&str> = (0..40)
                .map(|_| WORDS[(next() % WORDS.len() as u64) as usize])
                .collect();
            let index = i32::try_from(c)?;
            let chunk_id =
                knowledge::upsert_chunk(&mut *tx, article_id, index, &slug, &text.join(" "))
                    .await?;
            let mut v: Vec<f32> = (0..model.dimensions)
                .map(|_| (next() % 2000) as f32 / 1000.0 - 1.0)
                .collect();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.iter_mut().for_each(|x| *x /= norm);
            knowledge::upsert_embedding(&mut *tx, chunk_id, model, v).await?;
        }
        left = left.saturating_sub(SYNTHETIC_CHUNKS_PER_ARTICLE);
        tx.commit().await?;
    }
    sqlx::query("analyze").execute(pool).await?;
    Ok(())
}

/// `url` with its database name replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{database}?{q}"),
        None => format!("{root}/{database}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scratch_url_keeps_the_server_and_options() {
        assert_eq!(
            with_database("postgres://fte@127.0.0.1:54329/fte?sslmode=disable", "x"),
            "postgres://fte@127.0.0.1:54329/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://fte@127.0.0.1:54329", "x"),
            "postgres://fte@127.0.0.1:54329/x"
        );
    }

    #[test]
    fn percentiles_pick_the_ranked_timing() {
        let timings: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let p = Percentiles::of(timings);
        assert_eq!(
            (p.p50, p.p95, p.p99),
            (
                Duration::from_millis(51),
                Duration::from_millis(96),
                Duration::from_millis(100)
            )
        );
    }
}
