//! `fte mcp`: the server on standard input and output, for a desktop MCP
//! client on an operator's machine that starts it as a child process with
//! the same database settings as the rest of the system.
//!
//! The process acts as one staff member: the owner of `MCP_STAFF_KEY`,
//! which must be one of the configured staff keys — a key that does not
//! match refuses to start, so every call is audited under a real owner's
//! name. Standard output carries only the protocol; logs go to standard
//! error.

use anyhow::Context;
use fte_gateway::auth::{StaffAuth, matching_key};
use fte_runtime::settings::StaffKey;
use rmcp::ServiceExt;
use rmcp::transport::IntoTransport;
use secrecy::{ExposeSecret, SecretString};

use crate::{McpContext, SupportServer};

/// Why `fte mcp` cannot say who is acting.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StaffKeyError {
    /// No key was given.
    #[error("MCP_STAFF_KEY is not set: give fte mcp the staff key it acts with")]
    Missing,
    /// The key is none of the configured ones.
    #[error("MCP_STAFF_KEY is not one of the staff keys (STAFF_API_KEYS)")]
    Unknown,
}

/// The staff member `key` belongs to among `keys`.
pub fn staff_for_key(
    key: Option<&SecretString>,
    keys: &[StaffKey],
) -> Result<StaffAuth, StaffKeyError> {
    let key = key.ok_or(StaffKeyError::Missing)?;
    matching_key(key.expose_secret().trim(), keys)
        .map(|owner| StaffAuth::named(owner.name.clone()))
        .ok_or(StaffKeyError::Unknown)
}

/// Serves `ctx` as `staff` on `transport` until the client closes it.
pub async fn serve<T, E, A>(ctx: McpContext, staff: StaffAuth, transport: T) -> anyhow::Result<()>
where
    T: IntoTransport<rmcp::RoleServer, E, A>,
    E: std::error::Error + Send + Sync + 'static,
{
    let running = SupportServer::acting_as(ctx, staff)
        .serve(transport)
        .await
        .context("The MCP client did not complete the handshake")?;
    running
        .waiting()
        .await
        .context("The MCP session ended abnormally")?;
    Ok(())
}

/// Serves `ctx` as `staff` on this process's standard input and output.
pub async fn serve_stdio(ctx: McpContext, staff: StaffAuth) -> anyhow::Result<()> {
    tracing::info!("MCP server on standard input and output");
    serve(ctx, staff, rmcp::transport::stdio()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(key: &str) -> [u8; 32] {
        use sha2::Digest;
        sha2::Sha256::digest(key.as_bytes()).into()
    }

    #[test]
    fn the_key_names_its_owner_and_nothing_else_is_accepted() {
        let keys = [StaffKey::new("ana.ruiz", digest("key-a"))];
        let staff = staff_for_key(Some(&SecretString::from("key-a")), &keys).unwrap();
        assert_eq!(staff.name(), "ana.ruiz");
        assert_eq!(
            staff_for_key(Some(&SecretString::from("key-b")), &keys).unwrap_err(),
            StaffKeyError::Unknown
        );
        assert_eq!(
            staff_for_key(None, &keys).unwrap_err(),
            StaffKeyError::Missing
        );
    }
}
