-- The drafts view for the reference schema: one row per stored AI draft.
SELECT client_id, job_id, trigger_message_id, created_at
FROM ai_drafts
