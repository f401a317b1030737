-- 0009_analytics.sql - hourly and daily message statistics, written by the
-- gacp-analytics batch (cron / systemd timer) and read by the analytics API.
--
-- One row per tenant × channel × intent × language × bucket.  Rows are
-- recomputed whole from messages for every bucket that saw new messages
-- (plus a lag window for late rows), so re-running gives identical tables.
-- Percentiles are exact (percentile_cont) over the bucket's rows; a day's
-- percentiles are computed from its messages, not averaged from hours.

CREATE TABLE analytics_hourly (
    tenant_id              uuid        NOT NULL,
    bucket_start           timestamptz NOT NULL,
    channel_id             uuid        NOT NULL,
    intent                 text        NOT NULL,
    language               text        NOT NULL,
    messages_in            integer     NOT NULL,
    messages_out           integer     NOT NULL,
    unique_contacts        integer     NOT NULL,
    new_contacts           integer     NOT NULL,
    fallbacks              integer     NOT NULL,
    handoffs               integer     NOT NULL,
    confidence_avg         real,
    confidence_p50         real,
    confidence_p95         real,
    latency_p50_ms         real,
    latency_p95_ms         real,
    failed_sends           integer     NOT NULL,
    computed_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT analytics_hourly_pkey PRIMARY KEY (tenant_id, bucket_start, channel_id, intent, language)
);
CREATE TABLE analytics_daily (LIKE analytics_hourly INCLUDING DEFAULTS);
ALTER TABLE analytics_daily ADD CONSTRAINT analytics_daily_pkey
    PRIMARY KEY (tenant_id, bucket_start, channel_id, intent, language);

-- How far the batch has read, per tenant (messages.created_at).
CREATE TABLE analytics_watermarks (
    tenant_id     uuid        NOT NULL,
    watermark     timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT analytics_watermarks_pkey PRIMARY KEY (tenant_id)
);

ALTER TABLE analytics_hourly ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics_hourly FORCE ROW LEVEL SECURITY;
CREATE POLICY analytics_hourly_isolation ON analytics_hourly
    USING (tenant_id = gacp_current_tenant()) WITH CHECK (tenant_id = gacp_current_tenant());
ALTER TABLE analytics_daily ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics_daily FORCE ROW LEVEL SECURITY;
CREATE POLICY analytics_daily_isolation ON analytics_daily
    USING (tenant_id = gacp_current_tenant()) WITH CHECK (tenant_id = gacp_current_tenant());
ALTER TABLE analytics_watermarks ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics_watermarks FORCE ROW LEVEL SECURITY;
CREATE POLICY analytics_watermarks_isolation ON analytics_watermarks
    USING (tenant_id = gacp_current_tenant()) WITH CHECK (tenant_id = gacp_current_tenant());

CREATE INDEX messages_created_idx ON messages (tenant_id, created_at);

-- The API reads; only the batch (owner role, per tenant) writes.
GRANT SELECT ON analytics_hourly, analytics_daily, analytics_watermarks TO gacp_app;
