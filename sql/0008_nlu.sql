-- 0008_nlu.sql - a tenant's NLU training data (examples, entity
-- definitions) and the versions of its trained models.
--
-- Conventions as in 0001: tenant_id leads every key, common columns,
-- forced row-level security on app.tenant_id.  Writers: the API (gacp_app)
-- edits examples and entity definitions and activates a model version;
-- `gacp-nlu reload` (owner role, bound to one tenant at a time) inserts
-- new versions.  Model files live outside the database, under
-- paths.model_dir: <tenant_id>/<version>.gnlu, and the one serving is
-- <tenant_id>/active.gnlu (src/app/models.h).

------------------------------------------------------------------------------
-- One training example: plain text (annotations removed), its intent, its
-- language (ISO 639 code, "und" without letters) and its entity
-- annotations [{"start", "end", "entity", "value", "role"?, "group"?}] with
-- start/end in code points of text (end exclusive), as Rasa counts them.
CREATE TABLE nlu_examples (
    tenant_id   uuid        NOT NULL,
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    text        text        NOT NULL,
    intent      text        NOT NULL,
    language    text        NOT NULL,
    entities    jsonb       NOT NULL DEFAULT '[]'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    created_by  uuid,
    updated_by  uuid,
    is_deleted  boolean     NOT NULL DEFAULT false,
    deleted_at  timestamptz,
    deleted_by  uuid,
    metadata    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    version     integer     NOT NULL DEFAULT 1,
    CONSTRAINT nlu_examples_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT nlu_examples_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id),
    CONSTRAINT nlu_examples_text_length CHECK (char_length(text) BETWEEN 1 AND 2000),
    CONSTRAINT nlu_examples_intent_format CHECK (
        char_length(intent) BETWEEN 1 AND 100 AND intent !~ '[[:space:][:cntrl:]]'
        AND intent <> 'nlu_fallback'),
    CONSTRAINT nlu_examples_language_format CHECK (language ~ '^[a-z]{2,3}$'),
    CONSTRAINT nlu_examples_entities_array CHECK (
        jsonb_typeof(entities) = 'array' AND jsonb_array_length(entities) <= 64)
);
-- One live example per text (a text with two intents is contradictory
-- data).  Texts may exceed a btree entry (2,000 Thai characters are 6 kB),
-- so the key is their MD5.
CREATE UNIQUE INDEX nlu_examples_text_key ON nlu_examples (tenant_id, md5(text))
    WHERE NOT is_deleted;
CREATE INDEX nlu_examples_tenant_created_idx ON nlu_examples (tenant_id, created_at, id);
CREATE INDEX nlu_examples_tenant_intent_idx ON nlu_examples (tenant_id, intent)
    WHERE NOT is_deleted;
CREATE TRIGGER nlu_examples_touch BEFORE UPDATE ON nlu_examples
    FOR EACH ROW EXECUTE FUNCTION gacp_touch();
ALTER TABLE nlu_examples ENABLE ROW LEVEL SECURITY;
ALTER TABLE nlu_examples FORCE ROW LEVEL SECURITY;
CREATE POLICY nlu_examples_isolation ON nlu_examples
    USING (tenant_id = gacp_current_tenant())
    WITH CHECK (tenant_id = gacp_current_tenant());

------------------------------------------------------------------------------
-- Entity definitions, Rasa's three kinds, each a name and a list of
-- strings ("elements"):
--   regex    name = entity, elements = PCRE2 patterns;
--   lookup   name = entity, elements = values of the lookup table;
--   synonym  name = the canonical value, elements = the surface forms
--            mapped to it.
CREATE TABLE nlu_entities (
    tenant_id   uuid        NOT NULL,
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    kind        text        NOT NULL,
    name        text        NOT NULL,
    elements    jsonb       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    created_by  uuid,
    updated_by  uuid,
    is_deleted  boolean     NOT NULL DEFAULT false,
    deleted_at  timestamptz,
    deleted_by  uuid,
    metadata    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    version     integer     NOT NULL DEFAULT 1,
    CONSTRAINT nlu_entities_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT nlu_entities_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id),
    CONSTRAINT nlu_entities_kind_valid CHECK (kind IN ('regex', 'lookup', 'synonym')),
    CONSTRAINT nlu_entities_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT nlu_entities_elements_array CHECK (
        jsonb_typeof(elements) = 'array' AND
        jsonb_array_length(elements) BETWEEN 1 AND 10000)
);
CREATE UNIQUE INDEX nlu_entities_name_key ON nlu_entities (tenant_id, kind, name)
    WHERE NOT is_deleted;
