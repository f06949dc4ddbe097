-- records.sql: the deterministic input of test/t/citus.sh, in three copies
-- (namespaces a, b, c) that share no value, in a local table of the database.
--
-- Record i (1..300) of namespace n: an email n-p<i mod 150> (none when 7 | i),
-- a London phone +44 20 7946 <d><7i mod 100> when 3 | i (validated by otp
-- when 6 | i; d is 0, 1, 2 for a, b, c), an external id n-x<i mod 40> when
-- 5 | i, and an anonymous id when the record would otherwise be empty.
-- Records i and i+150 share an email, 3 | i and i+100 a phone, 5 | i and i+40
-- an external id: resolving them merges contacts.  Every 11th email is
-- written in capitals, which the normaliser undoes.
-- (local tables: on Citus they stay on the coordinator, without a notice)
SET client_min_messages = error;
CREATE TABLE public.tap_records (
    ns        text NOT NULL,
    record_id integer NOT NULL,
    kind      text NOT NULL,
    value     text NOT NULL,
    validated boolean NOT NULL DEFAULT false
);

INSERT INTO public.tap_records (ns, record_id, kind, value, validated)
SELECT n.ns, i, v.kind, v.value, v.validated
  FROM (VALUES ('a', 0), ('b', 1), ('c', 2)) n(ns, digit),
       generate_series(1, 300) i,
       LATERAL (VALUES
           ('email', CASE WHEN i % 7 <> 0 THEN
                          CASE WHEN i % 11 = 0 THEN upper(n.ns || '-p' || i % 150 || '@example.com')
                               ELSE n.ns || '-p' || i % 150 || '@example.com' END END, false),
           ('phone', CASE WHEN i % 3 = 0 THEN '+44 20 7946 ' || n.digit || lpad((i * 7 % 100)::text, 3, '0') END,
                     i % 6 = 0),
           ('external_id', CASE WHEN i % 5 = 0 THEN n.ns || '-x' || i % 40 END, false),
           ('anonymous', CASE WHEN i % 7 = 0 AND i % 3 <> 0 AND i % 5 <> 0 THEN n.ns || '-v' || i END, false)
       ) v(kind, value, validated)
 WHERE v.value IS NOT NULL;

-- One cdp.resolve argument per record (the array form, which carries validation).
CREATE VIEW public.tap_resolve_input AS
SELECT ns, record_id,
       jsonb_agg(jsonb_build_object('kind', kind, 'value', value)
                 || CASE WHEN validated THEN '{"validated": "otp"}'::jsonb ELSE '{}'::jsonb END
                 ORDER BY kind) AS identifiers
  FROM public.tap_records
 GROUP BY ns, record_id;

-- What the workload's calls return (counts, SQLSTATEs; never ids), for state.sql.
CREATE TABLE public.tap_returns (
    step  text NOT NULL,
    n     integer NOT NULL,
    value text
);
