-- activation_data.sql
--   What the activation benchmark adds to the segments benchmark's data
--   (segments_data.sql, segments_baseline.sql): the 1% change, the set_profile
--   targets, the ingest messages, and the timing procedures.  psql -v
--   batches=B.  Deterministic: hashes of contact ids and positions.
--
-- The change before each incremental refresh (bench.changed, rounds 1 and 2):
-- 1% of the contacts each, live ones in hash order, a third each getting new
-- customer values (set_profile), a tag (tag) and a recent purchase (track,
-- which finds them by an external_id given to them here, during the load,
-- before any refresh).

\set ON_ERROR_STOP on
SET client_min_messages = warning;

CREATE TABLE bench.changed AS
SELECT contact_id, n, CASE WHEN n <= (SELECT contacts / 100 FROM bench.params) THEN 1 ELSE 2 END AS round,
       (hashint8extended(contact_id, 71) & 1048575) % 3 AS what    -- 0 set_profile, 1 tag, 2 track
  FROM (SELECT i AS contact_id, row_number() OVER (ORDER BY hashint8extended(i, 70)) AS n
          FROM generate_series(1, (SELECT contacts FROM bench.params)) i
         WHERE i % 100 NOT IN (7, 13)
         ORDER BY hashint8extended(i, 70) LIMIT (SELECT contacts / 50 FROM bench.params)) s;
CREATE UNIQUE INDEX ON bench.changed (contact_id);

-- The external_id track finds them by, loaded like the rest of the data (no
-- change log: it is there before the first refresh).
SET session_replication_role = replica;
INSERT INTO cdp.identifiers (contact_id, kind, value, raw_value, slug, source, first_seen_at, last_seen_at)
SELECT c.contact_id, 'external_id', 'bench-' || c.contact_id, 'bench-' || c.contact_id, 'main', 'bench',
       p.at - interval '100 days', p.at - interval '100 days'
  FROM bench.changed c, bench.params p
 WHERE c.what = 2;
RESET session_replication_role;
ANALYZE cdp.identifiers, bench.changed;

-- set_profile targets: live contacts not in the change, in hash order, with
-- new customer values (60% have a customer row already: an update; the rest
-- an insert).  pgbench takes the next one per transaction (and starts again
-- from the first, with ltv + 1, when a small run runs out).
CREATE TABLE bench.sp_targets AS
SELECT row_number() OVER (ORDER BY hashint8extended(i, 80)) AS n, i AS contact_id,
       (ARRAY['bronze', 'silver', 'gold', 'platinum'])[1 + (hashint8extended(i, 81) & 3)] AS tier,
       round(exp(bench.u(i, 82) * 10)::numeric, 2) AS ltv,
       bench.u(i, 83) < 0.05 AS vip
  FROM generate_series(1, (SELECT contacts FROM bench.params)) i
 WHERE i % 100 NOT IN (7, 13) AND NOT EXISTS (SELECT FROM bench.changed c WHERE c.contact_id = i);
CREATE UNIQUE INDEX ON bench.sp_targets (n);
ANALYZE bench.sp_targets;
CREATE SEQUENCE bench.sp_seq;

-- The ten immediate segments: the nine of the segments benchmark (their
-- IN SEGMENT pointing at the immediate big_spenders) and one more.
CREATE TABLE bench.immediate AS
SELECT 'imm_' || s.slug AS slug, replace(s.definition, '''big_spenders''', '''imm_big_spenders''') AS definition, s.ord
  FROM bench.segments s
UNION ALL
SELECT 'imm_seniors', $$customer.age >= 65 and has profile newsletter$$, 9;

-- ---------------------------------------------------------------- refresh

CREATE TABLE bench.refreshes (
    phase    text NOT NULL,
    slug     text NOT NULL,
    ms       float8 NOT NULL,
    entered  bigint NOT NULL,
    exited   bigint NOT NULL,
    PRIMARY KEY (phase, slug)
);

