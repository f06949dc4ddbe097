/*
 * phone_shim.cpp
 *	  Parses, validates and formats phone numbers with libphonenumber and
 *	  hands plain C results back; every exception is caught here.
 */
#include "phone_shim.h"

#include <cstdio>
#include <string>

#include <phonenumbers/logger.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

using i18n::phonenumbers::NullLogger;
using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

/*
 * The library's singleton, with its logger silenced: the reasons it would
 * print go into our error details instead of the server log.
 */
static const PhoneNumberUtil *
phone_util()
{
	static const PhoneNumberUtil *util = [] {
		PhoneNumberUtil *u = PhoneNumberUtil::GetInstance();

		u->SetLogger(new NullLogger());
		return u;
	}();

	return util;
}

static void
set_detail(char *detail, const char *text)
{
	std::snprintf(detail, CDP_PHONE_DETAIL_MAX, "%s", text);
}

static const char *
parse_error_text(PhoneNumberUtil::ErrorType err)
{
	switch (err)
	{
		case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
			return "The country calling code is missing or unknown.";
		case PhoneNumberUtil::NOT_A_NUMBER:
			return "The text does not look like a phone number.";
		case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
			return "The number is too short after the international prefix.";
		case PhoneNumberUtil::TOO_SHORT_NSN:
			return "The number is too short.";
		case PhoneNumberUtil::TOO_LONG_NSN:
			return "The number is too long.";
		default:
			return "libphonenumber could not parse the number.";
	}
}

static const char *
number_type_name(PhoneNumberUtil::PhoneNumberType type)
{
	switch (type)
	{
		case PhoneNumberUtil::FIXED_LINE:
			return "fixed_line";
		case PhoneNumberUtil::MOBILE:
			return "mobile";
		case PhoneNumberUtil::FIXED_LINE_OR_MOBILE:
			return "fixed_line_or_mobile";
		case PhoneNumberUtil::TOLL_FREE:
			return "toll_free";
		case PhoneNumberUtil::PREMIUM_RATE:
			return "premium_rate";
		case PhoneNumberUtil::SHARED_COST:
			return "shared_cost";
		case PhoneNumberUtil::VOIP:
			return "voip";
		case PhoneNumberUtil::PERSONAL_NUMBER:
			return "personal_number";
		case PhoneNumberUtil::PAGER:
			return "pager";
		case PhoneNumberUtil::UAN:
			return "uan";
		case PhoneNumberUtil::VOICEMAIL:
			return "voicemail";
		default:
			return "unknown";
	}
}

static void
copy_string(char *dst, size_t size, const std::string &src)
{
	std::snprintf(dst, size, "%s", src.c_str());
}

extern "C" cdp_phone_status
cdp_phonelib_parse(const char *text, const char *region, bool details,
				   cdp_phone_number *out, char *detail)
{
	try
	{
		const PhoneNumberUtil *util = phone_util();
		PhoneNumber number;
		std::string formatted;
		std::string number_region;
		PhoneNumberUtil::ErrorType err;

		if (region != NULL && util->GetCountryCodeForRegion(region) == 0)
		{
			set_detail(detail, "libphonenumber has no numbering plan for that region.");
			return CDP_PHONE_BAD_REGION;
		}
		err = util->Parse(text, region ? region : "ZZ", &number);
		if (err != PhoneNumberUtil::NO_PARSING_ERROR)
		{
			set_detail(detail, parse_error_text(err));
			return CDP_PHONE_BAD_NUMBER;
		}
		out->valid = util->IsValidNumber(number);
		out->country_code = number.country_code();
		util->Format(number, PhoneNumberUtil::E164, &formatted);
		copy_string(out->e164, sizeof(out->e164), formatted);
		out->region[0] = out->national[0] = out->international[0] = '\0';
		out->number_type = NULL;
		/* region and type cost as much as validation: only when asked or refused */
		if (details || !out->valid)
		{
			util->GetRegionCodeForNumber(number, &number_region);
			copy_string(out->region, sizeof(out->region), number_region);
			out->number_type = number_type_name(util->GetNumberType(number));
		}
		if (details)
		{
			util->Format(number, PhoneNumberUtil::NATIONAL, &formatted);
			copy_string(out->national, sizeof(out->national), formatted);
			util->Format(number, PhoneNumberUtil::INTERNATIONAL, &formatted);
			copy_string(out->international, sizeof(out->international), formatted);
		}
		return CDP_PHONE_OK;
	}
	catch (const std::exception &e)
	{
		std::snprintf(detail, CDP_PHONE_DETAIL_MAX, "libphonenumber failed: %s", e.what());
	}
	catch (...)
	{
		set_detail(detail, "libphonenumber failed with an unknown exception.");
	}
	return CDP_PHONE_LIBRARY_ERROR;
}

extern "C" bool
cdp_phonelib_region_known(const char *region)
{
	try
	{
		return phone_util()->GetCountryCodeForRegion(region) != 0;
	}
	catch (...)
	{
		return false;
	}
}
