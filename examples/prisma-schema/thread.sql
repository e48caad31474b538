-- Thread view: every message of every lead. `known_at` is when this system stored the message:
-- a message synced late (sent earlier, stored after the job ran) never reaches a replayed case.
SELECT
    "workspaceId"              AS client_id,
    "leadId"                   AS lead_id,
    "id"                       AS message_id,
    lower("direction"::text)   AS direction,
    lower("channel"::text)     AS channel,
    "subject"                  AS subject,
    "body"                     AS body,
    "sentAt"                   AS sent_at,
    "createdAt"                AS known_at
FROM "Message"
