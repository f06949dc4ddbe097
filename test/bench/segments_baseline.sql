-- segments_baseline.sql
--   The segments of the benchmark, the hand-written SQL a DBA would write for
--   each (on the same tables and indexes), and the timing functions.
--
-- bench.segments holds the definitions (created with cdp.create_segment by
-- the driver, in order: big_spenders is the inner segment of vip_big_spenders
-- and is not timed).  bench.hand holds one or more hand-written statements per
-- segment, each SELECT count(*) with $AT where the evaluation time goes and
-- $TECH_TAGS etc. where looked-up ids go (bench.literals); the
-- fastest variant measured is the baseline, and every variant must give
-- cdp.count's number.  Semantics as DESIGN §7: archived and merged contacts
-- are never members, a missing value is false for every operator (so NOT of
-- it is true), archived organizations and documents do not count.

CREATE TABLE bench.segments (
    ord        int PRIMARY KEY,
    slug       text NOT NULL UNIQUE,
    kind       text NOT NULL,
    definition text NOT NULL,
    timed      boolean NOT NULL DEFAULT true
);
INSERT INTO bench.segments VALUES
  (1, 'ltv_range', 'attribute range', $$customer.ltv between 100 and 200$$, true),
  (2, 'technology', 'tag under', $$tag under 'Technology'$$, true),
  (3, 'sports_fans', 'taxonomy under', $$interests under 'sports'$$, true),
  (4, 'retail', 'organization attribute', $$company.industry = 'retail'$$, true),
  (5, 'upsell', 'not with or',
   $$has profile customer and not (customer.tier in ('gold', 'platinum') or tag 'VIP' or document invoice (invoice.status = 'overdue'))$$, true),
  (6, 'frequent_buyers', 'event count within', $$event 'purchase' count >= 3 within 30 days$$, true),
  (0, 'big_spenders', 'inner segment', $$customer.ltv >= 10000 and customer.tier in ('gold', 'platinum')$$, false),
  (7, 'vip_big_spenders', 'in segment', $$in segment 'big_spenders' and customer.vip = true$$, true),
  (8, 'mix', 'five conditions',
   $$customer.tier in ('gold', 'platinum') and interests under 'sports' and organization (company.industry in ('software', 'finance')) and not tag 'Lifecycle/Churned' and event 'purchase' within 30 days$$, true);

