-- Clients view: one row per workspace.
SELECT "id" AS client_id, "name" FROM "Workspace"
