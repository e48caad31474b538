-- Reference schema of a drafting system: what the demo, the tests and the default views use.
-- A team's own schema is read through views (replay/config/sql/*.sql show the mapping for this one).

CREATE TABLE clients (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    -- service_description, price_list [{item, price}], booking_link, signature, persona
    settings    jsonb NOT NULL DEFAULT '{}'::jsonb
);

CREATE TABLE leads (
    id          uuid PRIMARY KEY,
    client_id   uuid NOT NULL REFERENCES clients (id),
    first_name  text,
    last_name   text,
    email       text,
    phone       text,
    company     text,
    timezone    text,
    sentiment   text,
    created_at  timestamptz NOT NULL
);
CREATE INDEX leads_client_idx ON leads (client_id);

CREATE TABLE messages (
    id           uuid PRIMARY KEY,
    client_id    uuid NOT NULL REFERENCES clients (id),
    lead_id      uuid NOT NULL REFERENCES leads (id),
    channel      text NOT NULL CHECK (channel IN ('email', 'sms', 'linkedin')),
    direction    text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    subject      text,
    body         text,                       -- NULL happens: a broken import, a deleted message
    sent_at      timestamptz NOT NULL,
    sent_by      text CHECK (sent_by IN ('ai', 'human')),
    ai_draft_id  uuid                        -- the draft this outbound message was sent from or replaced
);
-- "a lead's messages before T": one index range scan per case, newest first.
CREATE INDEX messages_lead_time_idx ON messages (client_id, lead_id, sent_at DESC);
CREATE INDEX messages_draft_idx ON messages (ai_draft_id) WHERE ai_draft_id IS NOT NULL;

CREATE TABLE draft_jobs (
    id                  uuid PRIMARY KEY,
    client_id           uuid NOT NULL REFERENCES clients (id),
    lead_id             uuid NOT NULL REFERENCES leads (id),
    trigger_message_id  uuid NOT NULL REFERENCES messages (id),
    job_type            text NOT NULL DEFAULT 'reply_draft',
    status              text NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'dead')),
    dedupe_key          text,                -- indexed, not unique: duplicate executions must be storable
    attempts            integer NOT NULL DEFAULT 0,
    max_attempts        integer NOT NULL DEFAULT 3,
    dispatch_mode       text NOT NULL CHECK (dispatch_mode IN ('inline', 'queued', 'inline_emergency')),
    cohort              text,                -- 'canary', 'control' or NULL outside a rollout
    enqueued_at         timestamptz NOT NULL,
    started_at          timestamptz,
    finished_at         timestamptz,
    last_error          text
);
-- "the last N jobs of a client": an index scan in exactly the order selection asks for.
CREATE INDEX draft_jobs_client_recent_idx ON draft_jobs (client_id, enqueued_at DESC, id);
-- "the jobs of a window", across clients.
CREATE INDEX draft_jobs_enqueued_idx ON draft_jobs (enqueued_at);
CREATE INDEX draft_jobs_dedupe_idx ON draft_jobs (dedupe_key);
CREATE INDEX draft_jobs_trigger_idx ON draft_jobs (trigger_message_id, job_type);

CREATE TABLE dispatch_events (
    id           uuid PRIMARY KEY,
    client_id    uuid NOT NULL REFERENCES clients (id),
    job_id       uuid REFERENCES draft_jobs (id),  -- NULL when the event never became a job row
    dedupe_key   text,
    kind         text NOT NULL CHECK (kind IN ('enqueued', 'enqueue_failed', 'dedupe_hit', 'inline_fallback')),
    cohort       text,
    occurred_at  timestamptz NOT NULL,
    detail       jsonb
);
CREATE INDEX dispatch_events_time_idx ON dispatch_events (client_id, occurred_at);
CREATE INDEX dispatch_events_window_idx ON dispatch_events (occurred_at);

CREATE TABLE ai_drafts (
    id                  uuid PRIMARY KEY,
    job_id              uuid NOT NULL REFERENCES draft_jobs (id),
    client_id           uuid NOT NULL REFERENCES clients (id),
    lead_id             uuid NOT NULL REFERENCES leads (id),
    trigger_message_id  uuid NOT NULL REFERENCES messages (id),
    channel             text NOT NULL,
    content             text,
    status              text NOT NULL DEFAULT 'stored',
    disposition         text CHECK (disposition IN ('sent_as_is', 'edited', 'rejected')),
    model               text,
    prompt_version      text,
    request             jsonb,               -- the exact chat request, when production recorded it
    usage               jsonb,
    latency_ms          integer,
    created_at          timestamptz NOT NULL
);
CREATE INDEX ai_drafts_job_idx ON ai_drafts (job_id, created_at DESC);
CREATE INDEX ai_drafts_trigger_idx ON ai_drafts (trigger_message_id);
