/*
 * changes.c
 *	  Change capture: one generic trigger that writes field-level diffs of
 *	  contacts, organizations, documents and their satellite tables to cdp.changes.
 *
 * A table's trigger says what its rows are about with its arguments (see
 * changes.sql, cdp_internal.capture_changes, for every table's):
 *
 *	 0 object_type	contact, organization or document
 *	 1 object id	the column holding the object's id (id for the object's own table)
 *	 2 contact		self (the object is the contact), none, a column, or
 *					"column query" (the query maps the column's value, $1,
 *					to the contact id)
 *	 3 prefix		the first part of field names ('' for the object's own table)
 *	 4 label		'' , a column, or "column query": a second part of field
 *					names that tells rows of one object apart (identifiers.email)
 *	 5 value		'' (one field per column) or a column / "column query":
 *					the row stands for one value of the field (tags: its path)
 *	 6 action		row (the row operation), update (a change of the owner
 *					object), merge (cdp.merges: merge and unmerge)
 *
 * A field is prefix.label.column (the parts that are not empty) or, with a
 * value argument, prefix.label.  Values are the columns' to_jsonb, so numbers
 * stay numbers.  An update writes the fields that changed, and nothing when
 * only bookkeeping columns did; an update that moves a row to another object
 * (a merge moving identifiers) is a removal from one and an addition to the
 * other.  Every row written notifies cdp_changes (folded into one NOTIFY per
 * transaction by PostgreSQL) and tells the segment membership.  Rows loaded
 * by COPY (pg_restore) are not captured.
 */
#include "cdp.h"
#include "spi_plans.h"
#include "activation/changes.h"
#include "citus/citus.h"
#include "segment/segment_membership.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "nodes/makefuncs.h"
#include "tcop/pquery.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

PG_FUNCTION_INFO_V1(cdp_capture_change);

/* Columns whose change alone is not a change of the object. */
static const char *const bookkeeping[] = {"updated_at", "last_seen_at", "first_seen_at"};

static cdp_query insert_change = {
	"INSERT INTO cdp.changes (object_type, object_id, contact_id, action, diff)"
	" VALUES ($1, $2, $3, $4, $5)",
	5, {TEXTOID, INT8OID, INT8OID, TEXTOID, JSONBOID}, CURSOR_OPT_GENERIC_PLAN,
	/* on a worker, the coordinator's transaction (citus.c) */
	.citus_sql = "INSERT INTO cdp.changes (txid, object_type, object_id, contact_id, action, diff)"
	" VALUES (cdp_internal.origin_txid(), $1, $2, $3, $4, $5)",
	.citus_generic = true
};

/* The lookup queries of trigger arguments, each prepared once per backend. */
typedef struct LookupQuery
{
	struct LookupQuery *next;
	cdp_query	query;
} LookupQuery;

static LookupQuery *lookups = NULL;

/* A column named by an argument, possibly mapped through a query. */
typedef struct CaptureColumn
{
	int			attno;			/* 0: none */
	cdp_query  *query;			/* NULL: the column's own value */
} CaptureColumn;

typedef enum CaptureAction
{
	CAPTURE_ROW,
	CAPTURE_UPDATE,
	CAPTURE_MERGE
} CaptureAction;

typedef enum ContactFrom
{
	CONTACT_SELF,
	CONTACT_NONE,
	CONTACT_COLUMN
} ContactFrom;

typedef struct Capture
{
	const char *object_type;
	int			id_attno;
	ContactFrom contact_from;
	CaptureColumn	contact;
	const char *prefix;
	CaptureColumn	label;
	CaptureColumn	value;
	CaptureAction action;
	TupleDesc	tupdesc;
	Oid			relid;			/* the table written */
} Capture;

/* One side of a row: the tuple, its object and contact, its row jsonb. */
typedef struct RowSide
{
	HeapTuple	tuple;
	bool		present;
	int64		object_id;
	bool		object_null;
	char	   *label;
	Jsonb	   *row;			/* built on demand */
} RowSide;

static cdp_query *
lookup_query(const char *sql, Oid argtype)
{
	LookupQuery *l;

	for (l = lookups; l != NULL; l = l->next)
		if (l->query.argtypes[0] == argtype && strcmp(l->query.sql, sql) == 0)
			return &l->query;
	l = MemoryContextAllocZero(TopMemoryContext, sizeof(LookupQuery));
	l->query.sql = MemoryContextStrdup(TopMemoryContext, sql);
	l->query.nargs = 1;
	l->query.argtypes[0] = argtype;
	l->query.cursor_options = CURSOR_OPT_GENERIC_PLAN;
	l->next = lookups;
	lookups = l;
	return &l->query;
}

