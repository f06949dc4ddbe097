/*
 * citus.h
 *	  cdp on a Citus cluster (cdp.distribute): which node this is, and the
 *	  coordinator's share of every write, so that triggers on workers' shards
 *	  only ever write co-located shards.
 */
#ifndef CDP_CITUS_H
#define CDP_CITUS_H

#include "postgres.h"

/* GUC cdp.citus_origin_txid: the coordinator's transaction, sent to workers */
extern char *cdp_citus_origin_txid_guc;

/* GUC cdp.citus_moving: a merge moves rows between contacts' shards */
extern bool cdp_citus_moving;

/* GUC cdp.citus_recorded: a bulk writer records these rows' changes itself */
extern bool cdp_citus_recorded;

/*
 * Tells the workers that the rows written next have their changes recorded
 * by the coordinator (on) or not (off); cdp_citus_moving likewise.
 */
extern void cdp_citus_set_recorded(bool on);

/* Whether cdp.contacts is a Citus table (cdp.distribute has run). */
extern bool cdp_citus_mode(void);

/* Whether this backend runs on a Citus worker of a distributed cdp. */
extern bool cdp_citus_on_worker(void);

/*
 * A write of a contact's data is about to reach the workers: on the
 * coordinator of a distributed cdp, send the workers this transaction's id
 * (the change feed orders by the coordinator's transactions), and queue the
 * commit-time work (the immediate segment pass, the NOTIFY) with the
 * contact as touched.  Nothing on one node or on a worker.
 */
extern void cdp_citus_note_write(int64 contact);

/* On a worker: whether the coordinator sent a cdp write's transaction id. */
extern bool cdp_citus_write_sent(void);

#endif
