-- 0005_messenger.sql - channels, contacts, conversations, messages and the
-- bot's responses: what the Messenger webhook, the worker and the flow
-- engine read and write.  Same conventions as 0001 (tenant_id leads every
-- key, common columns, forced RLS on app.tenant_id).

------------------------------------------------------------------------------
-- A business's connected Messenger page.  Secrets are AES-256-GCM envelopes
-- (src/security/crypto.h) bound to tenant and row; the verify token is only
-- compared, so only its SHA-256 is kept.
CREATE TABLE channels (
    tenant_id             uuid        NOT NULL,
    id                    uuid        NOT NULL DEFAULT gen_random_uuid(),
    type                  text        NOT NULL DEFAULT 'messenger',
    name                  text        NOT NULL,
    page_id               text        NOT NULL,
    app_secret_enc        text        NOT NULL,
    page_access_token_enc text        NOT NULL,
    verify_token_hash     text        NOT NULL,
    status                text        NOT NULL DEFAULT 'active',
    last_error            jsonb,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    created_by            uuid,
    updated_by            uuid,
    is_deleted            boolean     NOT NULL DEFAULT false,
    deleted_at            timestamptz,
    deleted_by            uuid,
    metadata              jsonb       NOT NULL DEFAULT '{}'::jsonb,
    version               integer     NOT NULL DEFAULT 1,
    CONSTRAINT channels_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT channels_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id),
    CONSTRAINT channels_type_valid CHECK (type IN ('messenger')),
    CONSTRAINT channels_status_valid CHECK (status IN ('active', 'needs_reauth', 'disabled')),
    CONSTRAINT channels_page_id_format CHECK (page_id ~ '^[0-9]{1,32}$'),
    CONSTRAINT channels_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT channels_verify_hash_format CHECK (verify_token_hash ~ '^[0-9a-f]{64}$')
);
-- A page belongs to one tenant platform-wide (webhooks are routed by it).
CREATE UNIQUE INDEX channels_page_id_key ON channels (page_id) WHERE NOT is_deleted;
CREATE UNIQUE INDEX channels_verify_hash_key ON channels (verify_token_hash) WHERE NOT is_deleted;
CREATE TRIGGER channels_touch BEFORE UPDATE ON channels
    FOR EACH ROW EXECUTE FUNCTION gacp_touch();
ALTER TABLE channels ENABLE ROW LEVEL SECURITY;
ALTER TABLE channels FORCE ROW LEVEL SECURITY;
CREATE POLICY channels_isolation ON channels
    USING (tenant_id = gacp_current_tenant())
    WITH CHECK (tenant_id = gacp_current_tenant());

------------------------------------------------------------------------------
-- A person writing to a page, known by the page-scoped id (PSID).
CREATE TABLE contacts (
    tenant_id     uuid        NOT NULL,
    id            uuid        NOT NULL DEFAULT gen_random_uuid(),
    channel_id    uuid        NOT NULL,
    psid          text        NOT NULL,
    language      text,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    profile       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    created_by    uuid,
    updated_by    uuid,
    is_deleted    boolean     NOT NULL DEFAULT false,
    deleted_at    timestamptz,
    deleted_by    uuid,
    metadata      jsonb       NOT NULL DEFAULT '{}'::jsonb,
    version       integer     NOT NULL DEFAULT 1,
    CONSTRAINT contacts_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT contacts_channel_fkey FOREIGN KEY (tenant_id, channel_id)
        REFERENCES channels (tenant_id, id),
    CONSTRAINT contacts_psid_format CHECK (psid ~ '^[0-9A-Za-z_-]{1,64}$')
);
CREATE UNIQUE INDEX contacts_channel_psid_key ON contacts (tenant_id, channel_id, psid);
CREATE TRIGGER contacts_touch BEFORE UPDATE ON contacts
    FOR EACH ROW EXECUTE FUNCTION gacp_touch();
ALTER TABLE contacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE contacts FORCE ROW LEVEL SECURITY;
CREATE POLICY contacts_isolation ON contacts
    USING (tenant_id = gacp_current_tenant())
    WITH CHECK (tenant_id = gacp_current_tenant());

