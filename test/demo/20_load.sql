-- 20_load.sql: the initial load: every source record of the year through
-- cdp.resolve_all in one statement (record -> contact kept for the report).
\set ON_ERROR_STOP on
SET client_min_messages = warning;

CREATE TABLE demo.loaded AS
SELECT * FROM cdp.resolve_all($$SELECT record_id, kind, value, source, region FROM demo.records$$);
