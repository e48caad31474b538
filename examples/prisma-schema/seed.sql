-- Seed rows: two workspaces (a cuid id and a uuid id), non-English names, a job retried on the
-- same message, and a message synced two days late (sent before an inbound, stored after its job).
INSERT INTO "Workspace" ("id", "name", "settings") VALUES
    ('ckx1f0a2b0000qz8r5w3e7h9j', 'Kowalski Fitness',
     '{"persona": "Ola from Kowalski Fitness: warm, brief", "service_description": "A gym with classes in Kraków",
       "price_list": [{"item": "Monthly membership", "price": "$49"}], "signature": "Ola, Kowalski Fitness"}'),
    ('5bc8e3a4-2f1d-4c8e-9a77-0d3b6f1e2a90', 'Nordlicht GmbH',
     '{"persona": "Jana from Nordlicht: formal German", "service_description": "Roofing in Bavaria",
       "booking_link": "https://nordlicht.example/termin", "signature": "Jana Berger, Nordlicht GmbH"}');

INSERT INTO "Lead" ("id", "workspaceId", "firstName", "lastName", "email", "companyName", "timeZone") VALUES
    ('clead0001', 'ckx1f0a2b0000qz8r5w3e7h9j', 'Łukasz', 'Nowak', 'lukasz@example.pl', NULL, 'Europe/Warsaw'),
    ('clead0002', 'ckx1f0a2b0000qz8r5w3e7h9j', '李', '伟', 'li.wei@example.cn', 'Wei Trading', 'Asia/Shanghai'),
    ('0f6b2c1e-8d4a-4b7e-a1c3-5e9f7d2b4a60', '5bc8e3a4-2f1d-4c8e-9a77-0d3b6f1e2a90', 'Jürgen', 'Maier',
     'juergen@example.de', 'Maier Bau', 'Europe/Berlin');

INSERT INTO "Message" ("id", "workspaceId", "leadId", "direction", "channel", "subject", "body", "sentAt", "createdAt", "aiDraftId") VALUES
    ('cmsg0001', 'ckx1f0a2b0000qz8r5w3e7h9j', 'clead0001', 'INBOUND', 'EMAIL', 'Membership',
     'Hi, how much is a monthly membership?', '2026-11-02 09:00:00', '2026-11-02 09:00:01', NULL),
    ('cmsg0002', 'ckx1f0a2b0000qz8r5w3e7h9j', 'clead0001', 'OUTBOUND', 'EMAIL', 'Re: Membership',
     'Hi Łukasz, memberships start at $49 a month. Want a free trial class?', '2026-11-02 09:30:00',
     '2026-11-02 09:30:00', 'cdraft0001'),
    -- Sent from the shared inbox before the next inbound, but synced into this system two days
    -- after the job ran: production never saw it, so the replay must not either.
    ('cmsg0009', 'ckx1f0a2b0000qz8r5w3e7h9j', 'clead0001', 'OUTBOUND', 'EMAIL', 'Re: Membership',
     'Following up from my phone: the trial is on us.', '2026-11-03 08:00:00', '2026-11-05 10:00:00', NULL),
    ('cmsg0003', 'ckx1f0a2b0000qz8r5w3e7h9j', 'clead0001', 'INBOUND', 'EMAIL', 'Re: Membership',
     'Yes please. Is Thursday at 6pm free?', '2026-11-03 10:00:00', '2026-11-03 10:00:01', NULL),
    ('cmsg0004', 'ckx1f0a2b0000qz8r5w3e7h9j', 'clead0001', 'OUTBOUND', 'EMAIL', 'Re: Membership',
     'Thursday at 6pm works. See you then!', '2026-11-03 10:20:00', '2026-11-03 10:20:00', 'cdraft0002'),
    ('cmsg0005', 'ckx1f0a2b0000qz8r5w3e7h9j', 'clead0002', 'INBOUND', 'SMS', NULL,
     '你好，周末营业吗？', '2026-11-04 12:00:00', '2026-11-04 12:00:00', NULL),
    ('3d1e9b7a-6c2f-4e8d-b5a4-1f0c9e8d7b61', '5bc8e3a4-2f1d-4c8e-9a77-0d3b6f1e2a90',
     '0f6b2c1e-8d4a-4b7e-a1c3-5e9f7d2b4a60', 'INBOUND', 'LINKEDIN', NULL,
     'Guten Tag, bieten Sie auch Dachsanierungen an?', '2026-11-06 08:15:00', '2026-11-06 08:15:00', NULL),
    ('9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c62', '5bc8e3a4-2f1d-4c8e-9a77-0d3b6f1e2a90',
     '0f6b2c1e-8d4a-4b7e-a1c3-5e9f7d2b4a60', 'OUTBOUND', 'LINKEDIN', NULL,
     'Guten Tag Herr Maier, ja, Dachsanierungen gehören zu unseren Leistungen.',
     '2026-11-06 08:16:00', '2026-11-06 08:16:00', '6e5d4c3b-2a19-4807-b6f5-e4d3c2b1a097');

