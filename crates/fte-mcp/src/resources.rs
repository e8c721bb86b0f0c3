//! Resources: `kb://{slug}`, one knowledge-base article as Markdown (listed
//! too, so a client can browse the base), and `conversation://{id}`, a
//! conversation with every message as JSON (the staff API's
//! `GET /conversations/{id}` body). Reads are audited like tool calls.

use fte_domain::ConversationId;
use fte_gateway::ApiError;
use fte_gateway::auth::Target;
use fte_gateway::routes::staff;
use fte_store::knowledge;
use rmcp::ErrorData;
use rmcp::RoleServer;
use rmcp::model::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceResponse, ReadResourceResult,
    Resource, ResourceContents, ResourceTemplate,
};
use rmcp::service::RequestContext;

use crate::SupportServer;
use crate::failure::protocol_error;

/// The scheme of knowledge-base articles.
pub const KB_SCHEME: &str = "kb://";
/// The scheme of conversations.
pub const CONVERSATION_SCHEME: &str = "conversation://";

/// Every knowledge-base article, by slug.
pub(crate) async fn list(
    server: &SupportServer,
    context: &RequestContext<RoleServer>,
) -> Result<ListResourcesResult, ErrorData> {
    let pool = &server.ctx.pool;
    let articles = async {
        let staff = server.staff(context)?;
        staff
            .audit(pool, "knowledge.list", Target::all("knowledge"))
            .await?;
        Ok::<_, ApiError>(knowledge::articles(pool).await?)
    }
    .await
    .map_err(protocol_error)?;
    let resources = articles
        .into_iter()
        .map(|article| {
            let mut resource = Resource::new(format!("{KB_SCHEME}{}", article.slug), &article.slug)
                .with_title(&article.title)
                .with_mime_type("text/markdown");
            if let Some(category) = &article.category {
                resource = resource.with_description(format!("Knowledge base: {category}"));
            }
            resource
        })
        .collect();
    Ok(ListResourcesResult::with_all_items(resources))
}

/// The two resource templates.
pub(crate) fn templates() -> ListResourceTemplatesResult {
    ListResourceTemplatesResult::with_all_items(vec![
        ResourceTemplate::new(format!("{KB_SCHEME}{{slug}}"), "knowledge-base-article")
            .with_title("Knowledge base article")
            .with_description(
                "One article of the Orbitask knowledge base (slug: category/name), as Markdown.",
            )
            .with_mime_type("text/markdown"),
        ResourceTemplate::new(format!("{CONVERSATION_SCHEME}{{id}}"), "conversation")
            .with_title("Conversation")
            .with_description(
                "A conversation with every message across channels, oldest first, as JSON.",
            )
            .with_mime_type("application/json"),
    ])
}

/// Reads `uri`.
pub(crate) async fn read(
    server: &SupportServer,
    uri: &str,
    context: &RequestContext<RoleServer>,
) -> Result<ReadResourceResponse, ErrorData> {
    let contents = read_contents(server, uri, context)
        .await
        .map_err(protocol_error)?;
    Ok(ReadResourceResult::new(vec![contents]).into())
}

async fn read_contents(
    server: &SupportServer,
    uri: &str,
    context: &RequestContext<RoleServer>,
) -> Result<ResourceContents, ApiError> {
    let staff = server.staff(context)?;
    let pool = &server.ctx.pool;
    if let Some(slug) = uri.strip_prefix(KB_SCHEME) {
        staff
            .audit(pool, "knowledge.read", Target::one("article", slug))
            .await?;
        let article = knowledge::article(pool, slug)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("No knowledge-base article {uri}.")))?;
        let text = format!("# {}\n\n{}", article.title, article.content.trim());
        return Ok(ResourceContents::text(text, uri).with_mime_type("text/markdown"));
    }
    if let Some(raw) = uri.strip_prefix(CONVERSATION_SCHEME) {
        let id: ConversationId = raw.trim().parse().map_err(|_| {
            ApiError::bad_request("invalid_conversation_id", "Not a valid conversation ID.")
        })?;
        let detail = staff::read_conversation(pool, &staff, id).await?;
        let text = serde_json::to_string_pretty(&detail)
            .map_err(|e| ApiError::Internal(anyhow::Error::new(e)))?;
        return Ok(ResourceContents::text(text, uri).with_mime_type("application/json"));
    }
    Err(ApiError::NotFound(format!(
        "No resource {uri}: use {KB_SCHEME}{{slug}} or {CONVERSATION_SCHEME}{{id}}."
    )))
}