------------------------------------------------------------------------------
-- One conversation per contact and channel.  status: bot answers, or a
-- human agent has it (handoff: the bot stays silent), or closed.  state
-- holds the flow engine's slots and active form.
CREATE TABLE conversations (
    tenant_id        uuid        NOT NULL,
    id               uuid        NOT NULL DEFAULT gen_random_uuid(),
    channel_id       uuid        NOT NULL,
    contact_id       uuid        NOT NULL,
    status           text        NOT NULL DEFAULT 'bot',
    state            jsonb       NOT NULL DEFAULT '{}'::jsonb,
    language         text,
    last_inbound_at  timestamptz,
    last_message_at  timestamptz,
    handoff_at       timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    created_by       uuid,
    updated_by       uuid,
    is_deleted       boolean     NOT NULL DEFAULT false,
    deleted_at       timestamptz,
    deleted_by       uuid,
    metadata         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    version          integer     NOT NULL DEFAULT 1,
    CONSTRAINT conversations_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT conversations_contact_fkey FOREIGN KEY (tenant_id, contact_id)
        REFERENCES contacts (tenant_id, id),
    CONSTRAINT conversations_channel_fkey FOREIGN KEY (tenant_id, channel_id)
        REFERENCES channels (tenant_id, id),
    CONSTRAINT conversations_status_valid CHECK (status IN ('bot', 'handoff', 'closed'))
);
CREATE UNIQUE INDEX conversations_contact_key ON conversations (tenant_id, channel_id, contact_id);
CREATE INDEX conversations_recent_idx ON conversations (tenant_id, last_message_at DESC, id);
CREATE TRIGGER conversations_touch BEFORE UPDATE ON conversations
    FOR EACH ROW EXECUTE FUNCTION gacp_touch();
ALTER TABLE conversations ENABLE ROW LEVEL SECURITY;
ALTER TABLE conversations FORCE ROW LEVEL SECURITY;
CREATE POLICY conversations_isolation ON conversations
    USING (tenant_id = gacp_current_tenant())
    WITH CHECK (tenant_id = gacp_current_tenant());

------------------------------------------------------------------------------
-- Every message in and out, partitioned by month of created_at (retention
-- drops whole partitions; analytics scans ranges).  A partitioned table's
-- unique keys must contain the partition key, so idempotency lives in
-- message_keys below.
CREATE TABLE messages (
    tenant_id       uuid        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    id              uuid        NOT NULL DEFAULT gen_random_uuid(),
    conversation_id uuid        NOT NULL,
    channel_id      uuid        NOT NULL,
    contact_id      uuid        NOT NULL,
    direction       text        NOT NULL,
    sender          text        NOT NULL,
    external_id     text,
    reply_to        uuid,
    kind            text        NOT NULL DEFAULT 'text',
    text            text,
    payload         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    intent          text,
    confidence      real,
    entities        jsonb,
    language        text,
    status          text        NOT NULL,
    error           jsonb,
    event_at        timestamptz,
    sent_at         timestamptz,
    latency_ms      integer,
    metadata        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    CONSTRAINT messages_pkey PRIMARY KEY (tenant_id, created_at, id),
    CONSTRAINT messages_direction_valid CHECK (direction IN ('in', 'out')),
    CONSTRAINT messages_sender_valid CHECK (sender IN ('contact', 'bot', 'agent')),
    CONSTRAINT messages_kind_valid CHECK (kind IN ('text', 'quick_reply', 'postback', 'attachment')),
    CONSTRAINT messages_status_valid CHECK (status IN ('received', 'pending', 'sent', 'failed', 'skipped'))
) PARTITION BY RANGE (created_at);
CREATE INDEX messages_conversation_idx ON messages (tenant_id, conversation_id, created_at);
-- Rows never fail for want of a partition.
CREATE TABLE messages_default PARTITION OF messages DEFAULT;
ALTER TABLE messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE messages FORCE ROW LEVEL SECURITY;
CREATE POLICY messages_isolation ON messages
    USING (tenant_id = gacp_current_tenant())
    WITH CHECK (tenant_id = gacp_current_tenant());

-- Monthly partitions from this month to months_ahead ahead (idempotent;
-- run by migrations and by the nightly retention job).
CREATE FUNCTION gacp_ensure_message_partitions(months_ahead integer)
RETURNS integer LANGUAGE plpgsql AS
$$
DECLARE
    m date := date_trunc('month', now())::date;
    created integer := 0;
    name text;
BEGIN
    FOR i IN 0..months_ahead LOOP
        name := format('messages_%s', to_char(m, 'YYYY_MM'));
        IF to_regclass(name) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF messages FOR VALUES FROM (%L) TO (%L)',
                           name, m, (m + interval '1 month')::date);
            created := created + 1;
        END IF;
        m := (m + interval '1 month')::date;
    END LOOP;
    RETURN created;
END
$$;
SELECT gacp_ensure_message_partitions(2);

-- Idempotency of message handling: an inbound Messenger mid is stored once
-- per channel; the bot's reply to an inbound message is made once
-- ("reply:<inbound id>").
CREATE TABLE message_keys (
    tenant_id   uuid        NOT NULL,
    channel_id  uuid        NOT NULL,
    external_id text        NOT NULL,
    message_id  uuid        NOT NULL,
    message_at  timestamptz NOT NULL,
    CONSTRAINT message_keys_pkey PRIMARY KEY (tenant_id, channel_id, external_id)
);
ALTER TABLE message_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE message_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY message_keys_isolation ON message_keys
    USING (tenant_id = gacp_current_tenant())
    WITH CHECK (tenant_id = gacp_current_tenant());

