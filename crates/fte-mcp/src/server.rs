//! [`SupportServer`]: the MCP handler. It knows who is calling — the staff
//! member whose key the HTTP request carried ([`crate::http`] puts a
//! `StaffAuth` on every request it lets through), or the one `fte mcp`
//! was started for on stdio — and routes tools, prompts and resources.

use fte_gateway::ApiError;
use fte_gateway::auth::StaffAuth;
use rmcp::handler::server::router::prompt::PromptRouter;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{
    Implementation, ListResourceTemplatesResult, ListResourcesResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, prompt_handler, tool_handler};

use crate::McpContext;

/// What the server tells the client's model about itself.
const INSTRUCTIONS: &str = "Staff tools of Orbitask support (Orbit Labs). \
Search the knowledge base (search_knowledge_base) before stating any product fact, and copy \
numbers and menu paths exactly. The human handoff: list_escalations shows the queue oldest \
first; take a case with assign_escalation, answer the customer with reply_to_customer (it is \
delivered on the customer's current channel, formatted for it; only escalated conversations \
take a staff reply), then close it with resolve_escalation. Never state a price, discount or \
refund amount the knowledge base does not give. Every call is audited under your staff key.";

/// The MCP server of the support system. Cheap to clone: one per session
/// (or per request on the stateless HTTP endpoint).
#[derive(Clone)]
pub struct SupportServer {
    pub(crate) ctx: McpContext,
    /// Who every call acts as, when the transport cannot say (stdio).
    caller: Option<StaffAuth>,
    tool_router: ToolRouter<Self>,
    prompt_router: PromptRouter<Self>,
}

impl std::fmt::Debug for SupportServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupportServer").finish_non_exhaustive()
    }
}

impl SupportServer {
    /// A server for the HTTP endpoint: each request's staff member is the
    /// one its bearer key names.
    pub fn per_request(ctx: McpContext) -> Self {
        Self::build(ctx, None)
    }

    /// A server acting as `staff` for every call (stdio: the process was
    /// started with that staff member's key).
    pub fn acting_as(ctx: McpContext, staff: StaffAuth) -> Self {
        Self::build(ctx, Some(staff))
    }

    fn build(ctx: McpContext, caller: Option<StaffAuth>) -> Self {
        Self {
            ctx,
            caller,
            tool_router: Self::plan_tools() + Self::staff_tools(),
            prompt_router: Self::prompt_router(),
        }
    }

    /// The staff member this call acts as. Over HTTP only the request's own
    /// key counts; a request without one never reaches a tool, and is
    /// refused here too should it ever.
    pub(crate) fn staff(
        &self,
        context: &RequestContext<RoleServer>,
    ) -> Result<StaffAuth, ApiError> {
        if let Some(parts) = context.extensions.get::<axum::http::request::Parts>() {
            return parts
                .extensions
                .get::<StaffAuth>()
                .cloned()
                .ok_or(ApiError::Unauthorized);
        }
        self.caller.clone().ok_or(ApiError::Unauthorized)
    }
}

#[tool_handler(router = self.tool_router)]
#[prompt_handler(router = self.prompt_router)]
impl ServerHandler for SupportServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_prompts()
                .build(),
        )
        .with_server_info(
            Implementation::new("fte-support", env!("CARGO_PKG_VERSION"))
                .with_title("Orbitask support (staff)"),
        )
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        crate::resources::list(self, &context).await
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(crate::resources::templates())
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        crate::resources::read(self, &request.uri, &context).await
    }
}
