-- normalize_data.sql: deterministic messy test data for the normalisation
-- benchmark.  One backend, a fixed setseed and no parallel workers, so the
-- same rows come out on every run.  Fills
--   bench.raw_emails (id, x)          messy emails, some invalid
--   bench.raw_phones (id, x, region)  messy phones with the customer's region
SET max_parallel_workers_per_gather = 0;
CREATE SCHEMA bench;

CREATE FUNCTION bench.pick(a text[]) RETURNS text
LANGUAGE sql VOLATILE AS $$ SELECT a[1 + floor(random() * array_length(a, 1))::int] $$;

CREATE FUNCTION bench.digits(n int) RETURNS text
LANGUAGE sql VOLATILE AS $$
	SELECT string_agg(floor(random() * 10)::int::text, '') FROM generate_series(1, n)
$$;

-- Surrounding white space and case, as people type and exports mangle them.
CREATE FUNCTION bench.mess(s text) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	r float8 := random();
BEGIN
	IF r < 0.20 THEN
		s := upper(s);
	ELSIF r < 0.40 THEN
		s := initcap(s);
	END IF;
	r := random();
	IF r < 0.25 THEN
		s := ' ' || s || '  ';
	ELSIF r < 0.30 THEN
		s := E'\t' || s || E'\r\n';
	ELSIF r < 0.32 THEN
		s := E'\u00a0' || s;		-- no-break space from a spreadsheet
	END IF;
	RETURN s;
END $$;

CREATE FUNCTION bench.messy_email() RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	first text := bench.pick('{john,jane,maria,ahmed,wei,olga,pierre,sofia,liam,noah,emma,yuki,raj,ana,lukas,chloe}');
	last text := bench.pick('{smith,doe,garcia,khan,zhang,ivanova,dubois,rossi,murphy,brown,tanaka,patel,silva,muller,martin,nguyen}');
	local text;
	domain text;
	r float8;
	p int;
BEGIN
	r := random();
	local := CASE WHEN r < 0.35 THEN first || '.' || last
				  WHEN r < 0.60 THEN first || last || floor(random() * 1000)::int
				  WHEN r < 0.80 THEN left(first, 1) || '_' || last
				  ELSE first || floor(random() * 100)::int END;
	r := random();
	IF r < 0.25 THEN
		-- gmail: dots anywhere and +tags
		domain := 'gmail.com';
		IF random() < 0.5 THEN
			p := 2 + floor(random() * (length(local) - 2))::int;
			local := overlay(local PLACING '.' FROM p FOR 0);
		END IF;
		IF random() < 0.3 THEN
			local := local || '+' || bench.pick('{news,shop,promo,x,2024}');
		END IF;
	ELSIF r < 0.28 THEN
		domain := 'googlemail.com';
		IF random() < 0.3 THEN
			local := local || '+tag';
		END IF;
	ELSIF r < 0.43 THEN
		domain := bench.pick('{outlook.com,hotmail.com,live.com,hotmail.co.uk,outlook.fr,msn.com,hotmail.de}');
		IF random() < 0.3 THEN
			local := local || '+' || bench.pick('{news,shop,work}');
		END IF;
	ELSIF r < 0.53 THEN
		domain := bench.pick('{yahoo.com,yahoo.co.uk,ymail.com,yahoo.fr,rocketmail.com}');
		IF random() < 0.3 THEN
			local := local || '-' || bench.pick('{news,shop,spam}');
		END IF;
	ELSIF r < 0.58 THEN
		domain := bench.pick('{icloud.com,me.com}');
		IF random() < 0.3 THEN
			local := local || '+apple';
		END IF;
	ELSIF r < 0.60 THEN
		domain := bench.pick('{yandex.ru,yandex.com,ya.ru,yandex.ua}');
	ELSIF r < 0.67 THEN
		-- internationalised domains, and now and then a non-ASCII local part
		domain := bench.pick('{bücher.example,müller.de,straße.de,café.fr,例え.テスト,δοκιμή.gr,пример.рф,xn--bcher-kva.example}');
		IF random() < 0.3 THEN
			local := bench.pick('{josé,zoë,åsa,müller,françois,søren}') || '.' || last;
		END IF;
	ELSIF r < 0.97 THEN
		domain := bench.pick('{acme.com,example.org,corp.co.uk,firma.de,startup.io,uni.edu,mail.shop.example,société.example}');
	ELSE
		-- invalid in one of the usual ways
		RETURN bench.mess(bench.pick(ARRAY[
			local || '.example.com', local || '@@example.com', local || '@',
			'@example.com', '.' || local || '@example.com', local || '..x@example.com',
			local || '@localhost', local || ' x@example.com', local || '@exa_mple.com',
			local || '@example..com', local || '@192.168.0.1']));
	END IF;
	RETURN bench.mess(local || '@' || domain);
END $$;

