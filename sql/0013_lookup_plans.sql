-- 0013_lookup_plans.sql - the credential → tenant lookups as PL/pgSQL.
--
-- They run on every authenticated request and every webhook.  As SQL
-- functions with SECURITY DEFINER and SET search_path they can never be
-- inlined, and a non-inlined SQL function plans its query again on every
-- call (measured: 1.6 ms per API-key lookup, most of an authenticated
-- request).  PL/pgSQL keeps the plan for the life of the session.  Same
-- signatures, owner (gacp_resolver) and grants: CREATE OR REPLACE keeps
-- them.
CREATE OR REPLACE FUNCTION gacp_api_key_access(p_prefix text)
RETURNS TABLE (tenant_id uuid, id uuid, key_hash text, scopes text[],
               expired boolean, revoked boolean, used_recently boolean,
               tenant_status text, tenant_is_platform boolean,
               tenant_settings jsonb)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
$$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT k.tenant_id, k.id, k.key_hash, k.scopes,
           k.expires_at IS NOT NULL AND k.expires_at <= now(),
           k.revoked_at IS NOT NULL,
           k.last_used_at IS NOT NULL AND k.last_used_at > now() - interval '1 minute',
           t.status, t.is_platform, t.settings
    FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
    WHERE k.prefix = p_prefix AND NOT k.is_deleted AND NOT t.is_deleted;
END
$$;

CREATE OR REPLACE FUNCTION gacp_tenant_by_slug(p_slug text)
RETURNS TABLE (id uuid, status text, is_platform boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
$$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT t.id, t.status, t.is_platform FROM tenants t
    WHERE t.slug = p_slug AND NOT t.is_deleted;
END
$$;

CREATE OR REPLACE FUNCTION gacp_refresh_token_by_hash(p_hash text)
RETURNS TABLE (tenant_id uuid, id uuid)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
$$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT r.tenant_id, r.id FROM refresh_tokens r WHERE r.token_hash = p_hash;
END
$$;

CREATE OR REPLACE FUNCTION gacp_channel_by_page(p_page_id text)
RETURNS TABLE (tenant_id uuid, id uuid, app_secret_enc text, status text, tenant_status text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
$$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT c.tenant_id, c.id, c.app_secret_enc, c.status, t.status
    FROM channels c JOIN tenants t ON t.id = c.tenant_id
    WHERE c.page_id = p_page_id AND NOT c.is_deleted AND NOT t.is_deleted;
END
$$;

CREATE OR REPLACE FUNCTION gacp_channel_by_verify_hash(p_hash text)
RETURNS TABLE (tenant_id uuid, id uuid, tenant_status text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
$$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT c.tenant_id, c.id, t.status
    FROM channels c JOIN tenants t ON t.id = c.tenant_id
    WHERE c.verify_token_hash = p_hash AND NOT c.is_deleted AND NOT t.is_deleted;
END
$$;
