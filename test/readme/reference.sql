-- reference.sql: prints the README's reference section (every function,
-- type and table of schema cdp, from the catalog); test/t/readme.sh fails when
-- README.md differs.  Run with psql -X -At in a database with cdp installed.
WITH
-- Markdown outside code spans: "<slug>" would be read as an HTML tag.
descr(oid, classoid, text) AS (
	SELECT objoid, classoid, replace(replace(description, '<', '&lt;'), '>', '&gt;')
	  FROM pg_description WHERE objsubid = 0
),
funcs AS (
	SELECT 1 AS part, format('- `cdp.%s(%s) → %s` — %s', p.proname,
			  regexp_replace(replace(pg_get_function_arguments(p.oid), 'timestamp with time zone', 'timestamptz'),
							 '(DEFAULT (?:NULL|''[^'']*''))::[a-z]+(?:\[\])?', '\1', 'g'),
			  replace(pg_get_function_result(p.oid), 'timestamp with time zone', 'timestamptz'),
			  coalesce(d.text, '**no comment**')) AS line,
		   p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS sort
	  FROM pg_proc p
	  LEFT JOIN descr d ON d.oid = p.oid AND d.classoid = 'pg_proc'::regclass
	 WHERE p.pronamespace = 'cdp'::regnamespace
),
types AS (
	SELECT 2, format('- `cdp.%s` — %s. Operators: %s. Casts: %s.', t.typname,
			  coalesce(d.text, '**no comment**'),
			  coalesce((SELECT string_agg('`' || o.oprname || '`', ' '
								 ORDER BY array_position('{=,<>,<,<=,>,>=}'::text[], o.oprname::text), o.oprname COLLATE "C")
				 FROM pg_operator o WHERE o.oprleft = t.oid OR o.oprright = t.oid), 'none'),
			  coalesce((SELECT string_agg(format('%s to %s (%s)', c.castsource::regtype, c.casttarget::regtype,
										CASE c.castcontext WHEN 'i' THEN 'implicit' WHEN 'a' THEN 'assignment'
										ELSE 'explicit' END), ', ' ORDER BY c.castsource::regtype::text, c.casttarget::regtype::text)
				 FROM pg_cast c WHERE c.castsource = t.oid OR c.casttarget = t.oid), 'none')),
		   t.typname::text
	  FROM pg_type t
	  LEFT JOIN descr d ON d.oid = t.oid AND d.classoid = 'pg_type'::regclass
	 WHERE t.typnamespace = 'cdp'::regnamespace AND t.typtype = 'b' AND t.typelem = 0
),
tables AS (
	SELECT 3, format('- `cdp.%s(%s)`%s — %s', c.relname,
			  (SELECT string_agg(quote_ident(a.attname) || ' ' ||
								 replace(format_type(a.atttypid, a.atttypmod), 'timestamp with time zone', 'timestamptz'),
								 ', ' ORDER BY a.attnum)
				 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
			  CASE c.relkind WHEN 'v' THEN ' (view)' WHEN 'm' THEN ' (materialized view)' ELSE '' END,
			  coalesce(d.text, '**no comment**')),
		   c.relname::text
	  FROM pg_class c
	  LEFT JOIN descr d ON d.oid = c.oid AND d.classoid = 'pg_class'::regclass
	 WHERE c.relnamespace = 'cdp'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
),
headings(part, line, sort) AS (
	VALUES (1, E'### Functions\n', ''), (2, E'\n### Types\n', ''), (3, E'\n### Tables\n', '')
)
SELECT line FROM (SELECT * FROM headings UNION ALL SELECT * FROM funcs UNION ALL SELECT * FROM types UNION ALL SELECT * FROM tables) x
 ORDER BY part, sort COLLATE "C", line COLLATE "C";