-- A national significant number for a region: mobile and fixed-line shapes
-- that are valid in the numbering plan most of the time.
CREATE FUNCTION bench.nsn(region text) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	mobile boolean := random() < 0.6;
BEGIN
	RETURN CASE region
		WHEN 'GB' THEN CASE WHEN mobile THEN '7' || bench.pick('{4,5,7,8,9}') || bench.digits(8)
							ELSE '20' || bench.pick('{7,8}') || bench.digits(7) END
		WHEN 'US' THEN bench.pick('{212,415,312,617,202,305,713,206,303,404,646,917}')
							|| (2 + floor(random() * 8)::int) || bench.digits(6)
		WHEN 'DE' THEN CASE WHEN mobile THEN '1' || bench.pick('{51,52,60,62,70,71,72,75,76,77,78,79}') || bench.digits(7)
							ELSE '30' || bench.digits(8) END
		WHEN 'FR' THEN CASE WHEN mobile THEN bench.pick('{6,7}') || bench.digits(8)
							ELSE bench.pick('{1,2,3,4,5}') || bench.digits(8) END
		WHEN 'IN' THEN bench.pick('{9,8,7,6}') || bench.digits(9)
		WHEN 'BR' THEN bench.pick('{11,21,31,41,51}') || CASE WHEN mobile THEN '9' || bench.digits(8)
							ELSE bench.pick('{2,3}') || bench.digits(7) END
		WHEN 'JP' THEN CASE WHEN mobile THEN bench.pick('{70,80,90}') || bench.digits(8)
							ELSE '3' || bench.digits(8) END
		WHEN 'AU' THEN CASE WHEN mobile THEN '4' || bench.digits(8)
							ELSE bench.pick('{2,3,7,8}') || bench.digits(8) END
		WHEN 'ES' THEN CASE WHEN mobile THEN '6' || bench.digits(8)
							ELSE '91' || bench.digits(7) END
		WHEN 'IT' THEN CASE WHEN mobile THEN '3' || bench.pick('{20,28,33,35,39,47,49}') || bench.digits(7)
							ELSE '06' || bench.digits(8) END
		WHEN 'NL' THEN CASE WHEN mobile THEN '6' || bench.digits(8)
							ELSE '20' || bench.digits(7) END
		WHEN 'CH' THEN CASE WHEN mobile THEN '7' || bench.pick('{6,7,8,9}') || bench.digits(7)
							ELSE '44' || bench.digits(7) END
	END;
END $$;

CREATE TABLE bench.regions (region text PRIMARY KEY, cc text, trunk text, idd text);
INSERT INTO bench.regions VALUES
	('GB', '44', '0', '00'), ('US', '1', '', '011'), ('DE', '49', '0', '00'),
	('FR', '33', '0', '00'), ('IN', '91', '0', '00'), ('BR', '55', '0', '00'),
	('JP', '81', '0', '010'), ('AU', '61', '0', '0011'), ('ES', '34', '', '00'),
	('IT', '39', '', '00'), ('NL', '31', '0', '00'), ('CH', '41', '0', '00');

-- Groups digits as people write them: 3-3-rest, 4-rest, 2-2-2-...
CREATE FUNCTION bench.grouped(d text, sep text) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	r float8 := random();
BEGIN
	IF r < 0.4 THEN
		RETURN regexp_replace(d, '^(\d{3})(\d{3})(\d+)$', '\1' || sep || '\2' || sep || '\3');
	ELSIF r < 0.7 THEN
		RETURN regexp_replace(d, '^(\d{4})(\d+)$', '\1' || sep || '\2');
	ELSE
		RETURN btrim(regexp_replace(d, '(\d\d)', '\1' || sep, 'g'), sep);
	END IF;
END $$;

-- seq is unused: it makes each row a new call rather than a rescan.
CREATE FUNCTION bench.messy_phone(seq int, OUT x text, OUT region text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	home bench.regions;			-- the customer's region
	num bench.regions;			-- the number's country (usually the same)
	nsn text;
	sep text := bench.pick(ARRAY[' ', ' ', '-', '', '.']);
	r float8;
BEGIN
	SELECT * INTO home FROM bench.regions ORDER BY region OFFSET floor(random() * 12)::int LIMIT 1;
	num := home;
	IF random() < 0.1 THEN		-- a foreign number, written internationally
		SELECT * INTO num FROM bench.regions ORDER BY region OFFSET floor(random() * 12)::int LIMIT 1;
	END IF;
	nsn := bench.nsn(num.region);
	region := home.region;

	r := random();
	IF r < 0.03 THEN			-- invalid: too short, too long, words
		x := bench.pick(ARRAY[left(nsn, 4), nsn || bench.digits(5), 'call me', '+' || num.cc, '0']);
		RETURN;
	END IF;
	r := random();
	IF num.region = home.region AND r < 0.45 THEN
		-- national format
		r := random();
		IF r < 0.3 THEN
			x := num.trunk || nsn;
		ELSIF r < 0.8 OR num.trunk = '' THEN
			x := num.trunk || bench.grouped(nsn, sep);
		ELSE
			x := '(' || num.trunk || left(nsn, 3) || ') ' || bench.grouped(substr(nsn, 4), sep);
		END IF;
	ELSIF r < 0.85 THEN
		x := '+' || num.cc || ' ' || bench.grouped(nsn, sep);
	ELSIF r < 0.90 THEN
		x := '+' || num.cc || nsn;
	ELSIF r < 0.95 AND num.trunk <> '' THEN
		x := '+' || num.cc || ' (' || num.trunk || ') ' || bench.grouped(nsn, sep);
	ELSE
		x := home.idd || ' ' || num.cc || ' ' || bench.grouped(nsn, sep);
	END IF;
	IF random() < 0.2 THEN
		x := ' ' || x || ' ';
	END IF;
END $$;

SELECT setseed(0.20241128);
CREATE TABLE bench.raw_emails (id int PRIMARY KEY, x text NOT NULL);
INSERT INTO bench.raw_emails SELECT i, bench.messy_email() FROM generate_series(1, :raw_rows) i;
SELECT setseed(0.4242);
CREATE TABLE bench.raw_phones (id int PRIMARY KEY, x text NOT NULL, region text NOT NULL);
INSERT INTO bench.raw_phones SELECT i, p.x, p.region
	FROM generate_series(1, :raw_rows) i, LATERAL bench.messy_phone(i) p;
