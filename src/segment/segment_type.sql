-- segment_type.sql
--   The cdp.segment type: a parsed, syntax-checked segment definition (DESIGN §7),
--   stored as a compact binary tree and printed in canonical form.

CREATE TYPE cdp.segment;

CREATE FUNCTION cdp.segment_in(cstring) RETURNS cdp.segment
    AS 'MODULE_PATHNAME', 'cdp_segment_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cdp.segment_out(cdp.segment) RETURNS cstring
    AS 'MODULE_PATHNAME', 'cdp_segment_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cdp.segment_recv(internal) RETURNS cdp.segment
    AS 'MODULE_PATHNAME', 'cdp_segment_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cdp.segment_send(cdp.segment) RETURNS bytea
    AS 'MODULE_PATHNAME', 'cdp_segment_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE cdp.segment (
    INPUT = cdp.segment_in,
    OUTPUT = cdp.segment_out,
    RECEIVE = cdp.segment_recv,
    SEND = cdp.segment_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4,
    STORAGE = extended,
    CATEGORY = 'U'
);

COMMENT ON TYPE cdp.segment IS
    'A segment definition: a boolean expression over contacts, syntax-checked on input and printed in canonical form';
COMMENT ON FUNCTION cdp.segment_in(cstring) IS
    'Parse segment text (42601 syntax error with the character position, 54000/54001 limits)';
COMMENT ON FUNCTION cdp.segment_out(cdp.segment) IS
    'The canonical text of a segment';
COMMENT ON FUNCTION cdp.segment_recv(internal) IS
    'Read and check the binary form of a segment (22P03 if invalid)';
COMMENT ON FUNCTION cdp.segment_send(cdp.segment) IS
    'The binary form of a segment: a version byte and the encoded tree';
