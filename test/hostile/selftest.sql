-- selftest.sql: three faulty functions planted in schema cdp by
-- HOSTILE_SELFTEST=1 test/t/hostile.sh, to show that its checks can fail.
-- An injectable dynamic statement, an internal error and a backend crash.
CREATE FUNCTION cdp.zz_injectable(slug text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r text;
BEGIN
    EXECUTE 'SELECT ''' || slug || '''' INTO r;     -- the mistake: not format(%L)
    RETURN r;
END $$;

CREATE FUNCTION cdp.zz_internal(slug text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    IF slug LIKE '%''%' THEN
        RAISE EXCEPTION 'cache lookup failed for %', slug USING ERRCODE = 'XX000';
    END IF;
    RETURN slug;
END $$;

CREATE FUNCTION cdp.zz_crash(slug text) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
    IF slug = '$$' THEN
        COPY (SELECT 1) TO PROGRAM 'kill -SEGV $PPID';
    END IF;
    RETURN slug;
END $f$;