CREATE TABLE bench.hand (
    slug    text NOT NULL REFERENCES bench.segments (slug),
    variant text NOT NULL,
    sql     text NOT NULL,
    PRIMARY KEY (slug, variant)
);
INSERT INTO bench.hand VALUES
  ('ltv_range', 'exists', $$
    SELECT count(*) FROM cdp.contacts c
     WHERE c.archived_at IS NULL AND c.merged_into IS NULL
       AND EXISTS (SELECT FROM cdp_data.profile_customer p WHERE p.contact_id = c.id AND p.ltv BETWEEN 100 AND 200)$$),
  ('ltv_range', 'join', $$
    SELECT count(*) FROM cdp_data.profile_customer p JOIN cdp.contacts c ON c.id = p.contact_id
     WHERE p.ltv BETWEEN 100 AND 200 AND c.archived_at IS NULL AND c.merged_into IS NULL$$),

  ('technology', 'exists', $$
    SELECT count(*) FROM cdp.contacts c
     WHERE c.archived_at IS NULL AND c.merged_into IS NULL
       AND EXISTS (SELECT FROM cdp.contact_tags ct
                    WHERE ct.contact_id = c.id
                      AND ct.tag_id IN (SELECT t.id FROM cdp.tags t
                                         WHERE t.path = 'Technology' OR t.path LIKE 'Technology/%'))$$),
  ('technology', 'in-array', $$
    SELECT count(*) FROM cdp.contacts c
     WHERE c.archived_at IS NULL AND c.merged_into IS NULL
       AND c.id IN (SELECT ct.contact_id FROM cdp.contact_tags ct
                     WHERE ct.tag_id = ANY (ARRAY(SELECT t.id FROM cdp.tags t
                                                   WHERE t.path = 'Technology' OR t.path LIKE 'Technology/%')))$$),

  ('technology', 'in-ids', $$
    SELECT count(*) FROM cdp.contacts c
     WHERE c.archived_at IS NULL AND c.merged_into IS NULL
       AND c.id IN (SELECT ct.contact_id FROM cdp.contact_tags ct WHERE ct.tag_id IN ($TECH_TAGS))$$),
  ('technology', 'exists-ids', $$
    SELECT count(*) FROM cdp.contacts c
     WHERE c.archived_at IS NULL AND c.merged_into IS NULL
       AND EXISTS (SELECT FROM cdp.contact_tags ct WHERE ct.contact_id = c.id AND ct.tag_id IN ($TECH_TAGS))$$),

  ('sports_fans', 'exists', $$
    SELECT count(*) FROM cdp.contacts c
     WHERE c.archived_at IS NULL AND c.merged_into IS NULL
       AND EXISTS (SELECT FROM cdp.contact_terms ct
                    WHERE ct.contact_id = c.id
                      AND ct.term_id IN (SELECT t.id FROM cdp.terms t
                                          WHERE t.taxonomy = 'interests'
                                            AND (t.path = 'sports' OR t.path LIKE 'sports/%')))$$),
  ('sports_fans', 'in-array', $$
    SELECT count(*) FROM cdp.contacts c
     WHERE c.archived_at IS NULL AND c.merged_into IS NULL
       AND c.id IN (SELECT ct.contact_id FROM cdp.contact_terms ct
                     WHERE ct.term_id = ANY (ARRAY(SELECT t.id FROM cdp.terms t
                                                    WHERE t.taxonomy = 'interests'
                                                      AND (t.path = 'sports' OR t.path LIKE 'sports/%'))))$$),

  ('sports_fans', 'in-ids', $$
    SELECT count(*) FROM cdp.contacts c
     WHERE c.archived_at IS NULL AND c.merged_into IS NULL
       AND c.id IN (SELECT ct.contact_id FROM cdp.contact_terms ct WHERE ct.term_id IN ($SPORTS_TERMS))$$),
  ('sports_fans', 'exists-ids', $$
    SELECT count(*) FROM cdp.contacts c
     WHERE c.archived_at IS NULL AND c.merged_into IS NULL
       AND EXISTS (SELECT FROM cdp.contact_terms ct WHERE ct.contact_id = c.id AND ct.term_id IN ($SPORTS_TERMS))$$),

  ('retail', 'exists', $$
    SELECT count(*) FROM cdp.contacts c
     WHERE c.archived_at IS NULL AND c.merged_into IS NULL
       AND EXISTS (SELECT FROM cdp.organization_members m
                          JOIN cdp.organizations o ON o.id = m.organization_id
                          JOIN cdp_data.profile_company pc ON pc.organization_id = m.organization_id
                    WHERE m.contact_id = c.id AND o.archived_at IS NULL AND pc.industry = 'retail')$$),
  ('retail', 'in', $$
    SELECT count(*) FROM cdp.contacts c
     WHERE c.archived_at IS NULL AND c.merged_into IS NULL
       AND c.id IN (SELECT m.contact_id
                      FROM cdp_data.profile_company pc
                           JOIN cdp.organizations o ON o.id = pc.organization_id AND o.archived_at IS NULL
                           JOIN cdp.organization_members m ON m.organization_id = pc.organization_id
                     WHERE pc.industry = 'retail')$$),

  ('upsell', 'exists', $$
    SELECT count(*) FROM cdp.contacts c
     WHERE c.archived_at IS NULL AND c.merged_into IS NULL
       AND EXISTS (SELECT FROM cdp_data.profile_customer p WHERE p.contact_id = c.id)
       AND NOT EXISTS (SELECT FROM cdp_data.profile_customer p
                        WHERE p.contact_id = c.id AND p.tier IN ('gold', 'platinum'))
       AND NOT EXISTS (SELECT FROM cdp.contact_tags ct
                        WHERE ct.contact_id = c.id AND ct.tag_id = (SELECT id FROM cdp.tags WHERE path = 'VIP'))
       AND NOT EXISTS (SELECT FROM cdp.documents d JOIN cdp_data.document_invoice i ON i.document_id = d.id
                        WHERE d.contact_id = c.id AND d.template = 'invoice' AND d.archived_at IS NULL
                          AND i.status = 'overdue')$$),
  ('upsell', 'join', $$
    SELECT count(*) FROM cdp_data.profile_customer p JOIN cdp.contacts c ON c.id = p.contact_id
     WHERE c.archived_at IS NULL AND c.merged_into IS NULL
       AND (p.tier IS NULL OR p.tier NOT IN ('gold', 'platinum'))
       AND NOT EXISTS (SELECT FROM cdp.contact_tags ct
                        WHERE ct.contact_id = c.id AND ct.tag_id = (SELECT id FROM cdp.tags WHERE path = 'VIP'))
       AND NOT EXISTS (SELECT FROM cdp.documents d JOIN cdp_data.document_invoice i ON i.document_id = d.id
                        WHERE d.contact_id = c.id AND d.template = 'invoice' AND d.archived_at IS NULL
                          AND i.status = 'overdue')$$),

  ('upsell', 'join-ids', $$
    SELECT count(*) FROM cdp_data.profile_customer p JOIN cdp.contacts c ON c.id = p.contact_id
     WHERE c.archived_at IS NULL AND c.merged_into IS NULL
       AND (p.tier IS NULL OR p.tier NOT IN ('gold', 'platinum'))
       AND NOT EXISTS (SELECT FROM cdp.contact_tags ct WHERE ct.contact_id = c.id AND ct.tag_id = $VIP_TAG)
       AND NOT EXISTS (SELECT FROM cdp.documents d JOIN cdp_data.document_invoice i ON i.document_id = d.id
                        WHERE d.contact_id = c.id AND d.template = 'invoice' AND d.archived_at IS NULL
                          AND i.status = 'overdue')$$),

  ('frequent_buyers', 'in-grouped', $$
    SELECT count(*) FROM cdp.contacts c
     WHERE c.archived_at IS NULL AND c.merged_into IS NULL
       AND c.id IN (SELECT e.contact_id FROM cdp.events e
                     WHERE e.name = 'purchase' AND e.occurred_at > $AT - interval '30 days' AND e.occurred_at <= $AT
                     GROUP BY e.contact_id HAVING count(*) >= 3)$$),
  ('frequent_buyers', 'join-grouped', $$
    SELECT count(*)
      FROM (SELECT e.contact_id FROM cdp.events e
             WHERE e.name = 'purchase' AND e.occurred_at > $AT - interval '30 days' AND e.occurred_at <= $AT
             GROUP BY e.contact_id HAVING count(*) >= 3) b
      JOIN cdp.contacts c ON c.id = b.contact_id
     WHERE c.archived_at IS NULL AND c.merged_into IS NULL$$),

  ('vip_big_spenders', 'join', $$
    SELECT count(*) FROM cdp_data.profile_customer p JOIN cdp.contacts c ON c.id = p.contact_id
     WHERE p.ltv >= 10000 AND p.tier IN ('gold', 'platinum') AND p.vip
       AND c.archived_at IS NULL AND c.merged_into IS NULL$$),
  ('vip_big_spenders', 'exists', $$
    SELECT count(*) FROM cdp.contacts c
     WHERE c.archived_at IS NULL AND c.merged_into IS NULL
       AND EXISTS (SELECT FROM cdp_data.profile_customer p
                    WHERE p.contact_id = c.id AND p.ltv >= 10000 AND p.tier IN ('gold', 'platinum') AND p.vip)$$),

  ('mix', 'exists', $$
    SELECT count(*) FROM cdp.contacts c
     WHERE c.archived_at IS NULL AND c.merged_into IS NULL
       AND EXISTS (SELECT FROM cdp_data.profile_customer p
                    WHERE p.contact_id = c.id AND p.tier IN ('gold', 'platinum'))
       AND EXISTS (SELECT FROM cdp.contact_terms ct
                    WHERE ct.contact_id = c.id
                      AND ct.term_id IN (SELECT t.id FROM cdp.terms t
                                          WHERE t.taxonomy = 'interests'
                                            AND (t.path = 'sports' OR t.path LIKE 'sports/%')))
       AND EXISTS (SELECT FROM cdp.organization_members m
                          JOIN cdp.organizations o ON o.id = m.organization_id
                          JOIN cdp_data.profile_company pc ON pc.organization_id = m.organization_id
                    WHERE m.contact_id = c.id AND o.archived_at IS NULL
                      AND pc.industry IN ('software', 'finance'))
       AND NOT EXISTS (SELECT FROM cdp.contact_tags ct
                        WHERE ct.contact_id = c.id
                          AND ct.tag_id = (SELECT id FROM cdp.tags WHERE path = 'Lifecycle/Churned'))
       AND EXISTS (SELECT FROM cdp.events e
                    WHERE e.contact_id = c.id AND e.name = 'purchase'
                      AND e.occurred_at > $AT - interval '30 days' AND e.occurred_at <= $AT)$$),
  ('mix', 'join-in', $$
    SELECT count(*) FROM cdp_data.profile_customer p JOIN cdp.contacts c ON c.id = p.contact_id
     WHERE p.tier IN ('gold', 'platinum') AND c.archived_at IS NULL AND c.merged_into IS NULL
       AND c.id IN (SELECT ct.contact_id FROM cdp.contact_terms ct
                     WHERE ct.term_id = ANY (ARRAY(SELECT t.id FROM cdp.terms t
                                                    WHERE t.taxonomy = 'interests'
                                                      AND (t.path = 'sports' OR t.path LIKE 'sports/%'))))
       AND c.id IN (SELECT m.contact_id
                      FROM cdp_data.profile_company pc
                           JOIN cdp.organizations o ON o.id = pc.organization_id AND o.archived_at IS NULL
                           JOIN cdp.organization_members m ON m.organization_id = pc.organization_id
                     WHERE pc.industry IN ('software', 'finance'))
       AND c.id NOT IN (SELECT ct.contact_id FROM cdp.contact_tags ct
                         WHERE ct.tag_id = (SELECT id FROM cdp.tags WHERE path = 'Lifecycle/Churned'))
       AND c.id IN (SELECT e.contact_id FROM cdp.events e
                     WHERE e.name = 'purchase' AND e.occurred_at > $AT - interval '30 days'
                       AND e.occurred_at <= $AT)$$),
  ('mix', 'exists-ids', $$
    SELECT count(*) FROM cdp.contacts c
     WHERE c.archived_at IS NULL AND c.merged_into IS NULL
       AND EXISTS (SELECT FROM cdp_data.profile_customer p
                    WHERE p.contact_id = c.id AND p.tier IN ('gold', 'platinum'))
       AND EXISTS (SELECT FROM cdp.contact_terms ct WHERE ct.contact_id = c.id AND ct.term_id IN ($SPORTS_TERMS))
       AND EXISTS (SELECT FROM cdp.organization_members m
                          JOIN cdp.organizations o ON o.id = m.organization_id
                          JOIN cdp_data.profile_company pc ON pc.organization_id = m.organization_id
                    WHERE m.contact_id = c.id AND o.archived_at IS NULL
                      AND pc.industry IN ('software', 'finance'))
       AND NOT EXISTS (SELECT FROM cdp.contact_tags ct WHERE ct.contact_id = c.id AND ct.tag_id = $CHURNED_TAG)
       AND EXISTS (SELECT FROM cdp.events e
                    WHERE e.contact_id = c.id AND e.name = 'purchase'
                      AND e.occurred_at > $AT - interval '30 days' AND e.occurred_at <= $AT)$$);

