"""Interoperability of the MCP server with the official Python SDK client.

Drives a running `fte run` (gateway, worker with the offline agent, provider
fakes, /mcp) with the `mcp` package from PyPI, as a staff member's assistant
would:

- over streamable HTTP at /mcp with the staff key: lists the tools, asks
  search_knowledge_base a product question and checks the right article
  comes first, finds the escalation a WhatsApp customer's refund request
  raised, takes it, replies, and resolves it — and checks the customer
  received the reply on WhatsApp (the fake Twilio's outbox, /dev/outbox);
  a call with bad arguments is a tool error; /mcp without a key or with a
  wrong one answers 401;
- over stdio, starting `fte mcp` as a desktop client does: lists the tools
  and searches the knowledge base.

Run by scripts/test.sh (stage "MCP interoperability"), which installs the
package and starts the system; exits non-zero on the first failed check.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import httpx2
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

TOOLS = {
    "search_knowledge_base",
    "create_ticket",
    "get_customer_history",
    "escalate_to_human",
    "send_response",
    "list_escalations",
    "assign_escalation",
    "reply_to_customer",
    "resolve_escalation",
    "lookup_customer",
    "read_conversation",
}
QUESTION = "How do I turn on two-factor authentication?"
ARTICLE = "account/turn-on-two-factor-authentication"
CUSTOMER_PHONE = "+34 612 345 678"
CUSTOMER_E164 = "+34612345678"
REPLY = "Hi Lucia, I have refunded the duplicate charge; you will see it within 5 working days."


def check(condition, message):
    if not condition:
        print(f"FAIL: {message}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {message}")


def post_initialize(url, authorization):
    """A JSON-RPC initialize posted by hand; returns (status, body)."""
    body = json.dumps({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "interop", "version": "1"}},
    }).encode()
    headers = {"content-type": "application/json",
               "accept": "application/json, text/event-stream"}
    if authorization:
        headers["authorization"] = authorization
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def outbox(base_url):
    with urllib.request.urlopen(f"{base_url}/dev/outbox", timeout=10) as response:
        return json.load(response)["messages"]


def structured(result, what):
    if result.is_error:
        check(False, f"{what} succeeds ({result.content[0].text if result.content else ''})")
    check(result.structured_content is not None, f"{what} answers structured content")
    return result.structured_content


async def over_http(base_url, key, fte):
    url = f"{base_url}/mcp"
    for authorization in (None, "Bearer not-a-staff-key"):
        status, body = post_initialize(url, authorization)
        check(status == 401, f"/mcp with {'a wrong key' if authorization else 'no key'} answers 401 (got {status})")
        check(json.loads(body)["error"] == "unauthorized", "the 401 says why")

    headers = {"Authorization": f"Bearer {key}"}
    async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
        async with streamable_http_client(url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                info = await session.initialize()
                check(info.server_info.name == "fte-support", "the server introduces itself")

                listed = await session.list_tools()
                names = {tool.name for tool in listed.tools}
                check(names == TOOLS, f"the eleven tools are listed ({sorted(names)})")

                found = structured(
                    await session.call_tool("search_knowledge_base", {"query": QUESTION}),
                    "search_knowledge_base")
                check(found["passages"][0]["slug"] == ARTICLE,
                      f"the product question finds {ARTICLE} first ({found['passages'][0]['slug']})")
                check(found["relevant"] is True, "the article is relevant enough to answer from")

                bad = await session.call_tool("assign_escalation", {"escalation_id": "not-an-id"})
                check(bad.is_error is True, "bad arguments come back as a tool error")
                check("escalation_id" in bad.content[0].text, "the tool error names the argument")

                # A customer asks WhatsApp for a refund; the worker escalates it.
                subprocess.run(
                    [fte, "simulate", "whatsapp", "--from", CUSTOMER_PHONE, "--name", "Lucia Ortega",
                     "--body", "I was charged twice this month, I want a refund", "--base-url", base_url],
                    check=True, stdout=subprocess.DEVNULL)
                escalation = None
                deadline = time.monotonic() + 90
                while escalation is None and time.monotonic() < deadline:
                    result = await session.call_tool("list_escalations", {"status": "pending"})
                    if result.is_error:
                        check(False, f"list_escalations succeeds ({result.content[0].text})")
                    for item in result.structured_content["items"]:
                        if item["customer"]["phone"] == CUSTOMER_E164:
                            escalation = item
                    if escalation is None:
                        await asyncio.sleep(1)
                check(escalation is not None, "the refund request is in the escalation queue")
                check(escalation["reason"] == "refund", "escalated for a refund")
                check(escalation["channel"] == "whatsapp", "on WhatsApp")

                taken = structured(
                    await session.call_tool("assign_escalation", {"escalation_id": escalation["id"]}),
                    "assign_escalation")
                check(taken["status"] == "assigned" and taken["assigned_to"] == "dev",
                      "taken by the owner of the staff key")

                sent = structured(
                    await session.call_tool("reply_to_customer", {
                        "conversation_id": escalation["conversation_id"], "message": REPLY}),
                    "reply_to_customer")
                check(sent["channel"] == "whatsapp", "the reply goes out on WhatsApp")

                delivered = None
                deadline = time.monotonic() + 60
                while delivered is None and time.monotonic() < deadline:
                    for record in outbox(base_url):
                        if (record["channel"] == "whatsapp" and CUSTOMER_E164 in record["to"]
                                and "refunded the duplicate charge" in record["body"]):
                            delivered = record
                    if delivered is None:
                        await asyncio.sleep(0.5)
                check(delivered is not None, "the customer received the reply on WhatsApp (fake Twilio outbox)")

                closed = structured(
                    await session.call_tool("resolve_escalation", {
                        "escalation_id": escalation["id"],
                        "resolution_notes": "Refunded the duplicate charge."}),
                    "resolve_escalation")
                check(closed["status"] == "resolved" and closed["resolved_by"] == "dev", "resolved by dev")


async def over_stdio(fte, key, database_url):
    env = dict(os.environ, MCP_STAFF_KEY=key, DATABASE_URL=database_url, FTE_PROFILE="dev")
    params = StdioServerParameters(command=fte, args=["mcp"], env=env)
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            listed = await session.list_tools()
            check({tool.name for tool in listed.tools} == TOOLS, "fte mcp over stdio lists the tools")
            found = structured(
                await session.call_tool("search_knowledge_base", {"query": QUESTION, "max_results": 1}),
                "search_knowledge_base over stdio")
            check(found["passages"][0]["slug"] == ARTICLE, "and finds the article over stdio")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--key-file", required=True)
    parser.add_argument("--fte", required=True)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    with open(args.key_file, encoding="utf-8") as file:
        key = file.read().strip()
    asyncio.run(over_http(args.base_url.rstrip("/"), key, args.fte))
    asyncio.run(over_stdio(args.fte, key, args.database_url))
    print("MCP interoperability: all checks passed")


if __name__ == "__main__":
    main()
