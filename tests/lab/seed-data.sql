-- Seed rows, inserted once on the first replica and replicated to the second.
INSERT INTO lab.orders SELECT number, toDate('2026-05-01') + number % 180, number % 97, number * 1.5 FROM system.numbers LIMIT 5000;
INSERT INTO lab.users SELECT number, concat('user', toString(number)), ['Hangzhou', 'Beijing', 'Shanghai'][number % 3 + 1], toDate('2022-01-01') + number * 3 FROM system.numbers LIMIT 1000;
INSERT INTO lab.metrics SELECT toDateTime('2026-11-20 00:00:00') + number * 60, concat('zk', toString(number % 6)), number % 100 FROM system.numbers LIMIT 7200;
