/*
 * citus.c
 *	  cdp on a Citus cluster: whether cdp is distributed, which node this is,
 *	  and the coordinator's share of each write (see citus.h, distribute.sql).
 *
 * On Citus the triggers of a distributed table run on the worker that holds
 * the shard, and may write only co-located shards there.  The change capture
 * does exactly that (a contact's changes live with the contact), but two
 * things it does on one node need the coordinator: the change feed orders
 * changes by the transaction that made them, which on Citus is the
 * coordinator's (a worker's own transaction ids mean nothing elsewhere), and
 * the commit-time work (immediate segments, NOTIFY) must run where the whole
 * transaction is visible.  So every cdp write path tells the coordinator
 * first, through the one contact lock or resolve: the coordinator sends its
 * transaction id to the workers as a SET LOCAL that Citus propagates, and
 * queues its commit-time work on a local table's deferred trigger.
 */
#include "cdp.h"
#include "citus/citus.h"
#include "segment/segment_membership.h"

#include "access/transam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/async.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/xid8.h"

char	   *cdp_citus_origin_txid_guc = NULL;
bool		cdp_citus_moving = false;
bool		cdp_citus_recorded = false;

/* -1 unknown; checked again each transaction until it is true, then kept */
static int	distributed = -1;
static LocalTransactionId distributed_checked_in = InvalidLocalTransactionId;
static int	local_group = -1;

/* the subtransaction whose SET LOCAL the workers have (Citus forgets it when it ends) */
static SubTransactionId origin_sent_in = InvalidSubTransactionId;
static LocalTransactionId origin_sent_lxid = InvalidLocalTransactionId;
static bool callbacks_registered = false;

static int64
query_int8(const char *sql)
{
	int64		result = -1;
	bool		isnull;

	SPI_connect();
	if (SPI_execute(sql, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			result = DatumGetInt64(d);
	}
	SPI_finish();
	return result;
}

bool
cdp_citus_mode(void)
{
	if (distributed == 1)
		return true;
	if (distributed == 0 && distributed_checked_in == MyProc->lxid)
		return false;
	distributed_checked_in = MyProc->lxid;
	if (!OidIsValid(get_extension_oid("citus", true)))
		distributed = 0;
	else
		distributed = query_int8("SELECT count(*) FROM pg_catalog.pg_dist_partition"
								 " WHERE logicalrelid = 'cdp.contacts'::pg_catalog.regclass") > 0;
	return distributed == 1;
}

bool
cdp_citus_on_worker(void)
{
	if (!cdp_citus_mode())
		return false;
	if (local_group < 0)
		local_group = (int) query_int8("SELECT groupid::bigint FROM pg_catalog.pg_dist_local_group");
	return local_group != 0;
}

static void
origin_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						SubTransactionId parentSubid, void *arg)
{
	if ((event == SUBXACT_EVENT_COMMIT_SUB || event == SUBXACT_EVENT_ABORT_SUB) &&
		mySubid == origin_sent_in)
		origin_sent_in = InvalidSubTransactionId;
}

/*
 * SET LOCAL name = value through SPI, so that Citus's utility hook sends it
 * to the workers in the transaction now and to those it reaches later
 * (citus.propagate_set_commands = local, for this transaction only).  Citus
 * propagates a SET LOCAL only inside what it takes for a multi-statement
 * transaction: a DO block is one even in autocommit.
 */
