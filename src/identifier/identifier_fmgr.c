/*
 * identifier_fmgr.c
 *	  SQL-callable normalisation functions: normalize_email, normalize_phone,
 *	  the per-normaliser dispatch, validity tests, email_info and phone_info.
 */
#include "cdp.h"
#include "identifier/normalize.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "identifier/email_core.h"
#include "identifier/phone_core.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(cdp_normalize_email);
PG_FUNCTION_INFO_V1(cdp_normalize_phone);
PG_FUNCTION_INFO_V1(cdp_normalize_value);
PG_FUNCTION_INFO_V1(cdp_is_valid_value);
PG_FUNCTION_INFO_V1(cdp_email_info);
PG_FUNCTION_INFO_V1(cdp_phone_info);

static const char *
optional_cstring(FunctionCallInfo fcinfo, int argno)
{
	return PG_ARGISNULL(argno) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

static cdp_normalizer
normalizer_arg(FunctionCallInfo fcinfo, int argno)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	cdp_normalizer norm;

	if (!cdp_normalizer_from_name(name, &norm))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown normalizer: \"%s\"", name),
				 errhint("Normalizers are email, phone, uuid, oauth, text and anonymous.")));
	return norm;
}

/* normalize_email(text) -> text */
Datum
cdp_normalize_email(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);

	PG_RETURN_TEXT_P(cdp_normalize(CDP_NORM_EMAIL, VARDATA_ANY(value),
								   VARSIZE_ANY_EXHDR(value), NULL,
								   ERRCODE_INVALID_PARAMETER_VALUE));
}

/* normalize_phone(text, region text) -> text; not strict in region */
Datum
cdp_normalize_phone(PG_FUNCTION_ARGS)
{
	text	   *value;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	value = PG_GETARG_TEXT_PP(0);
	PG_RETURN_TEXT_P(cdp_normalize(CDP_NORM_PHONE, VARDATA_ANY(value),
								   VARSIZE_ANY_EXHDR(value),
								   optional_cstring(fcinfo, 1),
								   ERRCODE_INVALID_PARAMETER_VALUE));
}

/* cdp_internal.normalize_value(normalizer, value, region) -> text */
Datum
cdp_normalize_value(PG_FUNCTION_ARGS)
{
	cdp_normalizer norm;
	text	   *value;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	norm = normalizer_arg(fcinfo, 0);
	value = PG_GETARG_TEXT_PP(1);
	PG_RETURN_TEXT_P(cdp_normalize(norm, VARDATA_ANY(value),
								   VARSIZE_ANY_EXHDR(value),
								   optional_cstring(fcinfo, 2),
								   ERRCODE_INVALID_PARAMETER_VALUE));
}

/* cdp_internal.is_valid_value(normalizer, value, region) -> boolean, never raises for input */
Datum
cdp_is_valid_value(PG_FUNCTION_ARGS)
{
	cdp_normalizer norm;
	cdp_norm_error err;
	text	   *value;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_BOOL(false);
	if (!cdp_normalizer_from_name(text_to_cstring(PG_GETARG_TEXT_PP(0)), &norm))
		PG_RETURN_BOOL(false);
	value = PG_GETARG_TEXT_PP(1);
	PG_RETURN_BOOL(cdp_try_normalize(norm, VARDATA_ANY(value),
									 VARSIZE_ANY_EXHDR(value),
									 optional_cstring(fcinfo, 2), &err) != NULL);
}

static text *
utf8_text(const char *s)
{
	char	   *server = pg_any_to_server(s, strlen(s), PG_UTF8);

	return cstring_to_text(server);
}

/* email_info(text) -> (local, domain, unicode_domain, provider, role_account, normalized) */
Datum
cdp_email_info(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(value);
	int			len = VARSIZE_ANY_EXHDR(value);
	const char *utf8 = pg_server_to_any(s, len, PG_UTF8);
	cdp_email_parts parts;
	char		key[CDP_EMAIL_LOCAL_MAX + CDP_EMAIL_DOMAIN_MAX + 2];
	char	   *unicode_domain;
	const char *provider;
	TupleDesc	tupdesc;
	Datum		values[6];
	bool		nulls[6] = {false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "email_info must return a composite type");
	if (!cdp_email_parse(utf8, utf8 == s ? len : strlen(utf8), &parts))
		cdp_report_invalid(ERRCODE_INVALID_PARAMETER_VALUE, "email address",
						   s, len, parts.detail);

	cdp_email_format_key(&parts, key);
	values[0] = PointerGetDatum(utf8_text(parts.local));
	values[1] = PointerGetDatum(utf8_text(parts.domain));
	unicode_domain = cdp_email_unicode_domain(parts.domain);
	if (unicode_domain != NULL)
	{
		values[2] = PointerGetDatum(utf8_text(unicode_domain));
		free(unicode_domain);
	}
	else
		nulls[2] = true;
	provider = cdp_email_provider_name(parts.provider);
	if (provider != NULL)
		values[3] = PointerGetDatum(cstring_to_text(provider));
	else
		nulls[3] = true;
	values[4] = BoolGetDatum(cdp_email_is_role_account(parts.local));
	values[5] = PointerGetDatum(utf8_text(key));

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}

/*
 * phone_info(text, region) -> (e164, country_code, region, number_type,
 * national, international, valid).  A number that parses but is not valid
 * is described with valid = false rather than refused.
 */
Datum
cdp_phone_info(PG_FUNCTION_ARGS)
{
	text	   *value;
	const char *s;
	int			len;
	const char *utf8;
	const char *region;
	cdp_phone_number number;
	cdp_phone_status status;
	char		detail[CDP_PHONE_DETAIL_MAX];
	TupleDesc	tupdesc;
	Datum		values[7];
	bool		nulls[7] = {false};

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	value = PG_GETARG_TEXT_PP(0);
	s = VARDATA_ANY(value);
	len = VARSIZE_ANY_EXHDR(value);
	utf8 = pg_server_to_any(s, len, PG_UTF8);
	region = cdp_region_or_default(optional_cstring(fcinfo, 1));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "phone_info must return a composite type");

	status = cdp_phone_parse(utf8, utf8 == s ? len : strlen(utf8), region,
							 true, &number, detail);
	if (status == CDP_PHONE_BAD_REGION)
		cdp_report_invalid(ERRCODE_INVALID_PARAMETER_VALUE, "region code",
						   region, strlen(region), detail);
	if (status != CDP_PHONE_OK)
		cdp_report_invalid(ERRCODE_INVALID_PARAMETER_VALUE, "phone number",
						   s, len, detail);

	values[0] = PointerGetDatum(cstring_to_text(number.e164));
	values[1] = Int32GetDatum(number.country_code);
	values[2] = PointerGetDatum(cstring_to_text(number.region));
	values[3] = PointerGetDatum(cstring_to_text(number.number_type));
	values[4] = PointerGetDatum(utf8_text(number.national));
	values[5] = PointerGetDatum(utf8_text(number.international));
	values[6] = BoolGetDatum(number.valid);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}
