-- Seed schema for both lab replicas ({shard} and {replica} come from each
-- server's metrika.xml macros). IF NOT EXISTS keeps `make lab-up` idempotent.
CREATE DATABASE IF NOT EXISTS lab;
CREATE TABLE IF NOT EXISTS lab.orders (order_id UInt64, day Date, customer UInt32, amount Float64)
  ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/lab/orders', '{replica}')
  PARTITION BY toYYYYMM(day) ORDER BY order_id;
CREATE TABLE IF NOT EXISTS lab.users (id UInt32, name String, city String, created Date)
  ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/lab/users', '{replica}')
  PARTITION BY toYear(created) ORDER BY id;
CREATE TABLE IF NOT EXISTS lab.metrics (ts DateTime, host String, value Float64)
  ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/lab/metrics', '{replica}')
  PARTITION BY toYYYYMMDD(ts) ORDER BY (host, ts);