static int
column_number(Capture *cap, const char *name, Relation rel)
{
	int			attno = SPI_fnumber(cap->tupdesc, name);

	if (attno <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("change capture of \"%s\" names an unknown column: \"%s\"",
						RelationGetRelationName(rel), name),
				 errdetail("The arguments of the trigger cdp_capture_changes do not match the table.")));
	return attno;
}

/* "column" or "column query" into a CaptureColumn; "" is no column. */
static CaptureColumn
column_ref(Capture *cap, const char *arg, Relation rel)
{
	CaptureColumn	ref = {0, NULL};
	const char *space = strchr(arg, ' ');
	char	   *name;

	if (*arg == '\0')
		return ref;
	name = space ? pnstrdup(arg, space - arg) : pstrdup(arg);
	ref.attno = column_number(cap, name, rel);
	if (space)
		ref.query = lookup_query(space + 1,
								 TupleDescAttr(cap->tupdesc, ref.attno - 1)->atttypid);
	return ref;
}

static void
read_arguments(Capture *cap, Trigger *trigger, Relation rel)
{
	char	  **args = trigger->tgargs;
	const char *contact;

	if (trigger->tgnargs != 7)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("change capture of \"%s\" takes 7 trigger arguments, not %d",
						RelationGetRelationName(rel), trigger->tgnargs),
				 errdetail("Attach it with cdp_internal.capture_changes.")));
	cap->tupdesc = RelationGetDescr(rel);
	cap->relid = RelationGetRelid(rel);
	cap->object_type = args[0];
	cap->id_attno = column_number(cap, args[1], rel);
	contact = args[2];
	if (strcmp(contact, "self") == 0)
		cap->contact_from = CONTACT_SELF;
	else if (strcmp(contact, "none") == 0)
		cap->contact_from = CONTACT_NONE;
	else
	{
		cap->contact_from = CONTACT_COLUMN;
		cap->contact = column_ref(cap, contact, rel);
	}
	cap->prefix = args[3];
	cap->label = column_ref(cap, args[4], rel);
	cap->value = column_ref(cap, args[5], rel);
	if (strcmp(args[6], "row") == 0)
		cap->action = CAPTURE_ROW;
	else if (strcmp(args[6], "update") == 0)
		cap->action = CAPTURE_UPDATE;
	else if (strcmp(args[6], "merge") == 0 && cap->label.attno > 0 && cap->value.attno > 0)
		cap->action = CAPTURE_MERGE;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("change capture of \"%s\" has an unknown action: \"%s\"",
						RelationGetRelationName(rel), args[6]),
				 errdetail("The action is row, update, or merge (with a label and a value column).")));
}

/* The column's value, mapped through its query; isnull when there is none. */
static Datum
ref_value(Capture *cap, CaptureColumn *ref, HeapTuple tuple, bool raw_if_gone,
		  bool *isnull, Oid *type)
{
	Datum		d = heap_getattr(tuple, ref->attno, cap->tupdesc, isnull);

	*type = TupleDescAttr(cap->tupdesc, ref->attno - 1)->atttypid;
	if (ref->query == NULL || *isnull)
		return d;
	cdp_execute(ref->query, &d, NULL, false, 1);
	if (SPI_processed == 0)
	{
		/*
		 * The row it leads to is gone (deleted by the statement whose cascade
		 * deletes this row): a label or value is then the raw value, a
		 * contact unknown.
		 */
		*isnull = !raw_if_gone;
		return d;
	}
	*type = SPI_gettypeid(SPI_tuptable->tupdesc, 1);
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isnull);
}

static char *
ref_text(Capture *cap, CaptureColumn *ref, HeapTuple tuple)
{
	bool		isnull;
	Oid			type;
	Oid			output;
	bool		varlena;
	Datum		d = ref_value(cap, ref, tuple, true, &isnull, &type);

	if (isnull)
		return "";
	getTypeOutputInfo(type, &output, &varlena);
	return OidOutputFunctionCall(output, d);
}

