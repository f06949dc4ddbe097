-- 0.3.0-before.sql
--   The first part of the 0.2.0 -> 0.3.0 upgrade: what the function sources
--   cannot say (dropped functions, changed tables, new tables).  The Makefile
--   appends the sources new in 0.3.0, every function and comment of the other
--   sources (replace_functions.awk: CREATE OR REPLACE) and 0.3.0-after.sql;
--   test/t/upgrade.sh compares an updated database with a fresh install, so
--   anything missing here fails that test.
\echo Use "ALTER EXTENSION cdp UPDATE TO '0.3.0'" to load this file. \quit
