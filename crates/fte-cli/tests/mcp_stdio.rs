//! `fte mcp` as the child process of an MCP client (the `rmcp` client over
//! stdio, as Claude Desktop or VS Code start it): the tools are listed, a
//! product question finds its article, and every call is audited under the
//! owner of `MCP_STAFF_KEY`. A key that is not a staff key refuses to start.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fte_agent::{LocalMiniLm, import_knowledge_base};
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::process::Command;

const STAFF_KEY: &str = "stdio-test-staff-key-31c9";
const STAFF_NAME: &str = "carla.ops";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `fte mcp` on `database`, acting with `key`; no broker, no stray files.
fn fte_mcp(database: &str, key: &str) -> Command {
    let scratch = std::env::temp_dir().join(format!("fte-mcp-stdio-{}", uuid::Uuid::new_v4()));
    let mut command = Command::new(env!("CARGO_BIN_EXE_fte"));
    command
        .arg("mcp")
        .current_dir(repo_root())
        .env("FTE_PROFILE", "dev")
        .env("DATABASE_URL", database)
        .env(
            "STAFF_API_KEYS",
            format!("{STAFF_NAME}:{:x}", Sha256::digest(STAFF_KEY.as_bytes())),
        )
        .env("MCP_STAFF_KEY", key)
        .env("FTE_DEV_STAFF_KEY_FILE", scratch.join("staff-key"))
        .env("FTE_BROKER_ADDRESS_FILE", scratch.join("broker.addr"))
        .env_remove("KAFKA_BOOTSTRAP_SERVERS")
        .env_remove("OPENAI_API_KEY")
        .env("LOG_FORMAT", "json");
    command
}

/// A fresh database holding the account articles of the knowledge base.
async fn database_with_account_articles() -> (sqlx::PgPool, String) {
    let pool = fte_store::testing::fresh_database().await;
    let kb = std::env::temp_dir().join(format!("fte-mcp-kb-{}", uuid::Uuid::new_v4().simple()));
    let account = kb.join("account");
    std::fs::create_dir_all(&account).unwrap();
    for entry in std::fs::read_dir(repo_root().join("kb/account")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, account.join(path.file_name().unwrap())).unwrap();
    }
    let model = LocalMiniLm::load(&repo_root().join("models/all-minilm-l6-v2"))
        .expect("the local model is installed: run scripts/models.sh");
    import_knowledge_base(&pool, &model, &kb, |_, _| {})
        .await
        .expect("the articles import");
    let name: String = sqlx::query_scalar("select current_database()")
        .fetch_one(&pool)
        .await
        .unwrap();
    let url = fte_store::testing::with_database(&fte_store::testing::server_url(), &name);
    (pool, url)
}

#[tokio::test]
async fn a_desktop_client_drives_fte_mcp_over_stdio_as_the_keys_owner() {
    let (pool, url) = database_with_account_articles().await;
    let (transport, _stderr) = TokioChildProcess::builder(fte_mcp(&url, STAFF_KEY))
        .stderr(Stdio::null())
        .spawn()
        .expect("fte mcp starts");
    let client = tokio::time::timeout(Duration::from_secs(120), ().serve(transport))
        .await
        .expect("the handshake completes in time")
        .expect("the handshake succeeds");

    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 11, "the plan's five tools and six staff tools");
    let found = client
        .call_tool(
            CallToolRequestParams::new("search_knowledge_base").with_arguments(
                json!({ "query": "How do I turn on two-factor authentication?" })
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
        )
        .await
        .unwrap();
    let found = found.structured_content.expect("structured content");
    assert_eq!(
        found["passages"][0]["slug"], "account/turn-on-two-factor-authentication",
        "{found}"
    );
    let queue = client
        .call_tool(CallToolRequestParams::new("list_escalations"))
        .await
        .unwrap();
    assert_eq!(queue.structured_content.unwrap()["total"], 0);
    client.cancel().await.unwrap();

    let audit = fte_store::audit::recent(&pool, 10).await.unwrap();
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .map(|r| (r.staff.as_str(), r.action.as_str()))
        .collect();
    assert!(
        actions.contains(&(STAFF_NAME, "knowledge.search")),
        "{actions:?}"
    );
    assert!(
        actions.contains(&(STAFF_NAME, "escalation.list")),
        "{actions:?}"
    );
}

#[tokio::test]
async fn fte_mcp_refuses_to_start_with_a_key_that_is_not_a_staff_key() {
    let pool = fte_store::testing::fresh_database().await;
    let name: String = sqlx::query_scalar("select current_database()")
        .fetch_one(&pool)
        .await
        .unwrap();
    let url = fte_store::testing::with_database(&fte_store::testing::server_url(), &name);
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        fte_mcp(&url, "a-guessed-key").stdin(Stdio::null()).output(),
    )
    .await
    .expect("fte mcp exits in time")
    .expect("fte mcp runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("MCP_STAFF_KEY is not one of the staff keys"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty(), "nothing on the protocol stream");
    assert!(
        !stderr.contains("a-guessed-key"),
        "the key is never printed"
    );
}
