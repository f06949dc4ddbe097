-- catalog_comments.sql
--   The catalog explains itself: every table of cdp and cdp_internal and every
--   one of their columns has a comment.
BEGIN;
CREATE EXTENSION IF NOT EXISTS cdp;
SELECT plan(4);

SELECT is((SELECT array_agg(format('%s.%s', c.oid::regclass, a.attname) ORDER BY 1)
             FROM pg_catalog.pg_class c
             JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE c.relnamespace = 'cdp'::regnamespace AND c.relkind IN ('r', 'p')
              AND coalesce(col_description(c.oid, a.attnum), '') = ''),
          NULL, 'every column of every cdp table has a comment');

SELECT is((SELECT array_agg(format('%s.%s', c.oid::regclass, a.attname) ORDER BY 1)
             FROM pg_catalog.pg_class c
             JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE c.relnamespace = 'cdp_internal'::regnamespace AND c.relkind IN ('r', 'p')
              AND coalesce(col_description(c.oid, a.attnum), '') = ''),
          NULL, 'every column of every cdp_internal table has a comment');

SELECT is((SELECT array_agg(c.oid::regclass::text ORDER BY 1)
             FROM pg_catalog.pg_class c
            WHERE c.relnamespace IN ('cdp'::regnamespace, 'cdp_internal'::regnamespace)
              AND c.relkind IN ('r', 'p', 'v', 'm')
              AND coalesce(obj_description(c.oid, 'pg_class'), '') = ''),
          NULL, 'every table of cdp and cdp_internal has a comment');

-- The check can fail: a table without comments is reported.
CREATE TABLE cdp_internal.uncommented (x int);
SELECT is((SELECT array_agg(format('%s.%s', c.oid::regclass, a.attname) ORDER BY 1)
             FROM pg_catalog.pg_class c
             JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE c.relnamespace = 'cdp_internal'::regnamespace AND c.relkind IN ('r', 'p')
              AND coalesce(col_description(c.oid, a.attnum), '') = ''),
          ARRAY['cdp_internal.uncommented.x'], 'an uncommented column is reported');

SELECT * FROM finish();
ROLLBACK;
