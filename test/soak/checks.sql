-- checks.sql
--   After the soak: cdp.consume handed every change to the consumer that
--   consumed throughout exactly once (soak.sh drained it to the end first).

SET client_min_messages = warning;
SELECT plan(5);

SELECT is_empty($$
    SELECT c.id, count(*) FROM soak.consumed c GROUP BY c.id HAVING count(*) > 1
$$, 'no change was handed to the consumer twice');

SELECT is_empty($$
    SELECT ch.id, ch.action, ch.txid FROM cdp.changes ch
     WHERE NOT EXISTS (SELECT 1 FROM soak.consumed c WHERE c.id = ch.id)
$$, 'every change was handed to the consumer');

SELECT is_empty($$
    SELECT c.id FROM soak.consumed c WHERE NOT EXISTS (SELECT 1 FROM cdp.changes ch WHERE ch.id = c.id)
$$, 'the consumer was handed no change that is not in the log');

SELECT cmp_ok((SELECT count(*) FROM soak.consumed), '>', 1000::bigint,
              'the consumer consumed while the soak ran (more than 1000 changes)');

SELECT is_empty($$ SELECT * FROM cdp.consume('soak', 10) $$, 'the consumer is at the end of the log');

SELECT * FROM finish();
