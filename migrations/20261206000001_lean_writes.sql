-- Fewer writes per accepted message.
--
-- The event outbox keeps only events still to publish: a published event is
-- deleted (one statement per publish batch) instead of being stamped, so the
-- table stays small, a publish writes no second copy of the payload, and a
-- customer's message does not outlive its publication here.
delete from event_outbox where published_at is not null;
drop index idx_event_outbox_unpublished;
alter table event_outbox drop column published_at;
create index idx_event_outbox_created on event_outbox (created_at);

-- Indexes on a column of three values (the channel) serve no lookup: every
-- query that filters on the channel also filters on something selective, or
-- reads the whole table for a per-channel count. Each one cost a write on
-- every message, conversation and ticket.
drop index idx_messages_channel;
drop index idx_conversations_channel;
drop index idx_tickets_channel;

-- The response estimate counts the bot's replies of the last ten minutes;
-- without this it read every message.
create index idx_messages_bot_replies on messages (created_at)
    where direction = 'outbound' and role = 'agent' and author is null;
