//! # fte-mcp
//!
//! The MCP server (Model Context Protocol, on the official Rust SDK `rmcp`):
//! the agent's five tools and the staff queue for any MCP client — Claude
//! Desktop, VS Code, Cursor or an operator's own assistant. `docs/mcp.md`
//! shows the client configuration and the table of tools.
//!
//! ## Tour
//!
//! - [`server`]: [`SupportServer`], the MCP handler: who is calling, the
//!   server's description, and the routers below.
//! - [`plan_tools`]: the plan's tools — `search_knowledge_base`,
//!   `create_ticket`, `get_customer_history`, `escalate_to_human`,
//!   `send_response` — acting for real on the CRM, as staff.
//! - [`staff_tools`]: the staff queue — list escalations, take one, reply
//!   through the customer's channel, resolve, look a customer up, read a
//!   conversation.
//! - [`resources`]: `kb://{slug}` (a knowledge-base article) and
//!   `conversation://{id}`; [`prompts`]: what staff ask their assistant
//!   for (a draft reply to an escalation in the brand voice, a review of
//!   the queue).
//! - [`failure`]: every failure becomes an MCP *tool error* with a clear
//!   message (never a protocol error, never a crash of the session).
//! - [`http`]: streamable HTTP at `/mcp` behind the staff bearer key, rate
//!   limited; [`stdio`]: standard input and output for a desktop client
//!   (`fte mcp`); [`context::McpContext`]: the pool, the publisher and the
//!   knowledge search every tool uses.
//!
//! ## No second implementation
//!
//! Every tool calls the code that already does the job: the knowledge
//! search and history shaping of the agent's own tools
//! (`fte_agent::tools`), the staff operations behind the REST staff API
//! (`fte_gateway::routes::{escalations, staff_reply, staff}`: the same
//! validation, audit, transaction and event), and the worker's escalation
//! path (`fte_worker::escalate::escalate_ticket`). Replies reach the
//! customer exactly as a staff reply through the REST API does: a
//! `reply_outbox` row that the worker's sender for the customer's channel
//! delivers.
//!
//! ## Who may do what
//!
//! Only staff: every request carries a staff key (a bearer token over HTTP,
//! `MCP_STAFF_KEY` on stdio) whose owner the audit names on every tool
//! call, resource read and prompt (`fte_store::audit`, the same trail as
//! the staff API). Staff see everything, as on the staff API. No tool lets
//! a *customer* act: nothing here writes a customer's message or speaks
//! for one.
//!
//! ## Where `/mcp` is served, and why not by the gateway
//!
//! `search_knowledge_base` needs the query embedded by the same model that
//! embedded the articles — the local MiniLM (candle, ~90 MB of weights) or
//! OpenAI's embeddings (async-openai) — and `escalate_to_human` takes the
//! worker's escalation path. The gateway must not link the agent: it stays
//! the small, fast edge for webhooks and the web form, without the model's
//! weights, memory and CPU on its pods. So this crate links the agent, the
//! worker and the gateway's library (for the staff operations, `StaffAuth`
//! and the rate limiter), and `/mcp` is served by a process that may link
//! the agent: `fte mcp --http` in production (the worker image, which
//! already carries the model), and `fte run` locally, which mounts the
//! router of [`http`] beside the gateway's on the same port
//! (`fte_gateway::startup::serve_with`). A search-only crate the gateway
//! could link would have moved the embedding model into the gateway's
//! image for one staff tool.
//!
//! Logs carry ids, tool names and outcomes — never names, addresses, phone
//! numbers, message bodies, queries or keys.

pub mod context;
pub mod failure;
pub mod http;
pub mod plan_tools;
pub mod prompts;
pub mod resources;
mod schema;
pub mod server;
pub mod staff_tools;
pub mod stdio;
pub mod tickets;

pub use context::McpContext;
pub use server::SupportServer;
