-- Thread view: every event of every contact.
SELECT
    account_id   AS client_id,
    contact_id   AS lead_id,
    event_id     AS message_id,
    CASE WHEN is_from_contact THEN 'inbound' ELSE 'outbound' END AS direction,
    medium       AS channel,
    NULL::text   AS subject,
    text_body    AS body,
    created      AS sent_at
FROM conversation_events
