/*
 * types_fmgr.c
 *	  The cdp.email, cdp.email_address and cdp.phone types: text-like values
 *	  whose input normalises and validates, compared byte-wise so that btree
 *	  and hash indexes agree with equality whatever the collation.
 */
#include "cdp.h"
#include "identifier/normalize.h"

#include "common/hashfn.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(cdp_email_in);
PG_FUNCTION_INFO_V1(cdp_email_recv);
PG_FUNCTION_INFO_V1(cdp_email_from_text);
PG_FUNCTION_INFO_V1(cdp_email_address_in);
PG_FUNCTION_INFO_V1(cdp_email_address_recv);
PG_FUNCTION_INFO_V1(cdp_email_address_from_text);
PG_FUNCTION_INFO_V1(cdp_phone_in);
PG_FUNCTION_INFO_V1(cdp_phone_recv);
PG_FUNCTION_INFO_V1(cdp_phone_from_text);
PG_FUNCTION_INFO_V1(cdp_normtext_out);
PG_FUNCTION_INFO_V1(cdp_normtext_send);
PG_FUNCTION_INFO_V1(cdp_normtext_cmp);
PG_FUNCTION_INFO_V1(cdp_normtext_eq);
PG_FUNCTION_INFO_V1(cdp_normtext_ne);
PG_FUNCTION_INFO_V1(cdp_normtext_lt);
PG_FUNCTION_INFO_V1(cdp_normtext_le);
PG_FUNCTION_INFO_V1(cdp_normtext_gt);
PG_FUNCTION_INFO_V1(cdp_normtext_ge);
PG_FUNCTION_INFO_V1(cdp_normtext_hash);
PG_FUNCTION_INFO_V1(cdp_normtext_hash_extended);

/* Type input: "email address" values raise 22P02 like every type input. */
static Datum
normalize_input(cdp_normalizer norm, const char *s, int len)
{
	return PointerGetDatum(cdp_normalize(norm, s, len, NULL,
										 ERRCODE_INVALID_TEXT_REPRESENTATION));
}

Datum
cdp_email_in(PG_FUNCTION_ARGS)
{
	char	   *s = PG_GETARG_CSTRING(0);

	return normalize_input(CDP_NORM_EMAIL, s, strlen(s));
}

Datum
cdp_email_address_in(PG_FUNCTION_ARGS)
{
	char	   *s = PG_GETARG_CSTRING(0);

	return normalize_input(CDP_NORM_EMAIL_ADDRESS, s, strlen(s));
}

Datum
cdp_phone_in(PG_FUNCTION_ARGS)
{
	char	   *s = PG_GETARG_CSTRING(0);

	return normalize_input(CDP_NORM_PHONE, s, strlen(s));
}

/* Binary input is validated like text input: a client cannot bypass it. */
static Datum
normalize_recv(cdp_normalizer norm, FunctionCallInfo fcinfo)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			nbytes;
	char	   *s = pq_getmsgtext(buf, buf->len - buf->cursor, &nbytes);

	return normalize_input(norm, s, nbytes);
}

Datum
cdp_email_recv(PG_FUNCTION_ARGS)
{
	return normalize_recv(CDP_NORM_EMAIL, fcinfo);
}

Datum
cdp_email_address_recv(PG_FUNCTION_ARGS)
{
	return normalize_recv(CDP_NORM_EMAIL_ADDRESS, fcinfo);
}

Datum
cdp_phone_recv(PG_FUNCTION_ARGS)
{
	return normalize_recv(CDP_NORM_PHONE, fcinfo);
}

/* Casts from text raise 22P02 too: they are type input by another road. */
Datum
cdp_email_from_text(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);

	return normalize_input(CDP_NORM_EMAIL, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

Datum
cdp_email_address_from_text(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);

	return normalize_input(CDP_NORM_EMAIL_ADDRESS, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

Datum
cdp_phone_from_text(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);

	return normalize_input(CDP_NORM_PHONE, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

Datum
cdp_normtext_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(TextDatumGetCString(PG_GETARG_DATUM(0)));
}

Datum
cdp_normtext_send(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendtext(&buf, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

static int
compare_bytes(FunctionCallInfo fcinfo)
{
	text	   *a = PG_GETARG_TEXT_PP(0);
	text	   *b = PG_GETARG_TEXT_PP(1);
	int			alen = VARSIZE_ANY_EXHDR(a);
	int			blen = VARSIZE_ANY_EXHDR(b);
	int			cmp = memcmp(VARDATA_ANY(a), VARDATA_ANY(b), Min(alen, blen));

	if (cmp == 0 && alen != blen)
		cmp = alen < blen ? -1 : 1;
	PG_FREE_IF_COPY(a, 0);
	PG_FREE_IF_COPY(b, 1);
	return cmp;
}

Datum
cdp_normtext_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(compare_bytes(fcinfo));
}

Datum
cdp_normtext_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(compare_bytes(fcinfo) == 0);
}

Datum
cdp_normtext_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(compare_bytes(fcinfo) != 0);
}

Datum
cdp_normtext_lt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(compare_bytes(fcinfo) < 0);
}

Datum
cdp_normtext_le(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(compare_bytes(fcinfo) <= 0);
}

Datum
cdp_normtext_gt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(compare_bytes(fcinfo) > 0);
}

Datum
cdp_normtext_ge(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(compare_bytes(fcinfo) >= 0);
}

Datum
cdp_normtext_hash(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	Datum		h = hash_any((const unsigned char *) VARDATA_ANY(t),
							 VARSIZE_ANY_EXHDR(t));

	PG_FREE_IF_COPY(t, 0);
	return h;
}

Datum
cdp_normtext_hash_extended(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	Datum		h = hash_any_extended((const unsigned char *) VARDATA_ANY(t),
									  VARSIZE_ANY_EXHDR(t),
									  PG_GETARG_INT64(1));

	PG_FREE_IF_COPY(t, 0);
	return h;
}
