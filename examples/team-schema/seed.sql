-- A few rows for the team schema, used by its test and the README example.
INSERT INTO accounts VALUES
    (1, 'Northwind Dental', '{"service_description": "Family dentistry", "price_list": [{"item": "Cleaning", "price": "$120"}], "booking_link": "https://book.example.com/northwind", "signature": "Maya, Northwind Dental"}');
INSERT INTO contacts VALUES (10, 1, 'Sam Lee', 'sam@example.org'), (11, 1, 'Ana Ruiz', 'ana@example.org');
INSERT INTO conversation_events VALUES
    (100, 1, 10, 'sms', false, 'Hi Sam, time for your checkup!', '2026-10-01 09:00'),
    (101, 1, 10, 'sms', true,  'How much is a cleaning?', '2026-10-01 09:05'),
    (102, 1, 10, 'sms', false, 'A cleaning is $120. Maya, Northwind Dental', '2026-10-01 09:06'),
    (103, 1, 10, 'sms', true,  'Great, can I book Friday?', '2026-10-02 10:00'),
    (104, 1, 10, 'sms', false, 'Booked! Maya', '2026-10-02 10:02'),
    (200, 1, 11, 'email', true, 'Do you take new patients?', '2026-10-03 08:00');
INSERT INTO reply_suggestions VALUES
    (1000, 1, 10, 101, '2026-10-01 09:05:03', 'done', 'A cleaning is $120. Maya, Northwind Dental', 'gpt-4o-mini',
     '{"model": "gpt-4o-mini", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "How much is a cleaning?"}]}',
     'accepted', 'A cleaning is $120. Maya, Northwind Dental'),
    (1001, 1, 10, 103, '2026-10-02 10:00:02', 'done', 'Yes! Book here: https://book.example.com/northwind', 'gpt-4o-mini',
     NULL, 'modified', 'Booked! Maya'),
    (1002, 1, 11, 200, '2026-10-03 08:00:04', 'done', 'We do! Reply with a good time.', 'gpt-4o-mini',
     NULL, NULL, NULL);
