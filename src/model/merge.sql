-- merge.sql
--   How merges, unmerges and forgetting reach the model data (profiles, tags,
--   terms, memberships, documents, events).  Identity resolution calls these
--   three functions; each model table adds its part here.

-- Move everything the absorbed contact owns to the survivor and return what
-- unmerge needs to put it back (stored in cdp.merges.snapshot -> 'model').
CREATE FUNCTION cdp_internal.model_merge(survivor bigint, absorbed bigint)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- No model tables exist yet; each one added moves its rows here.
    RETURN '{}'::jsonb;
END
$$;

-- Put back what model_merge moved from absorbed to survivor.
CREATE FUNCTION cdp_internal.model_unmerge(survivor bigint, absorbed bigint, snapshot jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN;
END
$$;

-- Erase everything the model holds about a contact.
CREATE FUNCTION cdp_internal.model_forget(contact bigint)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN;
END
$$;