-- ms of one statement
CREATE FUNCTION bench.ms(t0 timestamptz) RETURNS float8 LANGUAGE sql VOLATILE AS
$$ SELECT extract(epoch FROM clock_timestamp() - t0) * 1000 $$;

-- time_query(sql, runs): one warm-up run, then the median and best of runs,
-- and the count the statement returned
CREATE FUNCTION bench.time_query(q text, runs int, OUT median_ms float8, OUT best_ms float8, OUT result bigint)
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    d float8[] := '{}';
BEGIN
    EXECUTE q INTO result;
    FOR i IN 1 .. runs LOOP
        t0 := clock_timestamp();
        EXECUTE q INTO result;
        d := d || bench.ms(t0);
    END LOOP;
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x), min(x) INTO median_ms, best_ms FROM unnest(d) x;
END
$$;

-- Tag and term ids a DBA would look up once and write into the statement
-- (as cdp expands tag and term subtrees when it compiles a segment), so the
-- planner sees the values; $TECH_TAGS etc. in bench.hand.
CREATE TABLE bench.literals (token text PRIMARY KEY, value text NOT NULL);
INSERT INTO bench.literals
SELECT '$TECH_TAGS', string_agg(id::text, ', ' ORDER BY id) FROM cdp.tags
 WHERE path = 'Technology' OR path LIKE 'Technology/%'
