-- The dispatch view for the reference schema: what the dispatcher did, including what never
-- became a job row (an enqueue that failed).
SELECT client_id, job_id, dedupe_key, kind, cohort, occurred_at
FROM dispatch_events
