-- The clients view for the reference schema.
SELECT id AS client_id, name
FROM clients