UNION ALL
SELECT '$SPORTS_TERMS', string_agg(id::text, ', ' ORDER BY id) FROM cdp.terms
 WHERE taxonomy = 'interests' AND (path = 'sports' OR path LIKE 'sports/%')
UNION ALL
SELECT '$VIP_TAG', id::text FROM cdp.tags WHERE path = 'VIP'
UNION ALL
SELECT '$CHURNED_TAG', id::text FROM cdp.tags WHERE path = 'Lifecycle/Churned';

-- The hand-written SQL of a segment with the evaluation time and the ids put in.
CREATE FUNCTION bench.hand_sql(h bench.hand, at timestamptz) RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
    q text := replace(h.sql, '$AT', quote_literal(at::text) || '::timestamptz');
    l bench.literals;
BEGIN
    FOR l IN SELECT * FROM bench.literals LOOP
        q := replace(q, l.token, l.value);
    END LOOP;
    RETURN q;
END
$$;

-- compare(at, runs): for every timed segment, cdp.count(slug, at) and every
-- hand-written variant, one warm-up run each, then runs rounds in which each
-- runs once (interleaved, so drift of the machine touches all alike).
-- Returns the median and best of each, and the count each gave.
CREATE TABLE bench.timings (slug text, who text, run int, ms float8, result bigint);
CREATE FUNCTION bench.compare(at timestamptz, runs int)
RETURNS TABLE (ord int, slug text, who text, median_ms float8, best_ms float8, result bigint)
LANGUAGE plpgsql AS $$
DECLARE
    s bench.segments;
    q text[];
    w text[];
    t0 timestamptz;
    r bigint;
