-- Case view: one row per reply suggestion, named as the case contract asks.
SELECT
    s.suggestion_id    AS case_id,
    s.account_id       AS client_id,
    s.contact_id       AS lead_id,
    e.medium           AS channel,
    s.created          AS job_created_at,
    CASE s.state WHEN 'done' THEN 'succeeded' ELSE 'failed' END AS job_status,
    e.event_id         AS inbound_id,
    NULL::text         AS inbound_subject,
    e.text_body        AS inbound_body,
    e.created          AS inbound_sent_at,
    s.suggestion       AS original_draft,
    s.llm              AS original_model,
    s.payload          AS original_request,
    CASE s.outcome
        WHEN 'accepted' THEN 'sent_as_is'
        WHEN 'modified' THEN 'edited'
        WHEN 'dismissed' THEN 'rejected'
    END                AS disposition,
    s.final_text       AS sent_reply,
    jsonb_build_object('first_name', split_part(c.full_name, ' ', 1), 'email', c.email) AS lead,
    a.profile          AS client_settings
FROM reply_suggestions AS s
JOIN conversation_events AS e ON e.event_id = s.source_event_id
JOIN contacts AS c ON c.contact_id = s.contact_id
JOIN accounts AS a ON a.account_id = s.account_id
