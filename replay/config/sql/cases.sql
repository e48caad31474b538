-- The case view for the reference schema: one row per draft job, with what the job saw and what
-- happened to its draft. Plain SELECT: the harness adds the filters, ordering and limit.
SELECT
    j.id               AS case_id,
    j.client_id        AS client_id,
    j.lead_id          AS lead_id,
    m.channel          AS channel,
    j.enqueued_at      AS job_created_at,
    j.status           AS job_status,
    m.id               AS inbound_id,
    m.subject          AS inbound_subject,
    m.body             AS inbound_body,
    m.sent_at          AS inbound_sent_at,
    d.content          AS original_draft,
    d.model            AS original_model,
    d.prompt_version   AS original_prompt_version,
    d.request          AS original_request,
    d.disposition      AS disposition,
    s.body             AS sent_reply,
    jsonb_build_object(
        'first_name', l.first_name, 'last_name', l.last_name, 'email', l.email,
        'phone', l.phone, 'company', l.company, 'timezone', l.timezone, 'sentiment', l.sentiment
    )                  AS lead,
    c.settings         AS client_settings,
    array_remove(ARRAY[j.dispatch_mode, j.cohort], NULL) AS tags
FROM draft_jobs AS j
JOIN messages AS m ON m.id = j.trigger_message_id
JOIN leads AS l ON l.id = j.lead_id
JOIN clients AS c ON c.id = j.client_id
LEFT JOIN LATERAL (
    SELECT dd.id, dd.content, dd.model, dd.prompt_version, dd.request, dd.disposition
    FROM ai_drafts AS dd
    WHERE dd.job_id = j.id
    ORDER BY dd.created_at DESC
    LIMIT 1
) AS d ON true
LEFT JOIN LATERAL (
    SELECT sm.body
    FROM messages AS sm
    WHERE sm.ai_draft_id = d.id AND sm.direction = 'outbound'
    ORDER BY sm.sent_at
    LIMIT 1
) AS s ON true
WHERE j.job_type = 'reply_draft'
