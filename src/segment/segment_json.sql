-- segment_json.sql
--   The JSON form of cdp.segment, the CXF filter tree (C in segment_json.c).

CREATE FUNCTION cdp.segment_to_jsonb(segment cdp.segment) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'cdp_segment_to_jsonb'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cdp.segment_to_jsonb(cdp.segment) IS
    'The segment as a CXF filter tree: {"type":"group","operator":"and","items":[...]}, {"type":"attribute","slug":"customer.tier","operator":"==","value":"gold"}, ...';

CREATE FUNCTION cdp.jsonb_to_segment(tree jsonb) RETURNS cdp.segment
    AS 'MODULE_PATHNAME', 'cdp_jsonb_to_segment'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION cdp.jsonb_to_segment(jsonb) IS
    'The segment of a CXF filter tree; a bad tree is refused with the JSON path of the bad node';
