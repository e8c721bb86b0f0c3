-- Indexes that no query uses, each one a btree insertion on every first-time
-- customer, identifier or conversation the web form and the worker write.
--
-- customers.email is already unique: its constraint's index serves every
-- lookup by email, and this second one only doubled the write.
drop index idx_customers_email;
-- Identifiers are always looked up by type and value together, which the
-- unique (identifier_type, identifier_value) index serves; no query names the
-- value alone.
drop index idx_customer_identifiers_value;
-- Every filter on a conversation's status also names its customer (served by
-- idx_conversations_customer and the partial idx_conversations_customer_open);
-- the per-status counts read the whole table either way.
drop index idx_conversations_status;
