-- 0001_tenancy.sql - tenants, users, credentials and the audit log, with
-- row-level security.
--
-- Conventions (ARCHITECTURE.md §4): every tenant-owned table has tenant_id
-- leading its primary key and foreign keys (ready for Citus distribution by
-- tenant_id), the common columns (created/updated at/by, soft delete,
-- metadata, version), and a forced RLS policy on app.tenant_id.  The
-- application role gacp_app owns nothing; this file runs as the owner role.

CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- The tenant bound to the current transaction (SET LOCAL app.tenant_id),
-- or NULL when none is set: policies then match no row at all.
CREATE FUNCTION gacp_current_tenant() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$;

-- True when the transaction was opened for a platform administrator
-- (app.platform_admin = 'on'): only the tenants table honours it.
CREATE FUNCTION gacp_is_platform_admin() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT coalesce(current_setting('app.platform_admin', true), '') = 'on' $$;

-- updated_at/version maintenance shared by every table.
CREATE FUNCTION gacp_touch() RETURNS trigger LANGUAGE plpgsql AS
$$
BEGIN
    NEW.updated_at := now();
    NEW.version := OLD.version + 1;
    RETURN NEW;
END
$$;

------------------------------------------------------------------------------
-- tenants: the root of tenancy.  A reference table under Citus; its own
-- id is the tenant_id of everything else.
CREATE TABLE tenants (
    id           uuid        NOT NULL DEFAULT gen_random_uuid(),
    slug         text        NOT NULL,
    name         text        NOT NULL,
    status       text        NOT NULL DEFAULT 'active',
    is_platform  boolean     NOT NULL DEFAULT false,
    settings     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    created_by   uuid,
    updated_by   uuid,
    is_deleted   boolean     NOT NULL DEFAULT false,
    deleted_at   timestamptz,
    deleted_by   uuid,
    metadata     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    version      integer     NOT NULL DEFAULT 1,
    CONSTRAINT tenants_pkey PRIMARY KEY (id),
    CONSTRAINT tenants_slug_format CHECK (slug ~ '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$'),
    CONSTRAINT tenants_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT tenants_status_valid CHECK (status IN ('active', 'suspended')),
    CONSTRAINT tenants_settings_object CHECK (jsonb_typeof(settings) = 'object')
);
CREATE UNIQUE INDEX tenants_slug_key ON tenants (slug);
CREATE TRIGGER tenants_touch BEFORE UPDATE ON tenants
    FOR EACH ROW EXECUTE FUNCTION gacp_touch();
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenants_isolation ON tenants
    USING (id = gacp_current_tenant() OR gacp_is_platform_admin())
    WITH CHECK (id = gacp_current_tenant() OR gacp_is_platform_admin());

------------------------------------------------------------------------------
CREATE TABLE users (
    tenant_id            uuid        NOT NULL,
    id                   uuid        NOT NULL DEFAULT gen_random_uuid(),
    username             text        NOT NULL,
    display_name         text,
    email                text,
    password_hash        text        NOT NULL,
    roles                text[]      NOT NULL,
    password_changed_at  timestamptz NOT NULL DEFAULT now(),
    must_change_password boolean     NOT NULL DEFAULT false,
    last_login_at        timestamptz,
    is_active            boolean     NOT NULL DEFAULT true,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    created_by           uuid,
    updated_by           uuid,
    is_deleted           boolean     NOT NULL DEFAULT false,
    deleted_at           timestamptz,
    deleted_by           uuid,
    metadata             jsonb       NOT NULL DEFAULT '{}'::jsonb,
    version              integer     NOT NULL DEFAULT 1,
    CONSTRAINT users_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT users_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id),
    CONSTRAINT users_username_format CHECK (username ~ '^[A-Za-z0-9._@-]{3,64}$'),
    CONSTRAINT users_roles_valid CHECK (
        cardinality(roles) BETWEEN 1 AND 5 AND
        roles <@ ARRAY['platform_admin', 'tenant_owner', 'tenant_admin', 'agent', 'viewer']::text[])
);
-- One live user per name in a tenant; a deleted name can be reused.
CREATE UNIQUE INDEX users_tenant_username_key ON users (tenant_id, lower(username))
    WHERE NOT is_deleted;
CREATE TRIGGER users_touch BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION gacp_touch();
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_isolation ON users
    USING (tenant_id = gacp_current_tenant())
    WITH CHECK (tenant_id = gacp_current_tenant());

------------------------------------------------------------------------------
-- Opaque refresh tokens, stored as SHA-256; rotation keeps the family, and
-- reuse of a rotated token revokes the whole family.
CREATE TABLE refresh_tokens (
    tenant_id          uuid        NOT NULL,
    id                 uuid        NOT NULL DEFAULT gen_random_uuid(),
    user_id            uuid        NOT NULL,
    family_id          uuid        NOT NULL,
    token_hash         text        NOT NULL,
    session_started_at timestamptz NOT NULL,
    expires_at         timestamptz NOT NULL,
    rotated_at         timestamptz,
    revoked_at         timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    created_by         uuid,
    updated_by         uuid,
    is_deleted         boolean     NOT NULL DEFAULT false,
    deleted_at         timestamptz,
    deleted_by         uuid,
    metadata           jsonb       NOT NULL DEFAULT '{}'::jsonb,
    version            integer     NOT NULL DEFAULT 1,
    CONSTRAINT refresh_tokens_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT refresh_tokens_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id),
    CONSTRAINT refresh_tokens_hash_format CHECK (token_hash ~ '^[0-9a-f]{64}$')
);
CREATE UNIQUE INDEX refresh_tokens_hash_key ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (tenant_id, family_id);
CREATE TRIGGER refresh_tokens_touch BEFORE UPDATE ON refresh_tokens
    FOR EACH ROW EXECUTE FUNCTION gacp_touch();
ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE refresh_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY refresh_tokens_isolation ON refresh_tokens
    USING (tenant_id = gacp_current_tenant())
    WITH CHECK (tenant_id = gacp_current_tenant());