static Jsonb *
value_jsonb(Datum value, Oid type)
{
	FmgrInfo	flinfo;

	/* to_jsonb is polymorphic: it reads its argument's type from fn_expr */
	fmgr_info(F_TO_JSONB, &flinfo);
	flinfo.fn_expr = (Node *) makeFuncExpr(F_TO_JSONB, JSONBOID,
										   list_make1(makeNullConst(type, -1, InvalidOid)),
										   InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
	return DatumGetJsonbP(FunctionCall1(&flinfo, value));
}

static Jsonb *
row_jsonb(Capture *cap, RowSide *side)
{
	if (side->row == NULL)
		side->row = value_jsonb(heap_copy_tuple_as_datum(side->tuple, cap->tupdesc),
							 cap->tupdesc->tdtypeid);
	return side->row;
}

/* The jsonb of one column of a side's row, JSON null when absent. */
static JsonbValue *
column_jsonb(Capture *cap, RowSide *side, int attno)
{
	static JsonbValue null_value = {.type = jbvNull};
	JsonbValue *v;
	const char *name;

	if (side == NULL || !side->present)
		return &null_value;
	name = NameStr(TupleDescAttr(cap->tupdesc, attno - 1)->attname);
	v = getKeyJsonValueFromContainer(&row_jsonb(cap, side)->root, name, strlen(name), NULL);
	return v ? v : &null_value;
}

/* The value a valued row stands for (a tag's path), as jsonb. */
static JsonbValue *
side_value(Capture *cap, RowSide *side)
{
	static JsonbValue null_value = {.type = jbvNull};
	JsonbValue *v;
	bool		isnull;
	Oid			type;
	Datum		d;
	Jsonb	   *jb;

	if (side == NULL || !side->present)
		return &null_value;
	if (cap->value.query == NULL)
		return column_jsonb(cap, side, cap->value.attno);
	d = ref_value(cap, &cap->value, side->tuple, true, &isnull, &type);
	if (isnull)
		return &null_value;
	jb = value_jsonb(d, type);
	v = palloc(sizeof(JsonbValue));
	if (JB_ROOT_IS_SCALAR(jb))
	{
		JsonbValue *elem = getIthJsonbValueFromContainer(&jb->root, 0);

		*v = *elem;
	}
	else
	{
		v->type = jbvBinary;
		v->val.binary.data = &jb->root;
		v->val.binary.len = VARSIZE(jb) - VARHDRSZ;
	}
	return v;
}

static void
read_side(Capture *cap, RowSide *side, HeapTuple tuple)
{
	Datum		d;

	side->tuple = tuple;
	side->present = true;
	side->row = NULL;
	d = heap_getattr(tuple, cap->id_attno, cap->tupdesc, &side->object_null);
	side->object_id = side->object_null ? 0 : DatumGetInt64(d);
	side->label = (cap->label.attno > 0 && cap->action != CAPTURE_MERGE)
		? ref_text(cap, &cap->label, tuple) : "";
}

static bool
is_skipped_column(Capture *cap, int attno)
{
	Form_pg_attribute att = TupleDescAttr(cap->tupdesc, attno - 1);

	if (att->attisdropped || attno == cap->id_attno || attno == cap->label.attno)
		return true;
	/* the contact a document's row carries on Citus is its key, not a field */
	if (cap->action == CAPTURE_UPDATE && cap->contact_from == CONTACT_COLUMN &&
		cap->contact.query == NULL && attno == cap->contact.attno)
		return true;
	for (int i = 0; i < lengthof(bookkeeping); i++)
		if (strcmp(NameStr(att->attname), bookkeeping[i]) == 0)
			return true;
	return false;
}

static bool
column_changed(Capture *cap, HeapTuple old, HeapTuple new, int attno)
{
	Form_pg_attribute att = TupleDescAttr(cap->tupdesc, attno - 1);
	bool		old_null;
	bool		new_null;
	Datum		o = heap_getattr(old, attno, cap->tupdesc, &old_null);
	Datum		n = heap_getattr(new, attno, cap->tupdesc, &new_null);

	if (old_null || new_null)
		return old_null != new_null;
	return !datumIsEqual(o, n, att->attbyval, att->attlen);
}

static void
push_string(JsonbParseState **state, JsonbIteratorToken token, const char *s)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) s;
	v.val.string.len = strlen(s);
	pushJsonbValue(state, token, &v);
}

static void
push_field(JsonbParseState **state, const char *name, JsonbValue *old, JsonbValue *new)
{
	push_string(state, WJB_KEY, name);
	pushJsonbValue(state, WJB_BEGIN_ARRAY, NULL);
	pushJsonbValue(state, WJB_ELEM, old);
	pushJsonbValue(state, WJB_ELEM, new);
	pushJsonbValue(state, WJB_END_ARRAY, NULL);
}

/* prefix.label.column, without the empty parts. */
static char *
field_name(const char *prefix, const char *label, const char *column)
{
	StringInfoData buf;
	const char *parts[3] = {prefix, label, column};

	initStringInfo(&buf);
	for (int i = 0; i < 3; i++)
	{
		if (parts[i] == NULL || *parts[i] == '\0')
			continue;
		if (buf.len > 0)
			appendStringInfoChar(&buf, '.');
		appendStringInfoString(&buf, parts[i]);
	}
	return buf.data;
}

