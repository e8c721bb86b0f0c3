//! The migrations against a real PostgreSQL with pgvector.

use fte_store::knowledge::{self, MINILM, NewArticle};
use fte_store::testing::fresh_database;

fn unit_vector(dimensions: usize, hot: usize) -> Vec<f32> {
    let mut v = vec![0.0; dimensions];
    v[hot] = 1.0;
    v
}

#[tokio::test]
async fn migrations_create_every_table_of_the_plan() {
    let pool = fresh_database().await;
    let tables: Vec<String> = sqlx::query_scalar(
        "select table_name::text from information_schema.tables where table_schema = 'public'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    for table in [
        "customers",
        "customer_identifiers",
        "conversations",
        "messages",
        "tickets",
        "knowledge_base",
        "knowledge_chunks",
        "knowledge_embeddings",
        "escalations",
        "agent_metrics",
        "reply_outbox",
        "event_outbox",
        "inbound_receipts",
        "gmail_sync_state",
        "conversation_channel_switches",
    ] {
        assert!(
            tables.iter().any(|t| t == table),
            "table {table} is missing: {tables:?}"
        );
    }
    assert!(
        !tables.iter().any(|t| t == "channel_configs"),
        "channel_configs is gone: CHANNELS_ENABLED and the brand voice's limits are the one source"
    );
}

#[tokio::test]
async fn check_constraints_refuse_values_outside_the_enumerations() {
    let pool = fresh_database().await;
    let bad_channel =
        sqlx::query("insert into customers (id) values (gen_random_uuid()) returning id")
            .fetch_one(&pool)
            .await
            .unwrap();
    let customer: uuid::Uuid = sqlx::Row::get(&bad_channel, 0);
    let refused = sqlx::query(
        "insert into conversations (customer_id, initial_channel, current_channel) values ($1, 'fax', 'fax')",
    )
    .bind(customer)
    .execute(&pool)
    .await;
    assert!(refused.is_err(), "an unknown channel must be refused");
    let refused =
        sqlx::query("insert into tickets (source_channel, status) values ('email', 'lost')")
            .execute(&pool)
            .await;
    assert!(refused.is_err(), "an unknown ticket status must be refused");
}

#[tokio::test]
async fn one_channel_message_id_is_stored_once_per_channel() {
    let pool = fresh_database().await;
    let customer: uuid::Uuid =
        sqlx::query_scalar("insert into customers default values returning id")
            .fetch_one(&pool)
            .await
            .unwrap();
    let conversation: uuid::Uuid = sqlx::query_scalar(
        "insert into conversations (customer_id, initial_channel, current_channel) values ($1, 'whatsapp', 'whatsapp') returning id",
    )
    .bind(customer)
    .fetch_one(&pool)
    .await
    .unwrap();
    let insert = "insert into messages (conversation_id, channel, direction, role, content, channel_message_id)
                  values ($1, $2, 'inbound', 'customer', 'hello', 'SM123')";
    sqlx::query(insert)
        .bind(conversation)
        .bind("whatsapp")
        .execute(&pool)
        .await
        .unwrap();
    let duplicate = sqlx::query(insert)
        .bind(conversation)
        .bind("whatsapp")
        .execute(&pool)
        .await;
    assert!(
        duplicate.is_err(),
        "a redelivered message must hit the unique key"
    );
    sqlx::query(insert)
        .bind(conversation)
        .bind("email")
        .execute(&pool)
        .await
        .expect("the same id on another channel is a different message");
}

