/*
 * cdp.c
 *	  Module initialisation of the cdp extension: the GUCs under the reserved
 *	  "cdp." prefix and helpers shared by every concept folder.
 */
#include "cdp.h"
#include "citus/citus.h"

#include "identifier/phone_core.h"
#include "mb/pg_wchar.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

char	   *cdp_default_region = NULL;

void		_PG_init(void);

static bool
check_default_region(char **newval, void **extra, GucSource source)
{
	char		code[3];

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	if (!cdp_phone_region_code(*newval, code) || !cdp_phonelib_region_known(code))
	{
		GUC_check_errdetail("\"%s\" is not an ISO 3166 alpha-2 region that libphonenumber knows.",
							*newval);
		return false;
	}
	return true;
}

void
_PG_init(void)
{
	DefineCustomStringVariable("cdp.default_region",
							   "Default ISO 3166 alpha-2 region for phone numbers written without \"+\".",
							   "Empty means national-format numbers need an explicit region.",
							   &cdp_default_region,
							   "",
							   PGC_USERSET,
							   0,
							   check_default_region, NULL, NULL);
	DefineCustomStringVariable("cdp.citus_origin_txid",
							   "On a Citus worker: the coordinator transaction a write of cdp's belongs to.",
							   "Set by cdp's functions on the coordinator, sent to the workers by Citus.",
							   &cdp_citus_origin_txid_guc,
							   "",
							   PGC_USERSET,
							   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
							   NULL, NULL, NULL);
	DefineCustomBoolVariable("cdp.citus_moving",
							 "On a Citus worker: the rows written are moved from one contact to another by a merge.",
							 "Set by cdp's merge and unmerge on the coordinator, sent to the workers by Citus.",
							 &cdp_citus_moving,
							 false,
							 PGC_USERSET,
							 GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("cdp.citus_recorded",
							 "On a Citus worker: the rows written have their changes recorded by the coordinator.",
							 "Set by resolve_all on the coordinator, sent to the workers by Citus.",
							 &cdp_citus_recorded,
							 false,
							 PGC_USERSET,
							 GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
							 NULL, NULL, NULL);
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("cdp");
#else
	EmitWarningsOnPlaceholders("cdp");
#endif
}

const char *
cdp_region_or_default(const char *region)
{
	if (region != NULL)
		return region;
	if (cdp_default_region != NULL && cdp_default_region[0] != '\0')
		return cdp_default_region;
	return NULL;
}

void
cdp_report_invalid(int sqlstate, const char *what, const char *value,
				   size_t len, const char *detail)
{
	int			clip = pg_mbcliplen(value, (int) len, 200);

	ereport(ERROR,
			(errcode(sqlstate),
			 errmsg("invalid %s: \"%.*s%s\"", what, clip, value,
					(size_t) clip < len ? "..." : ""),
			 errdetail("%s", detail)));
}

int
cdp_pin_search_path(void)
{
	int			level = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return level;
}

void
cdp_restore_search_path(int level)
{
	AtEOXact_GUC(true, level);
}

void
cdp_disable_jit(void)
{
	(void) set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}
