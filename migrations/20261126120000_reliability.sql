-- Reliability: no lock is held while publishing, a reply is changed only by
-- the sender that holds it, and a message can be held back until later.

-- The event outbox is claimed with a lease (`available_at` moves forward
-- while a relay publishes) instead of a row lock held across the publish,
-- and an event can be queued for later (a rate-limited customer's deferred
-- follow-up). Headers travel with the event (a dead letter's reason).
alter table event_outbox
    add column available_at timestamptz not null default now(),
    add column headers jsonb not null default '{}';

-- A claimed reply carries the claim's fencing token: only the sender holding
-- the current claim may renew it or change the reply's state.
alter table reply_outbox add column claim_token uuid;
