-- normalize_baseline.sql: what a user would write without cdp, the baseline
-- of benchmark (b).  The same provider rules as cdp.normalize_email (gmail
-- and googlemail drop dots and +tag, the Outlook family and iCloud drop
-- +tag, the Yahoo family drops the last -tag, yandex becomes yandex.ru) with
-- NFC, lower case and a syntax check by regular expression.  It has no IDNA:
-- there is nothing in PostgreSQL to call for that.  Invalid input gives NULL
-- rather than an error, so no row of the timed table can abort the query
-- and no time goes into raising.
CREATE FUNCTION bench.plpgsql_normalize_email(addr text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
	a text := lower(normalize(btrim(addr, E' \t\r\n\u00a0'), NFC));
	local text;
	domain text;
BEGIN
	IF a !~ '^[^@\s."]([^@\s"]{0,62}[^@\s."])?@([^@\s._-]([^@\s._]{0,61}[^@\s._-])?\.)+[^@\s._0-9-]{2,63}$'
		OR a ~ '\.\.' THEN
		RETURN NULL;
	END IF;
	local := split_part(a, '@', 1);
	domain := split_part(a, '@', 2);
	IF domain IN ('gmail.com', 'googlemail.com') THEN
		local := replace(regexp_replace(local, '\+.*$', ''), '.', '');
		domain := 'gmail.com';
	ELSIF domain ~ '^((hotmail|outlook)\.(com|co\.[a-z]{2}|com\.[a-z]{2}|[a-z]{2})|live\.(com|co\.uk|com\.[a-z]{2}|[a-z]{2})|msn\.com|passport\.com|icloud\.com|me\.com)$' THEN
		local := regexp_replace(local, '\+.*$', '');
	ELSIF domain ~ '^(yahoo\.(com|co\.uk|[a-z]{2})|ymail\.com|rocketmail\.com)$' THEN
		local := regexp_replace(local, '-[^-]*$', '');
	ELSIF domain ~ '^(yandex\.(ru|ua|kz|by|com)|ya\.ru)$' THEN
		domain := 'yandex.ru';
	END IF;
	IF local = '' THEN
		RETURN NULL;
	END IF;
	RETURN local || '@' || domain;
END $$;

-- A timing: the best of `runs` executions of query, in milliseconds.  The
-- result rows are discarded; only the statement is timed, in the server.
CREATE FUNCTION bench.best_ms(query text, runs int DEFAULT 3) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz;
	ms float8;
	best float8;
BEGIN
	FOR i IN 1..runs LOOP
		t0 := clock_timestamp();
		EXECUTE query;
		ms := 1000 * extract(epoch FROM clock_timestamp() - t0);
		best := least(best, ms);
		RAISE NOTICE '  % ms', round(ms::numeric, 1);
	END LOOP;
	RETURN best;
END $$;
