-- identifier.sql
--   Identifier normalisation functions (C in identifier_fmgr.c).

CREATE FUNCTION cdp.normalize_email(value text) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_normalize_email'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cdp.normalize_email(text) IS
    'Matching key of an email address: trimmed, NFC, lower case, IDNA A-label domain, provider rules applied';

-- Not STRICT: region may be NULL, then cdp.default_region applies; STABLE
-- because of that setting.
CREATE FUNCTION cdp.normalize_phone(value text, region text DEFAULT NULL) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_normalize_phone'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION cdp.normalize_phone(text, text) IS
    'E.164 form of a valid phone number (libphonenumber); region is the ISO 3166 default region';

CREATE FUNCTION cdp_internal.normalize_value(normalizer text, value text, region text) RETURNS text
    AS 'MODULE_PATHNAME', 'cdp_normalize_value'
    LANGUAGE C STABLE PARALLEL SAFE;

CREATE FUNCTION cdp_internal.is_valid_value(normalizer text, value text, region text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'cdp_is_valid_value'
    LANGUAGE C STABLE PARALLEL SAFE;

CREATE FUNCTION cdp.normalize_identifier(kind text, value text, region text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    kind_normalizer text;
BEGIN
    IF kind IS NULL OR value IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT k.normalizer INTO kind_normalizer
      FROM cdp.identifier_kinds k WHERE k.kind = normalize_identifier.kind;
    IF kind_normalizer IS NULL THEN
        RAISE EXCEPTION 'unknown identifier kind: "%"', kind
            USING ERRCODE = 'undefined_object',
                  HINT = 'Identifier kinds are the rows of cdp.identifier_kinds.';
    END IF;
    RETURN cdp_internal.normalize_value(kind_normalizer, value, region);
END
$$;
COMMENT ON FUNCTION cdp.normalize_identifier(text, text, text) IS
    'Normalise a value with the normaliser of its identifier kind';

CREATE FUNCTION cdp.is_valid_identifier(kind text, value text, region text DEFAULT NULL)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(
        (SELECT cdp_internal.is_valid_value(k.normalizer, value, region)
           FROM cdp.identifier_kinds k WHERE k.kind = is_valid_identifier.kind),
        false)
$$;
COMMENT ON FUNCTION cdp.is_valid_identifier(text, text, text) IS
    'Whether the value normalises for its kind; false instead of an error, also for unknown kinds';

CREATE FUNCTION cdp.email_info(value text,
    OUT local text, OUT domain text, OUT unicode_domain text,
    OUT provider text, OUT role_account boolean, OUT normalized text)
    AS 'MODULE_PATHNAME', 'cdp_email_info'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cdp.email_info(text) IS
    'Parts of an email address: lower-cased local part, A-label and Unicode domain, provider, role account, matching key';

CREATE FUNCTION cdp.phone_info(value text, region text DEFAULT NULL,
    OUT e164 text, OUT country_code integer, OUT region_code text,
    OUT number_type text, OUT national_format text, OUT international_format text, OUT valid boolean)
    AS 'MODULE_PATHNAME', 'cdp_phone_info'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION cdp.phone_info(text, text) IS
    'Parts of a phone number from libphonenumber: E.164, country code, region, number type, formats, validity';