#[tokio::test]
async fn pgvector_cosine_query_returns_the_nearest_chunk_through_the_model_index() {
    let pool = fresh_database().await;
    let facts = vec!["F001".to_owned()];
    let mut chunk_ids = Vec::new();
    for (i, title) in ["Reset a password", "API rate limits", "Export a project"]
        .iter()
        .enumerate()
    {
        let slug = format!("test/{i}");
        let (article, changed) = knowledge::upsert_article(
            &pool,
            &NewArticle {
                slug: &slug,
                title,
                content: title,
                category: "test",
                facts: &facts,
                content_hash: "h",
            },
        )
        .await
        .unwrap();
        assert!(changed, "a new article counts as changed");
        let chunk = knowledge::upsert_chunk(&pool, article, 0, title, title)
            .await
            .unwrap();
        knowledge::upsert_embedding(&pool, chunk, MINILM, unit_vector(384, i))
            .await
            .unwrap();
        chunk_ids.push(chunk);
    }
    // A query closest to the second article's direction.
    let mut query = unit_vector(384, 1);
    query[0] = 0.2;
    let hits = knowledge::nearest_chunks(&pool, MINILM, query, 2)
        .await
        .unwrap();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].chunk_id, chunk_ids[1], "nearest first");
    assert_eq!(hits[0].title, "API rate limits");
    assert!(hits[0].score > hits[1].score);

    let plan: Vec<String> = sqlx::query_scalar(
        "explain select chunk_id from knowledge_embeddings where model = 'all-minilm-l6-v2'
         order by embedding::vector(384) <=> $1 limit 3",
    )
    .bind(pgvector::Vector::from(unit_vector(384, 0)))
    .fetch_all(&pool)
    .await
    .unwrap();
    // With three rows the planner may prefer a scan; the index must at least exist and be usable.
    let index_exists: bool = sqlx::query_scalar(
        "select exists(select 1 from pg_indexes where indexname = 'idx_knowledge_embeddings_minilm' and indexdef like '%hnsw%')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        index_exists,
        "the HNSW index for MiniLM exists; plan was {plan:?}"
    );
}

#[tokio::test]
async fn embeddings_of_a_wrong_dimension_are_refused() {
    let pool = fresh_database().await;
    let (article, _) = knowledge::upsert_article(
        &pool,
        &NewArticle {
            slug: "x/y",
            title: "t",
            content: "c",
            category: "x",
            facts: &[],
            content_hash: "h",
        },
    )
    .await
    .unwrap();
    let chunk = knowledge::upsert_chunk(&pool, article, 0, "t", "c")
        .await
        .unwrap();
    let result = knowledge::upsert_embedding(&pool, chunk, MINILM, vec![0.5; 10]).await;
    assert!(
        result.is_err(),
        "a 10-dimension vector stored as a 384-dimension model must fail"
    );
}

#[tokio::test]
async fn reimporting_an_unchanged_article_reports_no_change() {
    let pool = fresh_database().await;
    let article = NewArticle {
        slug: "a/b",
        title: "t",
        content: "c",
        category: "a",
        facts: &[],
        content_hash: "h1",
    };
    let (id, changed) = knowledge::upsert_article(&pool, &article).await.unwrap();
    assert!(changed);
    let (same, changed) = knowledge::upsert_article(&pool, &article).await.unwrap();
    assert_eq!(id, same);
    assert!(!changed, "same hash, no change");
    let edited = NewArticle {
        content_hash: "h2",
        ..article
    };
    let (_, changed) = knowledge::upsert_article(&pool, &edited).await.unwrap();
    assert!(changed, "new hash, changed");
}

#[tokio::test]
async fn full_text_search_finds_articles_by_their_words() {
    let pool = fresh_database().await;
    for (slug, title, body) in [
        (
            "a/1",
            "Reset a forgotten password",
            "Choose Forgot password? on the sign-in page.",
        ),
        (
            "a/2",
            "API rate limits",
            "120 requests per minute per token.",
        ),
    ] {
        let (article, _) = knowledge::upsert_article(
            &pool,
            &NewArticle {
                slug,
                title,
                content: body,
                category: "a",
                facts: &[],
                content_hash: slug,
            },
        )
        .await
        .unwrap();
        knowledge::upsert_chunk(&pool, article, 0, title, body)
            .await
            .unwrap();
    }
    let hits = knowledge::full_text_chunks(&pool, "how many requests can I send per minute?", 5)
        .await
        .unwrap();
    assert_eq!(hits.first().map(|h| h.slug.as_str()), Some("a/2"));
}
