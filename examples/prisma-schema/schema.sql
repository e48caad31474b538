-- A schema in the style an ORM (Prisma) generates: quoted CamelCase tables and columns, text ids
-- (uuids for some rows, cuids for others), timestamp(3) without time zone, Postgres enums, and
-- AI drafts keyed by the message that triggered them rather than by the job. The views beside
-- this file map it onto the case contract.
CREATE TYPE "BackgroundJobStatus" AS ENUM ('PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED');
CREATE TYPE "MessageDirection" AS ENUM ('INBOUND', 'OUTBOUND');
CREATE TYPE "Channel" AS ENUM ('EMAIL', 'SMS', 'LINKEDIN');
CREATE TYPE "DraftStatus" AS ENUM ('PENDING', 'AUTO_SENT', 'APPROVED', 'EDITED', 'REJECTED');

CREATE TABLE "Workspace" (
    "id"        text PRIMARY KEY,
    "name"      text NOT NULL,
    "settings"  jsonb NOT NULL DEFAULT '{}',
    "createdAt" timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE "Lead" (
    "id"          text PRIMARY KEY,
    "workspaceId" text NOT NULL REFERENCES "Workspace" ("id"),
    "firstName"   text,
    "lastName"    text,
    "email"       text,
    "companyName" text,
    "timeZone"    text
);
CREATE TABLE "Message" (
    "id"          text PRIMARY KEY,
    "workspaceId" text NOT NULL REFERENCES "Workspace" ("id"),
    "leadId"      text NOT NULL REFERENCES "Lead" ("id"),
    "direction"   "MessageDirection" NOT NULL,
    "channel"     "Channel" NOT NULL,
    "subject"     text,
    "body"        text,
    "sentAt"      timestamp(3) NOT NULL,                             -- when it was sent (UTC)
    "createdAt"   timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,   -- when this system stored it
    "aiDraftId"   text                                               -- the draft a reply came from
);
CREATE INDEX "Message_workspaceId_leadId_sentAt_idx" ON "Message" ("workspaceId", "leadId", "sentAt");
CREATE TABLE "BackgroundJob" (
    "id"          text PRIMARY KEY,
    "workspaceId" text NOT NULL REFERENCES "Workspace" ("id"),
    "type"        text NOT NULL,                 -- 'GENERATE_AI_DRAFT', …
    "status"      "BackgroundJobStatus" NOT NULL,
    "payload"     jsonb NOT NULL,                -- {"messageId": "…"}
    "createdAt"   timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX "BackgroundJob_workspaceId_createdAt_idx" ON "BackgroundJob" ("workspaceId", "createdAt");
CREATE TABLE "AiDraft" (
    "id"               text PRIMARY KEY,
    "workspaceId"      text NOT NULL REFERENCES "Workspace" ("id"),
    "triggerMessageId" text NOT NULL REFERENCES "Message" ("id"),
    "content"          text,
    "model"            text,
    "status"           "DraftStatus" NOT NULL,
    "createdAt"        timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX "AiDraft_triggerMessageId_idx" ON "AiDraft" ("triggerMessageId");
