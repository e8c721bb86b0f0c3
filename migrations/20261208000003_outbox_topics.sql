-- One outbox row can announce its event on more than one topic: a web form
-- submission goes to the worker's topic and to the channel's inbound topic
-- with one row, one payload and one delete instead of two of each: `topic`
-- is the first, `also_topics` the rest, and the row counts as published once
-- every topic took it. A constant default adds the column without rewriting
-- the table.
alter table event_outbox add column also_topics text[] not null default '{}';
