-- channel_configs was declared and seeded but read by no code: which channels
-- run is CHANNELS_ENABLED, and the reply limits are the brand voice's rules
-- (fte-domain's Channel::limits, enforced by the formatter and the guard).
-- One source per setting, so the table goes.
drop table channel_configs;
