-- Who on the staff read or changed what: one row per staff request (the
-- owner of the staff key, never the customer's data), written by
-- fte_store::audit::record.

create table staff_audit (
    id           uuid primary key default gen_random_uuid(),
    staff        varchar(64) not null,
    action       varchar(100) not null,
    target_type  varchar(50) not null,
    target_id    varchar(255),
    created_at   timestamptz not null default now()
);
create index idx_staff_audit_time on staff_audit (created_at);
create index idx_staff_audit_staff_time on staff_audit (staff, created_at);
create index idx_staff_audit_target on staff_audit (target_type, target_id);