static void
set_on_workers(const char *name, const char *value)
{
	(void) set_config_option("citus.propagate_set_commands", "local", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);
	SPI_connect();
	if (SPI_execute(psprintf("DO $cdp$BEGIN SET LOCAL %s = %s; END$cdp$", name, quote_literal_cstr(value)),
					false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not send %s to the workers", name);
	SPI_finish();
}

static void
send_origin(void)
{
	set_on_workers("cdp.citus_origin_txid",
				   psprintf(UINT64_FORMAT, U64FromFullTransactionId(GetTopFullTransactionId())));
	origin_sent_in = GetCurrentSubTransactionId();
	origin_sent_lxid = MyProc->lxid;
}

void
cdp_citus_note_write(int64 contact)
{
	if (!cdp_citus_mode() || cdp_citus_on_worker())
		return;
	if (!callbacks_registered)
	{
		RegisterSubXactCallback(origin_subxact_callback, NULL);
		callbacks_registered = true;
	}
	if (origin_sent_lxid != MyProc->lxid || origin_sent_in == InvalidSubTransactionId)
	{
		/* as cdp.distribute set for the database, in case a session changed it */
		(void) set_config_option("citus.multi_shard_modify_mode", "sequential", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_LOCAL, true, 0, false);
		send_origin();
	}
	Async_Notify("cdp_changes", "");
	cdp_segments_note_change(get_relname_relid("contacts", get_namespace_oid("cdp", false)),
							 false, contact);
}

bool
cdp_citus_write_sent(void)
{
	return cdp_citus_origin_txid_guc != NULL && cdp_citus_origin_txid_guc[0] != '\0';
}

PG_FUNCTION_INFO_V1(cdp_citus_origin_txid);

/*
 * cdp_internal.origin_txid(): cdp.changes.txid's default on a distributed
 * cdp.  On the coordinator its own transaction; on a worker the
 * coordinator's, which the cdp function that started the write sent.  A
 * write that reached a worker without it came from outside cdp's functions:
 * its changes could not be placed in the feed, so it is refused.
 */
Datum
cdp_citus_origin_txid(PG_FUNCTION_ARGS)
{
	if (!cdp_citus_on_worker())
		PG_RETURN_FULLTRANSACTIONID(GetTopFullTransactionId());
	if (!cdp_citus_write_sent())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot record a change of a distributed cdp table written outside cdp's functions"),
				 errdetail("On Citus, the change feed places a change by the coordinator's transaction, which cdp's functions send to the workers."),
				 errhint("Call SELECT cdp.begin_write() first in the transaction, or write through cdp's functions.")));
	PG_RETURN_FULLTRANSACTIONID(FullTransactionIdFromU64(strtou64(cdp_citus_origin_txid_guc, NULL, 10)));
}

PG_FUNCTION_INFO_V1(cdp_citus_begin_write);

/* cdp.begin_write(): what a cdp write function does first, for direct DML */
Datum
cdp_citus_begin_write(PG_FUNCTION_ARGS)
{
	cdp_citus_note_write(0);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(cdp_citus_mode_sql);

/* cdp_internal.citus_mode(): for the SQL that does things another way on Citus */
Datum
cdp_citus_mode_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(cdp_citus_mode());
}

PG_FUNCTION_INFO_V1(cdp_citus_wait_for_commits);

/*
 * cdp_internal.wait_for_commits(): on the coordinator, waits for every
 * transaction that has committed here but still holds its transaction lock.
 * Citus commits a distributed transaction on the coordinator first and on
 * the workers right after (COMMIT PREPARED), before it releases its locks:
 * a snapshot taken here may show a transaction committed whose rows the
 * workers do not show yet.  A reader that hands out what its snapshot
 * shows committed (consume, refresh) waits for those first, so that it
 * never passes over rows that appear a moment later.
 */
Datum
cdp_citus_wait_for_commits(PG_FUNCTION_ARGS)
{
	LockData   *locks = GetLockStatusData();
	TransactionId *pending = palloc(sizeof(TransactionId) * Max(locks->nelements, 1));
	int			npending = 0;

	for (int i = 0; i < locks->nelements; i++)
	{
		LockInstanceData *l = &locks->locks[i];
		TransactionId xid;

		if (l->locktag.locktag_type != LOCKTAG_TRANSACTION || l->holdMask == 0)
			continue;
		xid = (TransactionId) l->locktag.locktag_field1;
		if (TransactionIdIsCurrentTransactionId(xid) || !TransactionIdIsNormal(xid))
			continue;
		if (!TransactionIdIsInProgress(xid) && TransactionIdDidCommit(xid))
			pending[npending++] = xid;
	}
	for (int i = 0; i < npending; i++)
		XactLockTableWait(pending[i], NULL, NULL, XLTW_None);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(cdp_citus_on_worker_sql);

/* cdp_internal.citus_on_worker() */
Datum
cdp_citus_on_worker_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(cdp_citus_on_worker());
}

PG_FUNCTION_INFO_V1(cdp_citus_set_moving);

/*
 * cdp_internal.citus_moving(on): while on, the workers' change capture
 * records rows that a merge or unmerge moves by delete and insert (Citus
 * cannot update a distribution column) as the one-node UPDATE does: an
 * event as gone from one contact and come to the other, and a document's
 * rows not at all (citus_move_documents records the move).
 */
Datum
cdp_citus_set_moving(PG_FUNCTION_ARGS)
{
	set_on_workers("cdp.citus_moving", PG_GETARG_BOOL(0) ? "on" : "off");
	PG_RETURN_VOID();
}

void
cdp_citus_set_recorded(bool on)
{
	set_on_workers("cdp.citus_recorded", on ? "on" : "off");
}