CREATE INDEX nlu_entities_tenant_created_idx ON nlu_entities (tenant_id, created_at, id);
CREATE TRIGGER nlu_entities_touch BEFORE UPDATE ON nlu_entities
    FOR EACH ROW EXECUTE FUNCTION gacp_touch();
ALTER TABLE nlu_entities ENABLE ROW LEVEL SECURITY;
ALTER TABLE nlu_entities FORCE ROW LEVEL SECURITY;
CREATE POLICY nlu_entities_isolation ON nlu_entities
    USING (tenant_id = gacp_current_tenant())
    WITH CHECK (tenant_id = gacp_current_tenant());

------------------------------------------------------------------------------
-- Trained models.  version counts up per tenant; checksum is the SHA-256
-- of the model payload that the file's header carries and the loader
-- verifies; path is relative to paths.model_dir; metrics are measured on
-- a split held back from training: {accuracy, macro_f1, in_scope_accuracy,
-- oos_recall, examples}.  training_data_hash identifies the examples and
-- entity definitions the model was trained on (nlu_dataset_digest), so a
-- reload retrains only tenants whose data changed.
--   candidate  written, not (yet) serving
--   active     the one published as active.gnlu (one per tenant+language)
--   rejected   worse than the active one by more than nlu.max_regression
--   retired    was active, replaced by another version
CREATE TABLE nlu_models (
    tenant_id          uuid        NOT NULL,
    id                 uuid        NOT NULL DEFAULT gen_random_uuid(),
    version            integer     NOT NULL,
    language           text        NOT NULL DEFAULT 'multi',
    status             text        NOT NULL DEFAULT 'candidate',
    checksum           text        NOT NULL,
    path               text        NOT NULL,
    size_bytes         bigint      NOT NULL,
    metrics            jsonb       NOT NULL DEFAULT '{}'::jsonb,
    training_data_hash text        NOT NULL,
    train_seconds      real,
    reason             text,
    activated_at       timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    created_by         uuid,
    updated_by         uuid,
    is_deleted         boolean     NOT NULL DEFAULT false,
    deleted_at         timestamptz,
    deleted_by         uuid,
    metadata           jsonb       NOT NULL DEFAULT '{}'::jsonb,
    CONSTRAINT nlu_models_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT nlu_models_tenant_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id),
    CONSTRAINT nlu_models_version_positive CHECK (version >= 1),
    CONSTRAINT nlu_models_language_format CHECK (language ~ '^([a-z]{2,3}|multi)$'),
    CONSTRAINT nlu_models_status_valid CHECK (
        status IN ('candidate', 'active', 'rejected', 'retired')),
    CONSTRAINT nlu_models_checksum_format CHECK (checksum ~ '^[0-9a-f]{64}$'),
    CONSTRAINT nlu_models_data_hash_format CHECK (training_data_hash ~ '^[0-9a-f]{64}$'),
    CONSTRAINT nlu_models_path_format CHECK (path ~ '^[0-9a-f-]{36}/[0-9]+\.gnlu$'),
    CONSTRAINT nlu_models_metrics_object CHECK (jsonb_typeof(metrics) = 'object'),
    CONSTRAINT nlu_models_active_stamped CHECK (status <> 'active' OR activated_at IS NOT NULL)
);
CREATE UNIQUE INDEX nlu_models_version_key ON nlu_models (tenant_id, version);
CREATE UNIQUE INDEX nlu_models_active_key ON nlu_models (tenant_id, language)
    WHERE status = 'active';
-- Here "version" is the model's number, not the optimistic-locking counter
-- of the other tables (a model row is never edited by clients), so the
-- update trigger stamps updated_at only.
CREATE FUNCTION gacp_touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS
$$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
CREATE TRIGGER nlu_models_touch BEFORE UPDATE ON nlu_models
    FOR EACH ROW EXECUTE FUNCTION gacp_touch_updated_at();
ALTER TABLE nlu_models ENABLE ROW LEVEL SECURITY;
ALTER TABLE nlu_models FORCE ROW LEVEL SECURITY;
CREATE POLICY nlu_models_isolation ON nlu_models
    USING (tenant_id = gacp_current_tenant())
    WITH CHECK (tenant_id = gacp_current_tenant());

------------------------------------------------------------------------------
-- The API edits training data and switches the active version; it never
-- creates or rewrites a model row (gacp-nlu reload does, as the owner).
GRANT SELECT, INSERT, UPDATE ON nlu_examples, nlu_entities TO gacp_app;
GRANT SELECT ON nlu_models TO gacp_app;
GRANT UPDATE (status, activated_at, updated_by) ON nlu_models TO gacp_app;