BEGIN
    TRUNCATE bench.timings;
    FOR s IN SELECT * FROM bench.segments x WHERE x.timed ORDER BY x.ord LOOP
        q := ARRAY[format('SELECT cdp.count(%L, %L::timestamptz)', s.slug, at)];
        w := ARRAY['cdp'];
        SELECT q || array_agg(bench.hand_sql(h, at) ORDER BY h.variant), w || array_agg(h.variant ORDER BY h.variant)
          INTO q, w FROM bench.hand h WHERE h.slug = s.slug;
        FOR run IN 0 .. runs LOOP
            FOR i IN 1 .. cardinality(q) LOOP
                t0 := clock_timestamp();
                EXECUTE q[i] INTO r;
                INSERT INTO bench.timings VALUES (s.slug, w[i], run, bench.ms(t0), r);
            END LOOP;
        END LOOP;
    END LOOP;
    RETURN QUERY
    SELECT s2.ord, t.slug, t.who, percentile_cont(0.5) WITHIN GROUP (ORDER BY t.ms) FILTER (WHERE t.run > 0),
           min(t.ms) FILTER (WHERE t.run > 0), min(t.result)
      FROM bench.timings t JOIN bench.segments s2 ON s2.slug = t.slug
     GROUP BY s2.ord, t.slug, t.who
    HAVING min(t.result) = max(t.result)
    UNION ALL    -- a statement whose count changed between runs: result NULL
    SELECT s2.ord, t.slug, t.who, NULL, NULL, NULL
      FROM bench.timings t JOIN bench.segments s2 ON s2.slug = t.slug
     GROUP BY s2.ord, t.slug, t.who
    HAVING min(t.result) <> max(t.result);
