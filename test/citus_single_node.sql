-- citus_single_node.sql: cdp's Citus entry points on a server without Citus
-- (test/t/citus.sh runs the cluster side): distribute refuses with a clear
-- error, begin_write does nothing, and cdp knows it is one node.
BEGIN;
CREATE EXTENSION IF NOT EXISTS cdp;
SELECT plan(6);

SELECT is(cdp_internal.citus_mode(), false, 'one node: cdp is not distributed');
SELECT is(cdp_internal.citus_on_worker(), false, 'one node: this is not a Citus worker');
SELECT throws_ok($$SELECT * FROM cdp.distribute()$$, '55000',
                 'cdp.distribute needs Citus, which is not installed in this database',
                 'distribute refuses a database without the citus extension');
SELECT throws_ok($$SELECT * FROM cdp.distribute(0)$$, '55000', NULL,
                 'the missing extension is reported before the shard count');
SELECT lives_ok($$SELECT cdp.begin_write()$$, 'begin_write does nothing on one node');
SELECT is((SELECT count(*) FROM cdp.identifier_index), 0::bigint,
          'one node keeps (kind, value) unique in cdp.identifiers: the value index stays empty');

SELECT * FROM finish();
ROLLBACK;
