/*
 * changes.h
 *	  The change capture's interface to bulk writers, which record what they
 *	  insert in one statement instead of one trigger call per row.
 */
#ifndef CDP_CHANGES_H
#define CDP_CHANGES_H

#include "postgres.h"

/* While true, the capture trigger records nothing (the caller does). */
extern bool cdp_capture_suppressed;

/*
 * Records the rows just inserted (ids, a bigint[]) into cdp.contacts
 * ("contacts") or cdp.identifiers ("identifiers") as the capture trigger
 * would, in one statement; notes them for the immediate segment pass and
 * sends NOTIFY cdp_changes.  The caller is connected to SPI.
 */
extern void cdp_capture_inserted(const char *table, Datum ids);

#endif
