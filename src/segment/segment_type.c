/*
 * segment_type.c
 *	  The cdp.segment type: text and binary I/O over the PostgreSQL-free core,
 *	  and the calls the compiler and explain use to get trees, datums and text.
 */
#include "segment/segment_type.h"

#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(cdp_segment_in);
PG_FUNCTION_INFO_V1(cdp_segment_out);
PG_FUNCTION_INFO_V1(cdp_segment_recv);
PG_FUNCTION_INFO_V1(cdp_segment_send);

/* The first byte of every stored value and binary message: the format. */
#define SEGMENT_VERSION 1

static void *
arena_alloc(void *ctx, size_t size)
{
	return palloc0(size);
}

SegArena *
cdp_segment_arena(void)
{
	SegArena   *arena = palloc(sizeof(SegArena));

	arena->alloc = arena_alloc;
	arena->ctx = NULL;
	return arena;
}

/*
 * Raise a parse error.  The core counts bytes; the message counts
 * characters from 1, as PostgreSQL's own syntax errors do.
 */
static void
report_parse_error(const char *text, size_t len, const SegError *err)
{
	switch (err->code)
	{
		case SEG_ERR_SYNTAX:
			{
				size_t		pos = Min(err->position, len);
				int			chars = pg_mbstrlen_with_len(text, (int) pos) + 1;

				ereport(ERROR,
						(errcode(ERRCODE_SYNTAX_ERROR),
						 errmsg("syntax error in segment at character %d: %s",
								chars, err->message)));
			}
			break;
		case SEG_ERR_TOO_LONG:
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("%s", err->message),
					 err->detail[0] ? errdetail("%s", err->detail) : 0));
			break;
		case SEG_ERR_TOO_DEEP:
			ereport(ERROR,
					(errcode(ERRCODE_STATEMENT_TOO_COMPLEX),
					 errmsg("%s", err->message),
					 err->detail[0] ? errdetail("%s", err->detail) : 0));
			break;
		case SEG_ERR_NO_MEMORY:
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory")));
			break;
		default:
			elog(ERROR, "unexpected segment parser result %d", (int) err->code);
	}
}

SegNode *
cdp_segment_parse(const char *text, size_t len)
{
	SegError	err;
	SegNode    *tree;

	if (len > SEG_MAX_TEXT)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("segment is too long"),
				 errdetail("The limit is %d bytes.", SEG_MAX_TEXT)));
	tree = seg_parse(text, len, cdp_segment_arena(), &err);
	if (tree == NULL)
		report_parse_error(text, len, &err);
	return tree;
}

static bytea *
make_varlena(const SegNode *tree)
{
	size_t		len;
	uint8_t    *bytes = seg_encode(tree, cdp_segment_arena(), &len);
	bytea	   *result;

	if (bytes == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	result = palloc(VARHDRSZ + 1 + len);
	SET_VARSIZE(result, VARHDRSZ + 1 + len);
	((uint8_t *) VARDATA(result))[0] = SEGMENT_VERSION;
	memcpy(VARDATA(result) + 1, bytes, len);
	return result;
}

/*
 * Stored values are always canonical: the tree is printed and parsed again,
 * so a tree built elsewhere (from JSON) is stored exactly as the same text
 * typed in would be, and one that no text could produce is refused here.
 */
Datum
cdp_segment_datum(const SegNode *tree)
{
	char	   *text = cdp_segment_text(tree);

	return PointerGetDatum(make_varlena(cdp_segment_parse(text, strlen(text))));
}

char *
cdp_segment_text(const SegNode *node)
{
	char	   *text = seg_print(node, cdp_segment_arena());

	if (text == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	return text;
}

static SegNode *
decode_or_error(const uint8_t *data, size_t len, int sqlstate, const char *what)
{
	SegError	err;
	SegNode    *tree;

	if (len < 1 || data[0] != SEGMENT_VERSION)
		ereport(ERROR,
				(errcode(sqlstate),
				 errmsg("%s", what),
				 len < 1 ? errdetail("The value is empty.")
				 : errdetail("Unknown format version %d.", data[0])));
	tree = seg_decode(data + 1, len - 1, cdp_segment_arena(), &err);
	if (tree == NULL)
	{
		if (err.code == SEG_ERR_NO_MEMORY)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
		ereport(ERROR,
				(errcode(sqlstate),
				 errmsg("%s", what),
				 errdetail("%c%s.", pg_toupper((unsigned char) err.message[0]),
						   err.message + 1)));
	}
	return tree;
}

SegNode *
cdp_segment_tree(Datum segment)
{
	bytea	   *v = DatumGetByteaPP(segment);

	return decode_or_error((const uint8_t *) VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v),
						   ERRCODE_DATA_CORRUPTED, "cdp.segment value is corrupt");
}

Datum
cdp_segment_in(PG_FUNCTION_ARGS)
{
	char	   *text = PG_GETARG_CSTRING(0);

	PG_RETURN_BYTEA_P(make_varlena(cdp_segment_parse(text, strlen(text))));
}

Datum
cdp_segment_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(cdp_segment_text(cdp_segment_tree(PG_GETARG_DATUM(0))));
}

/*
 * Binary input comes from any client: decode checks every byte, and the
 * tree must then print to text that is valid in the database encoding and
 * parses back, so a value received is one that text input could have made.
 */
Datum
cdp_segment_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	const uint8_t *data = (const uint8_t *) buf->data + buf->cursor;
	size_t		len = buf->len - buf->cursor;
	SegNode    *tree;
	char	   *text;
	SegError	err;

	tree = decode_or_error(data, len, ERRCODE_INVALID_BINARY_REPRESENTATION,
						   "invalid binary cdp.segment");
	buf->cursor = buf->len;
	text = cdp_segment_text(tree);
	if (!pg_verifymbstr(text, strlen(text), true))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary cdp.segment"),
				 errdetail("A name or literal is not valid in the database encoding.")));
	tree = seg_parse(text, strlen(text), cdp_segment_arena(), &err);
	if (tree == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary cdp.segment"),
				 errdetail("Its text does not parse: %s.", err.message)));
	PG_RETURN_BYTEA_P(make_varlena(tree));
}

Datum
cdp_segment_send(PG_FUNCTION_ARGS)
{
	bytea	   *v = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbytes(&buf, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}