INSERT INTO "BackgroundJob" ("id", "workspaceId", "type", "status", "payload", "createdAt") VALUES
    ('cjob0001', 'ckx1f0a2b0000qz8r5w3e7h9j', 'GENERATE_AI_DRAFT', 'SUCCEEDED',
     '{"messageId": "cmsg0001"}', '2026-11-02 09:00:03'),
    ('cjob0002', 'ckx1f0a2b0000qz8r5w3e7h9j', 'GENERATE_AI_DRAFT', 'SUCCEEDED',
     '{"messageId": "cmsg0003"}', '2026-11-03 10:00:05'),
    -- The same message drafted twice: the first attempt failed, the retry succeeded.
    ('cjob0003', 'ckx1f0a2b0000qz8r5w3e7h9j', 'GENERATE_AI_DRAFT', 'FAILED',
     '{"messageId": "cmsg0005"}', '2026-11-04 12:00:02'),
    ('cjob0004', 'ckx1f0a2b0000qz8r5w3e7h9j', 'GENERATE_AI_DRAFT', 'SUCCEEDED',
     '{"messageId": "cmsg0005"}', '2026-11-04 12:01:00'),
    ('cjob0005', 'ckx1f0a2b0000qz8r5w3e7h9j', 'SYNC_INBOX', 'SUCCEEDED',
     '{}', '2026-11-04 12:02:00'),
    ('b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d60', '5bc8e3a4-2f1d-4c8e-9a77-0d3b6f1e2a90',
     'GENERATE_AI_DRAFT', 'SUCCEEDED', '{"messageId": "3d1e9b7a-6c2f-4e8d-b5a4-1f0c9e8d7b61"}',
     '2026-11-06 08:15:02');

INSERT INTO "AiDraft" ("id", "workspaceId", "triggerMessageId", "content", "model", "status", "createdAt") VALUES
    ('cdraft0001', 'ckx1f0a2b0000qz8r5w3e7h9j', 'cmsg0001',
     'Hi Łukasz, a monthly membership is $49. Would you like to try a class first?',
     'gpt-4o-mini', 'EDITED', '2026-11-02 09:00:09'),
    ('cdraft0002', 'ckx1f0a2b0000qz8r5w3e7h9j', 'cmsg0003',
     'Thursday at 6pm works. See you then!', 'gpt-4o-mini', 'APPROVED', '2026-11-03 10:00:12'),
    ('cdraft0003', 'ckx1f0a2b0000qz8r5w3e7h9j', 'cmsg0005',
     '您好！我们周末营业，周六和周日 9:00–18:00。', 'gpt-4o-mini', 'REJECTED', '2026-11-04 12:01:07'),
    ('6e5d4c3b-2a19-4807-b6f5-e4d3c2b1a097', '5bc8e3a4-2f1d-4c8e-9a77-0d3b6f1e2a90',
     '3d1e9b7a-6c2f-4e8d-b5a4-1f0c9e8d7b61',
     'Guten Tag Herr Maier, ja, Dachsanierungen gehören zu unseren Leistungen.', 'gpt-4o-mini',
     'AUTO_SENT', '2026-11-06 08:15:08');
