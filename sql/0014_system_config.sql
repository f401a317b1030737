-- 0014_system_config.sql - typed, validated, optionally encrypted system
-- configuration per tenant and environment, and the progress of master-key
-- rotations.  Same conventions as 0001 (tenant_id leads every key, common
-- columns, forced RLS on app.tenant_id).
--
-- The platform-wide scope is the platform tenant's own rows (tenants
-- .is_platform): no NULL tenant_id, so the same policy covers both scopes
-- and a tenant can never read the platform's rows; processes that fall back
-- to platform defaults bind the platform tenant explicitly.

------------------------------------------------------------------------------
-- Re-sealing a secret under a new master key changes its ciphertext, not its
-- value: key rotation sets app.key_rotation = 'on' for its transactions so
-- version and updated_at stay (clients holding a version keep it valid).
CREATE OR REPLACE FUNCTION gacp_touch() RETURNS trigger LANGUAGE plpgsql AS
$$
BEGIN
    IF coalesce(current_setting('app.key_rotation', true), '') = 'on' THEN
        RETURN NEW;
    END IF;
    NEW.updated_at := now();
    NEW.version := OLD.version + 1;
    RETURN NEW;
END
$$;

------------------------------------------------------------------------------
-- config_value is the canonical text of the typed value (src/sysconfig/
-- value.h), or when is_encrypted an AES-256-GCM envelope
-- (src/security/crypto.h) bound to tenant, row id, environment and key.
CREATE TABLE system_config (
    tenant_id         uuid        NOT NULL,
    id                uuid        NOT NULL DEFAULT gen_random_uuid(),
    environment       text        NOT NULL,
    config_key        text        NOT NULL,
    config_value      text        NOT NULL,
    config_type       text        NOT NULL,
    description       text,
    category          text        NOT NULL DEFAULT 'general',
    is_encrypted      boolean     NOT NULL DEFAULT false,
    is_system_config  boolean     NOT NULL DEFAULT false,
    validation_rules  jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    created_by        uuid,
    updated_by        uuid,
    is_deleted        boolean     NOT NULL DEFAULT false,
    deleted_at        timestamptz,
    deleted_by        uuid,
    metadata          jsonb       NOT NULL DEFAULT '{}'::jsonb,
    version           integer     NOT NULL DEFAULT 1,
    CONSTRAINT system_config_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT system_config_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id),
    CONSTRAINT system_config_environment_valid
        CHECK (environment IN ('development', 'staging', 'production')),
    CONSTRAINT system_config_key_format
        CHECK (config_key ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$'),
    CONSTRAINT system_config_type_valid
        CHECK (config_type IN ('string', 'json', 'boolean', 'integer', 'float')),
    CONSTRAINT system_config_category_format
        CHECK (category ~ '^[a-z0-9][a-z0-9_.-]{0,63}$'),
    CONSTRAINT system_config_description_length
        CHECK (description IS NULL OR char_length(description) <= 1000),
    CONSTRAINT system_config_rules_object
        CHECK (jsonb_typeof(validation_rules) = 'object'),
    CONSTRAINT system_config_value_size CHECK (octet_length(config_value) <= 131072),
    CONSTRAINT system_config_sealed
        CHECK (NOT is_encrypted OR config_value ~ '^v1\.[A-Za-z0-9_-]{1,32}\.')
);
-- Unique per tenant + environment among live rows; a deleted key can be
-- set again.
CREATE UNIQUE INDEX system_config_key ON system_config (tenant_id, environment, config_key)
    WHERE NOT is_deleted;
CREATE INDEX system_config_category ON system_config (tenant_id, category)
    WHERE NOT is_deleted;
CREATE TRIGGER system_config_touch BEFORE UPDATE ON system_config
    FOR EACH ROW EXECUTE FUNCTION gacp_touch();
ALTER TABLE system_config ENABLE ROW LEVEL SECURITY;
ALTER TABLE system_config FORCE ROW LEVEL SECURITY;
CREATE POLICY system_config_isolation ON system_config
    USING (tenant_id = gacp_current_tenant())
    WITH CHECK (tenant_id = gacp_current_tenant());

------------------------------------------------------------------------------
-- Master-key rotations (platform-level: no tenant_id, no RLS; only gacpctl
-- writes it).  One row per new key id; finished_at NULL while secrets are
-- still being re-sealed, so a crashed run is resumed instead of adding yet
-- another key.
CREATE TABLE key_rotations (
    kid              text        NOT NULL,
    started_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    batches          bigint      NOT NULL DEFAULT 0,
    rows_resealed    bigint      NOT NULL DEFAULT 0,
    rows_unreadable  bigint      NOT NULL DEFAULT 0,
    runs             integer     NOT NULL DEFAULT 1,
    started_by       text,
    CONSTRAINT key_rotations_pkey PRIMARY KEY (kid),
    CONSTRAINT key_rotations_kid_format CHECK (kid ~ '^[A-Za-z0-9_-]{1,32}$')
);

GRANT SELECT, INSERT, UPDATE ON system_config TO gacp_app;
GRANT SELECT, INSERT, UPDATE ON key_rotations TO gacp_app;
