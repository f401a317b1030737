-- 0006_auth.sql - what login, API keys, listing and the audit trail need on
-- top of 0001 (tables) and 0004 (the RLS-bypassing resolver role).
--
-- Runs as the owner role, which is a member of gacp_resolver (0004), so it
-- may hand the new lookup function to that role.

------------------------------------------------------------------------------
-- Timestamps leave the database in one unambiguous form (RFC 3339, UTC,
-- microseconds), whatever the session's DateStyle or TimeZone.
CREATE FUNCTION gacp_iso(ts timestamptz) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$;

-- Microseconds since the epoch: the exact, sortable half of a list cursor.
CREATE FUNCTION gacp_epoch_us(ts timestamptz) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT (extract(epoch FROM ts) * 1000000)::bigint $$;

-- The inverse, for comparing a cursor with created_at without floats.
CREATE FUNCTION gacp_from_epoch_us(us bigint) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT 'epoch'::timestamptz + us * interval '1 microsecond' $$;

------------------------------------------------------------------------------
-- Bookkeeping is not an edit: a login stamping users.last_login_at, or a
-- request stamping api_keys.last_used_at, must not bump version (a client
-- holding the row's version would get a spurious 409 version_conflict) nor
-- updated_at.  TG_ARGV names the bookkeeping columns.
CREATE FUNCTION gacp_touch_unless_bookkeeping() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    IF (to_jsonb(NEW) - TG_ARGV - 'updated_at' - 'version')
       = (to_jsonb(OLD) - TG_ARGV - 'updated_at' - 'version') THEN
        NEW.updated_at := OLD.updated_at;
        NEW.version := OLD.version;
    ELSE
        NEW.updated_at := now();
        NEW.version := OLD.version + 1;
    END IF;
    RETURN NEW;
END
$$;

DROP TRIGGER users_touch ON users;
CREATE TRIGGER users_touch BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION gacp_touch_unless_bookkeeping('last_login_at');
DROP TRIGGER api_keys_touch ON api_keys;
CREATE TRIGGER api_keys_touch BEFORE UPDATE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION gacp_touch_unless_bookkeeping('last_used_at');

------------------------------------------------------------------------------
-- API keys carry scopes (permissions), never roles: a key can do no more
-- than the scopes its creator could grant (src/security/rbac.h).  The
-- unused roles column goes, and with it the lookup that returned it.
DROP FUNCTION gacp_api_key_by_prefix(text);
ALTER TABLE api_keys DROP COLUMN roles;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_prefix_format
    CHECK (prefix ~ '^[0-9a-f]{8}$');
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_count
    CHECK (cardinality(scopes) <= 32);

-- Everything authentication needs from one presented key, in one round
-- trip: the key, whether it is usable, and its tenant's state and settings
-- (per-tenant rate limits).  The caller compares key_hash in constant time.
CREATE FUNCTION gacp_api_key_access(p_prefix text)
RETURNS TABLE (tenant_id uuid, id uuid, key_hash text, scopes text[],
               expired boolean, revoked boolean, used_recently boolean,
               tenant_status text, tenant_is_platform boolean,
               tenant_settings jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
$$ SELECT k.tenant_id, k.id, k.key_hash, k.scopes,
          k.expires_at IS NOT NULL AND k.expires_at <= now(),
          k.revoked_at IS NOT NULL,
          k.last_used_at IS NOT NULL AND k.last_used_at > now() - interval '1 minute',
          t.status, t.is_platform, t.settings
   FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
   WHERE k.prefix = p_prefix AND NOT k.is_deleted AND NOT t.is_deleted $$;

REVOKE ALL ON FUNCTION gacp_api_key_access(text) FROM PUBLIC;
GRANT SELECT (settings) ON tenants TO gacp_resolver;
GRANT SELECT (last_used_at) ON api_keys TO gacp_resolver;
ALTER FUNCTION gacp_api_key_access(text) OWNER TO gacp_resolver;
GRANT EXECUTE ON FUNCTION gacp_api_key_access(text) TO gacp_app;

------------------------------------------------------------------------------
-- Cursor pagination walks (created_at, id); the audit log walks id.
CREATE INDEX tenants_created_idx ON tenants (created_at, id);
CREATE INDEX users_tenant_created_idx ON users (tenant_id, created_at, id);
CREATE INDEX api_keys_tenant_created_idx ON api_keys (tenant_id, created_at, id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (tenant_id, user_id);
CREATE INDEX audit_log_tenant_actor_idx ON audit_log (tenant_id, actor_id, id DESC);
