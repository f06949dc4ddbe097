/*
 * cdp.h
 *	  Shared declarations of the cdp extension: GUCs and error helpers used
 *	  by every concept folder.
 */
#ifndef CDP_H
#define CDP_H

#include "postgres.h"
#include "fmgr.h"

/* GUC cdp.default_region: ISO 3166 alpha-2 code or "" */
extern char *cdp_default_region;

/* The default region as a C string, or NULL when it is not set. */
extern const char *cdp_region_or_default(const char *region);

/*
 * Raise sqlstate with message "invalid <what>: \"<value>\"" and the reason
 * in errdetail.  The value is clipped so a huge input cannot flood the log.
 */
extern void cdp_report_invalid(int sqlstate, const char *what,
							   const char *value, size_t len,
							   const char *detail) pg_attribute_noreturn();

/*
 * Runs what follows with search_path = pg_catalog, pg_temp, as a SET clause
 * of the function would, so that no object of the caller's schemas is
 * called by cdp's own statements; cdp_restore_search_path(level) ends it (an
 * error ends it with the transaction or subtransaction).
 */
extern int	cdp_pin_search_path(void);
extern void cdp_restore_search_path(int level);

/*
 * Turns JIT compilation off until the GUC nest level the caller opened (e.g.
 * with cdp_pin_search_path) ends.  Compiled segment SQL is many small
 * expressions: compiling them costs seconds, more than running them.
 */
extern void cdp_disable_jit(void);

#endif
