-- Case view: one row per draft job. A job names its trigger message in its payload; the draft
-- is found through that message (the latest one, so a message drafted twice still gives one
-- row: a plain JOIN here would fan out). Enum values are mapped onto the contract's words.
SELECT
    j."id"                     AS case_id,
    j."workspaceId"            AS client_id,
    m."leadId"                 AS lead_id,
    lower(m."channel"::text)   AS channel,
    j."createdAt"              AS job_created_at,
    j."status"                 AS job_status,
    m."id"                     AS inbound_id,
    m."subject"                AS inbound_subject,
    m."body"                   AS inbound_body,
    m."sentAt"                 AS inbound_sent_at,
    d."content"                AS original_draft,
    d."model"                  AS original_model,
    CASE d."status"
        WHEN 'AUTO_SENT' THEN 'sent_as_is'
        WHEN 'APPROVED' THEN 'sent_as_is'
        WHEN 'EDITED' THEN 'edited'
        WHEN 'REJECTED' THEN 'rejected'
    END                        AS disposition,
    s."body"                   AS sent_reply,
    jsonb_build_object(
        'first_name', l."firstName", 'last_name', l."lastName", 'email', l."email",
        'company', l."companyName", 'timezone', l."timeZone"
    )                          AS lead,
    w."settings"               AS client_settings
FROM "BackgroundJob" AS j
JOIN "Message" AS m ON m."id" = j."payload" ->> 'messageId'
JOIN "Lead" AS l ON l."id" = m."leadId"
JOIN "Workspace" AS w ON w."id" = j."workspaceId"
LEFT JOIN LATERAL (
    SELECT dd."id", dd."content", dd."model", dd."status"
    FROM "AiDraft" AS dd
    WHERE dd."triggerMessageId" = m."id" AND dd."createdAt" >= j."createdAt"
    ORDER BY dd."createdAt"
    LIMIT 1
) AS d ON true
LEFT JOIN LATERAL (
    SELECT sm."body"
    FROM "Message" AS sm
    WHERE sm."aiDraftId" = d."id" AND sm."direction" = 'OUTBOUND'
    ORDER BY sm."sentAt"
    LIMIT 1
) AS s ON true
WHERE j."type" = 'GENERATE_AI_DRAFT'
