-- The thread view for the reference schema: every message of every lead.
SELECT client_id, lead_id, id AS message_id, direction, channel, subject, body, sent_at
FROM messages