static void
write_change(Capture *cap, RowSide *about, const char *action, Jsonb *diff)
{
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	values[0] = CStringGetTextDatum(cap->object_type);
	values[1] = Int64GetDatum(about->object_id);
	switch (cap->contact_from)
	{
		case CONTACT_SELF:
			values[2] = Int64GetDatum(about->object_id);
			break;
		case CONTACT_NONE:
			nulls[2] = 'n';
			break;
		case CONTACT_COLUMN:
			{
				bool		isnull;
				Oid			type;
				Datum		d = ref_value(cap, &cap->contact, about->tuple, false, &isnull, &type);

				if (isnull || type != INT8OID)
					nulls[2] = 'n';
				else
					values[2] = d;
				break;
			}
	}
	/* on Citus a change is stored with its contact: 0 stands for none */
	if (nulls[2] == 'n' && cdp_citus_mode())
	{
		values[2] = Int64GetDatum(0);
		nulls[2] = ' ';
	}
	values[3] = CStringGetTextDatum(action);
	values[4] = JsonbPGetDatum(diff);
	cdp_execute(&insert_change, values, nulls, false, 0);
	/* a worker's shard: the coordinator notifies and runs the pass (citus.c) */
	if (cdp_citus_on_worker())
		return;
	Async_Notify("cdp_changes", "");
	if (strcmp(cap->object_type, "organization") == 0)
		cdp_segments_note_change(cap->relid, true, about->object_id);
	else
		cdp_segments_note_change(cap->relid, false,
								 nulls[2] == 'n' ? 0 : DatumGetInt64(values[2]));
}

/*
 * The diff of one object between old and new (either may be absent); NULL
 * when no field changed.  diff_all: every field, not only those that differ.
 */
static Jsonb *
build_diff(Capture *cap, RowSide *old, RowSide *new, bool diff_all)
{
	JsonbParseState *state = NULL;
	RowSide    *some = (new && new->present) ? new : old;
	int			fields = 0;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	if (cap->value.attno > 0)
	{
		JsonbValue *o = side_value(cap, old);
		JsonbValue *n = side_value(cap, new);

		if (diff_all || o->type != n->type ||
			(o->type == jbvString &&
			 (o->val.string.len != n->val.string.len ||
			  memcmp(o->val.string.val, n->val.string.val, o->val.string.len) != 0)) ||
			(o->type != jbvString && o->type != jbvNull &&
			 column_changed(cap, old->tuple, new->tuple, cap->value.attno)))
		{
			push_field(&state, field_name(cap->prefix, some->label, NULL), o, n);
			fields++;
		}
	}
	else
	{
		for (int attno = 1; attno <= cap->tupdesc->natts; attno++)
		{
			if (is_skipped_column(cap, attno))
				continue;
			if (!diff_all && !column_changed(cap, old->tuple, new->tuple, attno))
				continue;
			push_field(&state,
					   field_name(cap->prefix, some->label,
								  NameStr(TupleDescAttr(cap->tupdesc, attno - 1)->attname)),
					   column_jsonb(cap, old, attno), column_jsonb(cap, new, attno));
			fields++;
		}
	}
	if (fields == 0)
		return NULL;
	return JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));
}

/* cdp.merges: an insert is a merge of the survivor, setting undone_at an unmerge. */
static void
capture_merge(Capture *cap, TriggerData *trigdata)
{
	RowSide		side;
	JsonbParseState *state = NULL;
	JsonbValue	null_value = {.type = jbvNull};
	JsonbValue *absorbed;
	bool		unmerge;

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		unmerge = false;
	else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		bool		was_null;
		bool		is_null;

		heap_getattr(trigdata->tg_trigtuple, cap->label.attno, cap->tupdesc, &was_null);
		heap_getattr(trigdata->tg_newtuple, cap->label.attno, cap->tupdesc, &is_null);
		if (!was_null || is_null)
			return;
		unmerge = true;
	}
	else
		return;
	read_side(cap, &side, TRIGGER_FIRED_BY_INSERT(trigdata->tg_event)
			  ? trigdata->tg_trigtuple : trigdata->tg_newtuple);
	if (side.object_null)
		return;
	absorbed = column_jsonb(cap, &side, cap->value.attno);
	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	push_field(&state, cap->prefix, unmerge ? absorbed : &null_value,
			   unmerge ? &null_value : absorbed);
	write_change(cap, &side, unmerge ? "unmerge" : "merge",
				 JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL)));
}

