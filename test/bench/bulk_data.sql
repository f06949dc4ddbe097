-- bulk_data.sql: :n deterministic records for the bulk benchmark, as rows
-- (record_id, kind, value) of bulk_input, already in normalised form so that
-- every implementation sees the same graph.  Record i has an email, and a
-- phone (i % 3 <> 0) and/or a cookie (i % 3 <> 1): 2.33 identifiers on
-- average.  About 30% of the values are taken from one of the 20 records
-- before (when it has that kind), so records chain into components.
CREATE UNLOGGED TABLE bulk_input (n int NOT NULL, record_id text NOT NULL, kind text NOT NULL, value text NOT NULL);
INSERT INTO bulk_input
SELECT i, 'r' || i, kind, CASE kind
           WHEN 'email' THEN 'user' || v || '@example.com'
           WHEN 'phone' THEN '+336' || lpad(v::text, 8, '0')
           ELSE 'cookie-' || v END
  FROM generate_series(1, :n) AS i,
       LATERAL (VALUES ('email', 1), ('phone', 2), ('anonymous', 3)) AS k(kind, salt),
       -- a multiplicative hash of (i, kind): 30% shared, with the record 1-20 back
       LATERAL (SELECT ((i::bigint * 2654435761 + salt * 40503) % 1000003) AS h) AS hh,
       LATERAL (SELECT CASE WHEN h % 10 < 3 AND i > (h / 10) % 20 + 1
                            THEN i - 1 - (h / 10) % 20 ELSE i END AS v) AS vv
 WHERE kind = 'email' OR (kind = 'phone' AND i % 3 <> 0) OR (kind = 'anonymous' AND i % 3 <> 1)
 ORDER BY i, salt;
ANALYZE bulk_input;
