insert into customers (email, name, status, tags, profile, balance) values
  ('ada@x.test', 'Ada', 'active', '{math,eng}', '{"tier": "gold", "langs": ["en", "fr"], "score": 7}', 100.50),
  ('bob@x.test', null, 'new', '{}', '{}', 0),
  ('cy@x.test', 'Cy', 'closed', '{eng}', '{"tier": "silver", "score": 3}', -5);

insert into orders (customer_id, total, placed_at, note) values
  (1, 10.00, '2024-01-02T10:00:00Z', 'first'),
  (1, 25.50, '2024-01-03T10:00:00Z', null),
  (2, 5.25, '2024-01-04T10:00:00Z', 'x%y_z');

insert into jobs (queue, payload, run_at) values
  ('mail', '{"to": "a"}', '2024-01-01T00:00:00Z'),
  ('mail', '{"to": "b"}', '2024-01-01T00:01:00Z'),
  ('sms', null, '2024-01-01T00:02:00Z');

insert into counters (name, value) values ('hits', 41);