-- Refreshes every segment of the benchmark, each in its own transaction.
CREATE PROCEDURE bench.refresh_all(phase text)
LANGUAGE plpgsql AS $$
DECLARE
    s record;
    r record;
    t0 timestamptz;
BEGIN
    FOR s IN SELECT g.slug FROM bench.segments g ORDER BY g.ord LOOP
        t0 := clock_timestamp();
        SELECT * INTO r FROM cdp.refresh_segment(s.slug);
        INSERT INTO bench.refreshes
        VALUES (phase, s.slug, extract(epoch FROM clock_timestamp() - t0) * 1000, r.entered, r.exited);
        COMMIT;
    END LOOP;
END
$$;

-- The change of 1% of the contacts, one transaction per kind of change.
CREATE TABLE bench.change_times (round int, what text, contacts bigint, ms float8, PRIMARY KEY (round, what));
CREATE PROCEDURE bench.change_one_percent(r int)
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    n bigint;
BEGIN
    t0 := clock_timestamp();
    PERFORM cdp.set_profile(c.contact_id, 'customer',
                            jsonb_build_object('tier', (ARRAY['bronze', 'silver', 'gold', 'platinum'])[1 + (hashint8extended(c.contact_id, 91) & 3)],
                                               'ltv', round(exp(bench.u(c.contact_id, 92) * 10)::numeric, 2),
                                               'vip', bench.u(c.contact_id, 93) < 0.2))
       FROM bench.changed c WHERE c.round = r AND c.what = 0 ORDER BY c.contact_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    INSERT INTO bench.change_times VALUES (r, 'set_profile', n, extract(epoch FROM clock_timestamp() - t0) * 1000);
    COMMIT;
    t0 := clock_timestamp();
    PERFORM cdp.tag('contact', c.contact_id, CASE WHEN c.n % 2 = 0 THEN 'VIP' ELSE 'Technology/Cloud' END)
       FROM bench.changed c WHERE c.round = r AND c.what = 1 ORDER BY c.contact_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    INSERT INTO bench.change_times VALUES (r, 'tag', n, extract(epoch FROM clock_timestamp() - t0) * 1000);
    COMMIT;
    t0 := clock_timestamp();
    PERFORM cdp.track(jsonb_build_object('external_id', 'bench-' || c.contact_id), 'purchase',
                      jsonb_build_object('amount', round((bench.u(c.contact_id, 94) * 500)::numeric, 2)),
                      now() - interval '20 days' * bench.u(c.contact_id, 95), 'bench')
       FROM bench.changed c WHERE c.round = r AND c.what = 2 ORDER BY c.contact_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    INSERT INTO bench.change_times VALUES (r, 'track', n, extract(epoch FROM clock_timestamp() - t0) * 1000);
    COMMIT;
END
$$;

