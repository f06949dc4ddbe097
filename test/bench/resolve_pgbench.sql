-- resolve_pgbench.sql: one pgbench transaction resolves the next record of the feed
SELECT cdp.resolve(r.ids, r.source) FROM bench.records r WHERE r.id = (SELECT nextval('bench.feed'));