------------------------------------------------------------------------------
CREATE TABLE api_keys (
    tenant_id    uuid        NOT NULL,
    id           uuid        NOT NULL DEFAULT gen_random_uuid(),
    name         text        NOT NULL,
    prefix       text        NOT NULL,
    key_hash     text        NOT NULL,
    scopes       text[]      NOT NULL DEFAULT '{}',
    roles        text[]      NOT NULL DEFAULT ARRAY['tenant_admin']::text[],
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    created_by   uuid,
    updated_by   uuid,
    is_deleted   boolean     NOT NULL DEFAULT false,
    deleted_at   timestamptz,
    deleted_by   uuid,
    metadata     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    version      integer     NOT NULL DEFAULT 1,
    CONSTRAINT api_keys_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT api_keys_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id),
    CONSTRAINT api_keys_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT api_keys_hash_format CHECK (key_hash ~ '^[0-9a-f]{64}$')
);
CREATE UNIQUE INDEX api_keys_prefix_key ON api_keys (prefix);
CREATE TRIGGER api_keys_touch BEFORE UPDATE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION gacp_touch();
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY api_keys_isolation ON api_keys
    USING (tenant_id = gacp_current_tenant())
    WITH CHECK (tenant_id = gacp_current_tenant());

------------------------------------------------------------------------------
-- Append-only for the application: INSERT and SELECT only (no UPDATE or
-- DELETE grant).  Retention deletes run as the owner (gacpctl).  Events with
-- no tenant (a login naming an unknown tenant) use the nil UUID.
CREATE TABLE audit_log (
    tenant_id     uuid        NOT NULL,
    id            bigint      GENERATED ALWAYS AS IDENTITY,
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    actor_type    text        NOT NULL,
    actor_id      text,
    action        text        NOT NULL,
    outcome       text        NOT NULL DEFAULT 'success',
    resource_type text,
    resource_id   text,
    request_id    text,
    client_addr   text,
    details       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    CONSTRAINT audit_log_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT audit_log_actor_type_valid CHECK (actor_type IN ('user', 'api_key', 'system', 'anonymous')),
    CONSTRAINT audit_log_outcome_valid CHECK (outcome IN ('success', 'failure', 'denied')),
    CONSTRAINT audit_log_action_format CHECK (action ~ '^[a-z_]+(\.[a-z_]+)*$')
);
CREATE INDEX audit_log_tenant_time_idx ON audit_log (tenant_id, occurred_at DESC);
CREATE INDEX audit_log_tenant_action_idx ON audit_log (tenant_id, action, occurred_at DESC);
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_log_isolation ON audit_log
    USING (tenant_id = gacp_current_tenant())
    WITH CHECK (tenant_id = gacp_current_tenant());

------------------------------------------------------------------------------
-- Credential → tenant resolution.  A request does not know its tenant until
-- its credential is checked, and RLS hides every row until the tenant is
-- known; these narrow SECURITY DEFINER functions (owned by the owner role)
-- answer exactly one lookup each and nothing else.

CREATE FUNCTION gacp_tenant_by_slug(p_slug text)
RETURNS TABLE (id uuid, status text, is_platform boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
$$ SELECT t.id, t.status, t.is_platform FROM tenants t
   WHERE t.slug = p_slug AND NOT t.is_deleted $$;

CREATE FUNCTION gacp_tenant_status(p_id uuid)
RETURNS TABLE (status text, is_platform boolean, is_deleted boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
$$ SELECT t.status, t.is_platform, t.is_deleted FROM tenants t WHERE t.id = p_id $$;

CREATE FUNCTION gacp_api_key_by_prefix(p_prefix text)
RETURNS TABLE (tenant_id uuid, id uuid, key_hash text, scopes text[], roles text[],
               expires_at timestamptz, revoked_at timestamptz, tenant_status text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
$$ SELECT k.tenant_id, k.id, k.key_hash, k.scopes, k.roles, k.expires_at, k.revoked_at, t.status
   FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
   WHERE k.prefix = p_prefix AND NOT k.is_deleted AND NOT t.is_deleted $$;

CREATE FUNCTION gacp_refresh_token_by_hash(p_hash text)
RETURNS TABLE (tenant_id uuid, id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
$$ SELECT r.tenant_id, r.id FROM refresh_tokens r WHERE r.token_hash = p_hash $$;

REVOKE ALL ON FUNCTION gacp_tenant_by_slug(text), gacp_tenant_status(uuid),
    gacp_api_key_by_prefix(text), gacp_refresh_token_by_hash(text) FROM PUBLIC;

------------------------------------------------------------------------------
-- What the application role may do.
GRANT SELECT, INSERT, UPDATE ON tenants, users, refresh_tokens, api_keys TO gacp_app;
GRANT SELECT, INSERT ON audit_log TO gacp_app;
GRANT EXECUTE ON FUNCTION gacp_current_tenant(), gacp_is_platform_admin(),
    gacp_tenant_by_slug(text), gacp_tenant_status(uuid),
    gacp_api_key_by_prefix(text), gacp_refresh_token_by_hash(text) TO gacp_app;