-- Stored membership against a fresh evaluation at a time (default: the last
-- refresh's evaluation time): the contacts in one and not the other.
CREATE FUNCTION bench.membership_differs(slug text, at timestamptz DEFAULT NULL) RETURNS bigint
LANGUAGE sql AS $$
    WITH stored AS (SELECT m.contact_id FROM cdp.segment_members m WHERE m.segment = slug),
         fresh AS (SELECT * FROM cdp.members(slug, coalesce(at, (SELECT s.evaluated_at FROM cdp_internal.segment_state s
                                                                   WHERE s.segment = slug))) x(contact_id))
    SELECT (SELECT count(*) FROM (SELECT * FROM stored EXCEPT SELECT * FROM fresh) a)
         + (SELECT count(*) FROM (SELECT * FROM fresh EXCEPT SELECT * FROM stored) b)
$$;

-- ---------------------------------------------------------------- ingest

SELECT cdp.set_trait_mapping('plan', 'customer.tier');

-- Batches 0 (warm-up) .. B of 1,000 messages for each side: for person k,
-- an identify (userId, traits email and plan) then a track (userId, event,
-- properties, timestamp).  Sides: ing (ingest, messages with a messageId),
-- inx (ingest, no messageId), api (resolve + set_profile + track).  The
-- same data, other people: the userId and email carry the side.
CREATE TABLE bench.messages AS
SELECT side, b AS batch, pos,
       CASE WHEN pos % 2 = 1 THEN 'identify' ELSE 'track' END AS type,
       format('%s-%s-%s', side, b, k) AS user_id,
       format('%s.%s.%s@example.com', side, b, k) AS email,
       (ARRAY['bronze', 'silver', 'gold', 'platinum'])[1 + (hashint8extended(b * 1000 + k, 101) & 3)] AS plan,
       CASE WHEN hashint8extended(b * 1000 + pos, 102) & 1 = 0 THEN 'purchase' ELSE 'page_view' END AS event,
       jsonb_build_object('amount', round((bench.u(b * 1000 + pos, 103) * 500)::numeric, 2)) AS props,
       date_trunc('second', (SELECT at FROM bench.params) - interval '30 days' * bench.u(b * 1000 + pos, 104)) AS ts
  FROM unnest(ARRAY['ing', 'inx', 'api']) side, generate_series(0, :batches) b,
       generate_series(1, 1000) pos, LATERAL (SELECT (pos + 1) / 2 AS k) kk;
CREATE TABLE bench.batches AS
SELECT side, batch,
       jsonb_agg(jsonb_strip_nulls(
           CASE type
           WHEN 'identify' THEN jsonb_build_object('type', 'identify', 'userId', user_id,
                                                   'traits', jsonb_build_object('email', email, 'plan', plan))
           ELSE jsonb_build_object('type', 'track', 'userId', user_id, 'event', event, 'properties', props)
           END
           || jsonb_build_object('timestamp', to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                 'messageId', CASE WHEN side = 'ing' THEN format('m-%s-%s', batch, pos) END))
           ORDER BY pos) AS message
  FROM bench.messages WHERE side IN ('ing', 'inx') GROUP BY side, batch;
ANALYZE bench.messages, bench.batches;

-- The same work through the functions an application calls, one call each.
CREATE FUNCTION bench.api_batch(b int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    m record;
    c bigint;
    n bigint := 0;
BEGIN
    FOR m IN SELECT * FROM bench.messages x WHERE x.side = 'api' AND x.batch = b ORDER BY x.pos LOOP
        IF m.type = 'identify' THEN
            c := cdp.resolve(jsonb_build_object('external_id', m.user_id, 'email', m.email), 'ingest',
                             on_invalid => 'skip');
            PERFORM cdp.set_profile(c, 'customer', jsonb_build_object('tier', m.plan), 'ingest');
        ELSE
            PERFORM cdp.track(jsonb_build_object('external_id', m.user_id), m.event, m.props, m.ts, 'ingest');
        END IF;
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;

CREATE TABLE bench.ingest_times (side text, batch int, ms float8, stored bigint, PRIMARY KEY (side, batch));
-- Each batch of each side in its own transaction, the sides' order rotating
-- from batch to batch.
CREATE PROCEDURE bench.time_ingest(batches int)
LANGUAGE plpgsql AS $$
DECLARE
    sides text[] := ARRAY['ing', 'api', 'inx'];
    who text;
    t0 timestamptz;
    n bigint;
BEGIN
    FOR b IN 0 .. batches LOOP
        FOR j IN 0 .. 2 LOOP
            who := sides[1 + (b + j) % 3];
            t0 := clock_timestamp();
            IF who = 'api' THEN
                n := bench.api_batch(b);
            ELSE
                SELECT cdp.ingest(x.message) INTO n FROM bench.batches x WHERE x.side = who AND x.batch = b;
            END IF;
            INSERT INTO bench.ingest_times VALUES (who, b, extract(epoch FROM clock_timestamp() - t0) * 1000, n);
            COMMIT;
        END LOOP;
    END LOOP;
END
$$;