/*
 * pg_restore loads cdp's tables with COPY: what it loads happened before and
 * is in the cdp.changes it restores as well.  Only a top-level COPY FROM into
 * this very table is such a load: a COPY whose query calls resolve, or a
 * COPY into a staging table whose triggers write cdp's tables, is captured.
 */
static bool
restored_by_copy(Relation rel)
{
	PlannedStmt *stmt;
	CopyStmt   *copy;

	if (ActivePortal == NULL || ActivePortal->commandTag != CMDTAG_COPY ||
		list_length(ActivePortal->stmts) != 1)
		return false;
	stmt = linitial_node(PlannedStmt, ActivePortal->stmts);
	if (stmt->utilityStmt == NULL || !IsA(stmt->utilityStmt, CopyStmt))
		return false;
	copy = (CopyStmt *) stmt->utilityStmt;
	return copy->is_from && copy->relation != NULL &&
		RangeVarGetRelid(copy->relation, NoLock, true) == RelationGetRelid(rel);
}

Datum
cdp_capture_change(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Capture		cap;
	RowSide		old = {0};
	RowSide		new = {0};
	Jsonb	   *diff;
	const char *row_action;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		elog(ERROR, "cdp_capture_change must run as an AFTER ... FOR EACH ROW trigger");

	/*
	 * On a Citus worker a COPY into a shard is Citus routing a write of a cdp
	 * function (which sent its transaction id, citus.c), or Citus moving rows
	 * (distributing a table, moving a shard): only the first is a change.
	 */
	if (restored_by_copy(trigdata->tg_relation) &&
		(!cdp_citus_on_worker() || !cdp_citus_write_sent()))
		return PointerGetDatum(NULL);
	/* a bulk writer records its rows itself (changes_bulk.c; on Citus, citus.c) */
	if (cdp_capture_suppressed || (cdp_citus_recorded && cdp_citus_on_worker()))
		return PointerGetDatum(NULL);
	/* cdp.distribute copying the tables into Citus's shards moves, not changes */
	{
		const char *distributing = GetConfigOption("cdp_internal.distributing", true, false);

		if (distributing != NULL && strcmp(distributing, "on") == 0)
			return PointerGetDatum(NULL);
	}

	SPI_connect();
	read_arguments(&cap, trigdata->tg_trigger, trigdata->tg_relation);

	/*
	 * On a Citus worker: organizations and merges are reference tables,
	 * written on every node, whose changes are captured once, on the
	 * coordinator; and a document a merge moves is recorded by
	 * citus_move_documents.
	 */
	if ((cap.action == CAPTURE_MERGE || strcmp(cap.object_type, "organization") == 0 ||
		 (cdp_citus_moving && strcmp(cap.object_type, "document") == 0)) &&
		cdp_citus_on_worker())
	{
		SPI_finish();
		return PointerGetDatum(NULL);
	}

	if (cap.action == CAPTURE_MERGE)
	{
		capture_merge(&cap, trigdata);
		SPI_finish();
		return PointerGetDatum(NULL);
	}

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
	{
		read_side(&cap, &new, trigdata->tg_trigtuple);
		row_action = "insert";
	}
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
	{
		read_side(&cap, &old, trigdata->tg_trigtuple);
		row_action = "delete";
	}
	else
	{
		read_side(&cap, &old, trigdata->tg_trigtuple);
		read_side(&cap, &new, trigdata->tg_newtuple);
		row_action = "update";
	}

	if (old.present && new.present &&
		(old.object_null != new.object_null || old.object_id != new.object_id ||
		 strcmp(old.label, new.label) != 0))
	{
		/* moved to another object: gone from the one, come to the other */
		if (!old.object_null && (diff = build_diff(&cap, &old, NULL, true)) != NULL)
			write_change(&cap, &old, "update", diff);
		if (!new.object_null && (diff = build_diff(&cap, NULL, &new, true)) != NULL)
			write_change(&cap, &new, "update", diff);
	}
	else
	{
		RowSide    *about = new.present ? &new : &old;

		diff = build_diff(&cap, old.present ? &old : NULL, new.present ? &new : NULL,
						  !(old.present && new.present));
		/* moved by a merge on Citus: recorded as the one-node UPDATE's move */
		if (cdp_citus_moving && cdp_citus_on_worker())
			row_action = "update";
		if (diff != NULL && !about->object_null)
			write_change(&cap, about,
						 cap.action == CAPTURE_ROW ? row_action : "update", diff);
	}

	SPI_finish();
	return PointerGetDatum(NULL);
}
