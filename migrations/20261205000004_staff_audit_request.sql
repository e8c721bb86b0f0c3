-- The HTTP side of a staff action: the method, the route template (never the
-- concrete path, which may hold an email or phone of a lookup) and the status
-- the request answered. Null for actions that did not come over HTTP (the
-- MCP server's tools, the `fte` operator commands).

alter table staff_audit
    add column method varchar(10),
    add column route  varchar(200),
    add column status smallint;