END
$$;

-- A deterministic sample of n contacts (archived and merged ones included, as
-- an application would pass them).
CREATE FUNCTION bench.sample(n int) RETURNS bigint[] LANGUAGE sql STABLE AS
$$ SELECT array_agg(id ORDER BY hashint8extended(id, 99), id)
     FROM (SELECT id FROM cdp.contacts ORDER BY hashint8extended(id, 99), id LIMIT n) s $$;

-- Per-call times (ms) of cdp.in_segment and cdp.explain_segment over a list
-- of contacts, one call at a time as an application makes them; how many
-- calls said true; how many times explain's root row disagreed with
-- in_segment; how many in_segment said differently from cdp.members.
CREATE FUNCTION bench.time_per_contact(seg text, contacts bigint[], at timestamptz,
                                       OUT in_median float8, OUT in_p90 float8, OUT in_true bigint,
                                       OUT explain_median float8, OUT explain_p90 float8,
                                       OUT explain_disagree bigint, OUT members_disagree bigint)
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    d float8[] := '{}';
    e float8[] := '{}';
    got boolean[] := '{}';
    r boolean;
    id bigint;
    i int := 0;
BEGIN
    in_true := 0;
    explain_disagree := 0;
    PERFORM cdp.in_segment(contacts[1], seg, at);    -- warm-up: plans, catalog caches
    PERFORM cdp.explain_segment(seg, contacts[1], at);
    FOREACH id IN ARRAY contacts LOOP
        t0 := clock_timestamp();
        r := cdp.in_segment(id, seg, at);
        d := d || bench.ms(t0);
        got := got || r;
        in_true := in_true + r::int;
    END LOOP;
    FOREACH id IN ARRAY contacts LOOP
        i := i + 1;
        t0 := clock_timestamp();
        SELECT x.result INTO r FROM cdp.explain_segment(seg, id, at) x ORDER BY x.node LIMIT 1;
        e := e || bench.ms(t0);
        IF r IS DISTINCT FROM got[i] THEN
            explain_disagree := explain_disagree + 1;
        END IF;
    END LOOP;
    SELECT count(*) INTO members_disagree
      FROM unnest(contacts, got) AS x(id, g)
     WHERE g IS DISTINCT FROM (x.id IN (SELECT m FROM cdp.members(seg, at) m));
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x), percentile_cont(0.9) WITHIN GROUP (ORDER BY x)
      INTO in_median, in_p90 FROM unnest(d) x;
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x), percentile_cont(0.9) WITHIN GROUP (ORDER BY x)
      INTO explain_median, explain_p90 FROM unnest(e) x;
END
$$;
