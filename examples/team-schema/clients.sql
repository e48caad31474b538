-- Clients view: lets `replay clients` list accounts and preflight check the id exists.
SELECT account_id AS client_id, title AS name
FROM accounts
