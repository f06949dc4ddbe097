-- resolve.sql: namespace a, record by record, each in its own transaction.
\set ON_ERROR_STOP on
SELECT format('SELECT cdp.resolve(%L, %L)', identifiers, 'tap')
  FROM public.tap_resolve_input WHERE ns = 'a' ORDER BY record_id
\gexec
