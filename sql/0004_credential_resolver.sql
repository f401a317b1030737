-- 0004_credential_resolver.sql - let the credential lookups see past RLS.
--
-- The SECURITY DEFINER lookups (credential → tenant) run as their owner.
-- Tables FORCE row-level security even for their owner, so owned by
-- gacp_owner they would see nothing.  They are owned instead by
-- gacp_resolver: a NOLOGIN role with BYPASSRLS that can read only the
-- columns the lookups need.  Creating a BYPASSRLS role takes a superuser,
-- so the role comes from the database bootstrap (scripts/gacp-stack,
-- doc/operations.md), not from this file.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gacp_resolver' AND rolbypassrls) THEN
        RAISE EXCEPTION 'role gacp_resolver (NOLOGIN BYPASSRLS, granted to the owner role) is missing: see doc/operations.md';
    END IF;
END
$$;

-- CREATE: a function's new owner must be able to create in its schema.
GRANT USAGE, CREATE ON SCHEMA public TO gacp_resolver;
GRANT SELECT (id, slug, status, is_platform, is_deleted) ON tenants TO gacp_resolver;
GRANT SELECT (tenant_id, id, prefix, key_hash, scopes, roles, expires_at, revoked_at, is_deleted)
    ON api_keys TO gacp_resolver;
GRANT SELECT (tenant_id, id, token_hash) ON refresh_tokens TO gacp_resolver;

ALTER FUNCTION gacp_tenant_by_slug(text) OWNER TO gacp_resolver;
ALTER FUNCTION gacp_tenant_status(uuid) OWNER TO gacp_resolver;
ALTER FUNCTION gacp_api_key_by_prefix(text) OWNER TO gacp_resolver;
ALTER FUNCTION gacp_refresh_token_by_hash(text) OWNER TO gacp_resolver;
