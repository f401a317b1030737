-- 0015_service_registry.sql - the service registry: every running process
-- of the platform (and any service a platform administrator registers)
-- with its address and its last heartbeat.
--
-- A platform-level table: a service belongs to the platform, not to a
-- tenant, so there is no tenant_id.  Row-level security still guards it:
--   * writes only in a transaction opened for a platform administrator
--     (app.platform_admin = 'on': the API's platform admins and the
--     processes' own self-registration);
--   * reads for platform administrators, and for a tenant a platform
--     administrator granted the registry to (tenants.settings
--     "service_registry_read": true, see gacp_registry_visible).
--
-- Health is computed at read time, never stored: a service whose
-- last_heartbeat is older than ttl_seconds is unhealthy; entries older than
-- ttl_seconds plus the grace period (registry.prune_after_s) are pruned by
-- the registry agents of the running processes.

CREATE TABLE service_registry (
    id                    uuid        NOT NULL DEFAULT gen_random_uuid(),
    service_name          text        NOT NULL,
    service_type          text        NOT NULL,
    host                  text        NOT NULL,
    port                  integer     NOT NULL,
    health_check_endpoint text,
    version               text        NOT NULL,
    environment           text        NOT NULL DEFAULT 'production',
    weight                integer     NOT NULL DEFAULT 100,
    service_config        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    ttl_seconds           integer     NOT NULL DEFAULT 30,
    self_registered       boolean     NOT NULL DEFAULT false,
    registered_at         timestamptz NOT NULL DEFAULT now(),
    registered_by         text,
    last_heartbeat        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT service_registry_pkey PRIMARY KEY (id),
    CONSTRAINT service_registry_name_format CHECK (service_name ~ '^[a-z0-9][a-z0-9._-]{0,99}$'),
    CONSTRAINT service_registry_type_format CHECK (service_type ~ '^[a-z0-9][a-z0-9._-]{0,49}$'),
    CONSTRAINT service_registry_host_length CHECK (char_length(host) BETWEEN 1 AND 253),
    CONSTRAINT service_registry_port_range CHECK (port BETWEEN 0 AND 65535),
    CONSTRAINT service_registry_endpoint_length CHECK (health_check_endpoint IS NULL OR char_length(health_check_endpoint) BETWEEN 1 AND 500),
    CONSTRAINT service_registry_version_length CHECK (char_length(version) BETWEEN 1 AND 64),
    CONSTRAINT service_registry_environment_valid CHECK (environment IN ('development', 'staging', 'production')),
    CONSTRAINT service_registry_weight_range CHECK (weight BETWEEN 0 AND 1000),
    CONSTRAINT service_registry_config_object CHECK (jsonb_typeof(service_config) = 'object'),
    CONSTRAINT service_registry_ttl_range CHECK (ttl_seconds BETWEEN 1 AND 86400)
);
CREATE INDEX service_registry_name_idx ON service_registry (service_name, registered_at);
CREATE INDEX service_registry_heartbeat_idx ON service_registry (last_heartbeat);

-- Whether the current transaction may read the registry: a platform
-- administrator, or a tenant whose settings carry the grant.  SECURITY
-- DEFINER (owned by the owner role) so the answer does not depend on which
-- tenants rows the caller's own policy happens to show.
CREATE FUNCTION gacp_registry_visible() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
$$ SELECT gacp_is_platform_admin() OR EXISTS (
       SELECT 1 FROM tenants t
       WHERE t.id = gacp_current_tenant() AND NOT t.is_deleted
         AND t.status = 'active'
         AND t.settings -> 'service_registry_read' = 'true'::jsonb) $$;
REVOKE ALL ON FUNCTION gacp_registry_visible() FROM PUBLIC;

ALTER TABLE service_registry ENABLE ROW LEVEL SECURITY;
ALTER TABLE service_registry FORCE ROW LEVEL SECURITY;
CREATE POLICY service_registry_read ON service_registry FOR SELECT
    USING (gacp_registry_visible());
CREATE POLICY service_registry_write ON service_registry FOR ALL
    USING (gacp_is_platform_admin())
    WITH CHECK (gacp_is_platform_admin());

GRANT SELECT, INSERT, UPDATE, DELETE ON service_registry TO gacp_app;
GRANT EXECUTE ON FUNCTION gacp_registry_visible() TO gacp_app;
