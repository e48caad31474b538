-- The jobs view for the reference schema: every draft job, as `replay signals` reads it.
SELECT
    id AS job_id, client_id, job_type, status, dispatch_mode, cohort, dedupe_key,
    trigger_message_id, attempts, max_attempts, enqueued_at, started_at, finished_at, last_error
FROM draft_jobs
