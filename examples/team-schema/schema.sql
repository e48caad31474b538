-- A team's own schema, unlike the reference one: bigint ids, other names, naive timestamps,
-- the recorded request stored as text. The views beside this file map it onto the case contract.
CREATE TABLE accounts (
    account_id  bigint PRIMARY KEY,
    title       text NOT NULL,
    profile     jsonb NOT NULL
);
CREATE TABLE contacts (
    contact_id  bigint PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts,
    full_name   text,
    email       text
);
CREATE TABLE conversation_events (
    event_id         bigint PRIMARY KEY,
    account_id       bigint NOT NULL REFERENCES accounts,
    contact_id       bigint NOT NULL REFERENCES contacts,
    medium           text NOT NULL,              -- 'email' | 'sms' | 'linkedin'
    is_from_contact  boolean NOT NULL,
    text_body        text,
    created          timestamp NOT NULL          -- UTC, without a time zone
);
CREATE INDEX conversation_events_contact_idx ON conversation_events (account_id, contact_id, created);
CREATE TABLE reply_suggestions (
    suggestion_id    bigint PRIMARY KEY,
    account_id       bigint NOT NULL REFERENCES accounts,
    contact_id       bigint NOT NULL REFERENCES contacts,
    source_event_id  bigint NOT NULL REFERENCES conversation_events,
    created          timestamp NOT NULL,
    state            text NOT NULL,              -- 'done' | 'error'
    suggestion       text,
    llm              text,
    payload          text,                       -- the chat request as JSON text
    outcome          text,                       -- 'accepted' | 'modified' | 'dismissed'
    final_text       text
);
CREATE INDEX reply_suggestions_recent_idx ON reply_suggestions (account_id, created DESC, suggestion_id);
