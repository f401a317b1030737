-- 0007_rest_channel.sql - the generic REST channel (Rasa's
-- POST /webhooks/rest/webhook): a per-tenant channel of type "rest" whose
-- conversations go through the same flow engine synchronously.  It has no
-- page, no app secret and no page token: callers authenticate with an
-- API key.
ALTER TABLE channels DROP CONSTRAINT channels_type_valid;
ALTER TABLE channels ADD CONSTRAINT channels_type_valid CHECK (type IN ('messenger', 'rest'));
ALTER TABLE channels ALTER COLUMN page_id DROP NOT NULL;
ALTER TABLE channels ALTER COLUMN app_secret_enc DROP NOT NULL;
ALTER TABLE channels ALTER COLUMN page_access_token_enc DROP NOT NULL;
ALTER TABLE channels ALTER COLUMN verify_token_hash DROP NOT NULL;
ALTER TABLE channels ADD CONSTRAINT channels_messenger_fields CHECK (
    type <> 'messenger' OR (page_id IS NOT NULL AND app_secret_enc IS NOT NULL
        AND page_access_token_enc IS NOT NULL AND verify_token_hash IS NOT NULL));
-- One REST channel per tenant.
CREATE UNIQUE INDEX channels_rest_key ON channels (tenant_id) WHERE type = 'rest' AND NOT is_deleted;
-- REST senders are any caller-chosen id, not numeric PSIDs.
ALTER TABLE contacts DROP CONSTRAINT contacts_psid_format;
ALTER TABLE contacts ADD CONSTRAINT contacts_psid_format CHECK (psid ~ '^[0-9A-Za-z_.@:-]{1,128}$');
