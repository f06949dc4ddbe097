-- cdp.sql
--   The schemas of the extension; the schema cdp itself comes from cdp.control.
\echo Use "CREATE EXTENSION cdp" to load this file. \quit

CREATE SCHEMA cdp_data;
CREATE SCHEMA cdp_views;
CREATE SCHEMA cdp_internal;

COMMENT ON SCHEMA cdp IS 'cdp public API: catalog and core tables, types and functions';
COMMENT ON SCHEMA cdp_data IS 'cdp typed tables generated from profile and document-template definitions';
COMMENT ON SCHEMA cdp_views IS 'cdp views generated from saved views, for BI tools and activation';
COMMENT ON SCHEMA cdp_internal IS 'cdp private helpers; not an API';
