-- A history for the gateway benchmark: customers who wrote before, each with
-- an email identifier, a resolved conversation, its ticket and message. A
-- database that already holds customers is what a running deployment has;
-- statements planned against empty tables are not (and their cached plans
-- keep scanning until the next analyze). psql variable: customers.
insert into customers (email, name)
select 'history' || i || '@example.com', 'History ' || i from generate_series(1, :customers) i;
insert into customer_identifiers (customer_id, identifier_type, identifier_value, trust_source)
select id, 'email', email, 'claim' from customers where email like 'history%';
insert into conversations (customer_id, initial_channel, current_channel, status, last_message_at)
select id, 'web_form', 'web_form', 'resolved', now() - interval '2 days'
from customers where email like 'history%';
insert into tickets (conversation_id, customer_id, source_channel, subject, category, priority, status)
select c.id, c.customer_id, 'web_form', 'An earlier question', 'general', 'medium', 'resolved'
from conversations c join customers u on u.id = c.customer_id where u.email like 'history%';
insert into messages (conversation_id, channel, direction, role, content, channel_message_id,
                      delivery_status, ticket_id)
select conversation_id, 'web_form', 'inbound', 'customer', 'An earlier question.', id::text,
       'received', id
from tickets where subject = 'An earlier question';
analyze;
