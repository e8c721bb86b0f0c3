-- Human handoff: who closed an escalation, and the lookups of the staff
-- queue (oldest pending first) and of the overdue count per channel.

alter table escalations add column resolved_by varchar(255);

create index idx_escalations_open_due on escalations (channel, expected_response_by)
    where status <> 'resolved';