------------------------------------------------------------------------------
-- What the bot says: intent + language → templates (Rasa domain
-- "responses:" is the import format), optional quick replies, slot-filling
-- form (required slots with a prompt each).
CREATE TABLE responses (
    tenant_id      uuid        NOT NULL,
    id             uuid        NOT NULL DEFAULT gen_random_uuid(),
    intent         text        NOT NULL,
    language       text        NOT NULL,
    templates      jsonb       NOT NULL,
    quick_replies  jsonb       NOT NULL DEFAULT '[]'::jsonb,
    selection      text        NOT NULL DEFAULT 'random',
    required_slots jsonb       NOT NULL DEFAULT '[]'::jsonb,
    max_turns      integer     NOT NULL DEFAULT 3,
    rr_next        integer     NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    created_by     uuid,
    updated_by     uuid,
    is_deleted     boolean     NOT NULL DEFAULT false,
    deleted_at     timestamptz,
    deleted_by     uuid,
    metadata       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    version        integer     NOT NULL DEFAULT 1,
    CONSTRAINT responses_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT responses_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id),
    CONSTRAINT responses_intent_format CHECK (intent ~ '^[A-Za-z0-9_./-]{1,100}$'),
    CONSTRAINT responses_language_format CHECK (language ~ '^[a-z]{2}$'),
    CONSTRAINT responses_templates_array CHECK (jsonb_typeof(templates) = 'array' AND jsonb_array_length(templates) >= 1),
    CONSTRAINT responses_quick_replies_array CHECK (jsonb_typeof(quick_replies) = 'array' AND jsonb_array_length(quick_replies) <= 13),
    CONSTRAINT responses_slots_array CHECK (jsonb_typeof(required_slots) = 'array'),
    CONSTRAINT responses_selection_valid CHECK (selection IN ('random', 'round_robin')),
    CONSTRAINT responses_max_turns_range CHECK (max_turns BETWEEN 1 AND 10)
);
CREATE UNIQUE INDEX responses_intent_language_key ON responses (tenant_id, intent, language)
    WHERE NOT is_deleted;
CREATE TRIGGER responses_touch BEFORE UPDATE ON responses
    FOR EACH ROW EXECUTE FUNCTION gacp_touch();
ALTER TABLE responses ENABLE ROW LEVEL SECURITY;
ALTER TABLE responses FORCE ROW LEVEL SECURITY;
CREATE POLICY responses_isolation ON responses
    USING (tenant_id = gacp_current_tenant())
    WITH CHECK (tenant_id = gacp_current_tenant());

------------------------------------------------------------------------------
-- Webhook routing: the page id (or, for the subscription handshake, the
-- verify token's hash) names the channel before any tenant is known.
CREATE FUNCTION gacp_channel_by_page(p_page_id text)
RETURNS TABLE (tenant_id uuid, id uuid, app_secret_enc text, status text, tenant_status text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
$$ SELECT c.tenant_id, c.id, c.app_secret_enc, c.status, t.status
   FROM channels c JOIN tenants t ON t.id = c.tenant_id
   WHERE c.page_id = p_page_id AND NOT c.is_deleted AND NOT t.is_deleted $$;

CREATE FUNCTION gacp_channel_by_verify_hash(p_hash text)
RETURNS TABLE (tenant_id uuid, id uuid, tenant_status text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS
$$ SELECT c.tenant_id, c.id, t.status
   FROM channels c JOIN tenants t ON t.id = c.tenant_id
   WHERE c.verify_token_hash = p_hash AND NOT c.is_deleted AND NOT t.is_deleted $$;

REVOKE ALL ON FUNCTION gacp_channel_by_page(text), gacp_channel_by_verify_hash(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gacp_ensure_message_partitions(integer) FROM PUBLIC;

-- Owned by the RLS-bypassing resolver role (see 0004), reading only what
-- routing needs.
GRANT SELECT (tenant_id, id, page_id, app_secret_enc, status, verify_token_hash, is_deleted)
    ON channels TO gacp_resolver;
ALTER FUNCTION gacp_channel_by_page(text) OWNER TO gacp_resolver;
ALTER FUNCTION gacp_channel_by_verify_hash(text) OWNER TO gacp_resolver;

GRANT SELECT, INSERT, UPDATE ON channels, contacts, conversations, messages,
    message_keys, responses TO gacp_app;
GRANT EXECUTE ON FUNCTION gacp_channel_by_page(text), gacp_channel_by_verify_hash(text) TO gacp_app;
