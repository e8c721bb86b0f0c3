-- A web form ticket is opened before the worker knows its customer and
-- conversation; the lookups by either never ask for a null one, so neither
-- index keeps an entry for a ticket until the worker fills it in (two index
-- insertions fewer on the submit path). An equality on the column implies
-- it is not null, so every lookup still uses them.
drop index idx_tickets_conversation;
create index idx_tickets_conversation on tickets (conversation_id) where conversation_id is not null;
drop index idx_tickets_customer;
create index idx_tickets_customer on tickets (customer_id) where customer_id is not null;
