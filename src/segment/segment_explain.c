/*
 * segment_explain.c
 *	  explain_segment: why one contact is in a segment or not, node by node.
 *	  Conditions run as one small query each; AND, OR, NOT and IN SEGMENT
 *	  are combined here, so explain is a second evaluator beside the SQL.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "segment/segment_compile.h"
#include "segment/segment_type.h"
#include "spi_plans.h"

PG_FUNCTION_INFO_V1(cdp_explain_segment);

typedef struct ExplainRow
{
	int			node;
	int			depth;
	char	   *condition;
	bool		result;
	char	   *detail;
} ExplainRow;

typedef struct Explainer
{
	SegCompiler cc;				/* $1 is the contact, $2 the evaluation time */
	Datum		args[2];
	List	   *rows;
} Explainer;

static const SegScope contact_scope = {SEG_SUBJECT_CONTACT, "c", NULL};

/*
 * Run a condition and its detail for the contact: generated text, so a
 * one-shot plan with the contact and time known to the planner.
 */
static void
run(Explainer *x, ExplainRow *row, const char *expr, const char *detail)
{
	static Oid	types[2] = {INT8OID, TIMESTAMPTZOID};
	char	   *sql = psprintf("SELECT %s, %s FROM cdp.contacts c WHERE c.id = $1", expr, detail);
	bool		isnull;
	int			rc;

	rc = SPI_execute_with_args(sql, 2, types, x->args, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "explain_segment query failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
	{
		row->result = false;
		row->detail = "no such contact";
		return;
	}
	row->result = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (isnull)
		elog(ERROR, "segment condition evaluated to NULL: %s", expr);
	row->detail = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
}

static ExplainRow *
new_row(Explainer *x, const SegNode *node, int depth)
{
	ExplainRow *row = palloc0(sizeof(ExplainRow));

	row->node = list_length(x->rows) + 1;
	row->depth = depth;
	row->condition = cdp_segment_text(node);
	x->rows = lappend(x->rows, row);
	return row;
}

/*
 * Explain node (and below) and return its result.  Inside a quantifier a
 * node's result is whether some organization, document or event of the
 * contact satisfies it.
 */
static bool
explain_node(Explainer *x, const SegNode *node, int depth, const SegNode *quantifier)
{
	ExplainRow *row = new_row(x, node, depth);
	StringInfoData expr;
	StringInfoData detail;

	check_stack_depth();
	CHECK_FOR_INTERRUPTS();
	initStringInfo(&expr);
	initStringInfo(&detail);

	if (quantifier)
	{
		seg_compile_quantified(&x->cc, quantifier, node, &contact_scope, &expr);
		seg_compile_quantified_detail(&x->cc, quantifier, node, &contact_scope, &detail);
		run(x, row, expr.data, detail.data);
		for (int i = 0; i < node->nchildren; i++)
			explain_node(x, node->children[i], depth + 1, quantifier);
		return row->result;
	}

	switch (node->kind)
	{
		case SEG_AND:
		case SEG_OR:
			{
				int			held = 0;

				for (int i = 0; i < node->nchildren; i++)
					held += explain_node(x, node->children[i], depth + 1, NULL) ? 1 : 0;
				row->result = node->kind == SEG_AND ? held == node->nchildren : held > 0;
				row->detail = psprintf("%d of %d conditions hold", held, node->nchildren);
			}
			break;
		case SEG_NOT:
			row->result = !explain_node(x, node->children[0], depth + 1, NULL);
			row->detail = row->result ? "the condition below does not hold" :
				"the condition below holds";
			break;
		case SEG_IN_SEGMENT:
			{
				SegNode    *tree = seg_enter_segment(&x->cc, node->name);

				row->result = explain_node(x, tree, depth + 1, NULL);
				seg_leave_segment(&x->cc);
				row->detail = psprintf(row->result ? "in segment %s" : "not in segment %s", node->name);
			}
			break;
		default:
			seg_compile_expr(&x->cc, node, &contact_scope, &expr);
			seg_compile_detail(&x->cc, node, &contact_scope, &detail);
			run(x, row, expr.data, detail.data);
			if (node->nchildren > 0)
				explain_node(x, node->children[0], depth + 1, node);
			break;
	}
	return row->result;
}

/* Archived and merged contacts are never members, whatever the conditions say. */
static void
explain_liveness(Explainer *x, ExplainRow *root)
{
	static cdp_query liveness = {
		"SELECT archived_at IS NOT NULL, merged_into FROM cdp.contacts WHERE id = $1",
		1, {INT8OID}, CURSOR_OPT_GENERIC_PLAN
	};
	bool		isnull;
	bool		archived;
	Datum		merged_into;

	cdp_execute(&liveness, x->args, NULL, true, 1);
	if (SPI_processed == 0)
	{
		root->result = false;
		root->detail = "no such contact";
		return;
	}
	archived = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	merged_into = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	if (!isnull)
	{
		root->detail = psprintf("contact was merged into " INT64_FORMAT, DatumGetInt64(merged_into));
		root->result = false;
	}
	else if (archived)
	{
		root->detail = psprintf("contact is archived%s", root->result ? " (the conditions hold)" : "");
		root->result = false;
	}
}

/* cdp_internal.explain_segment(definition, contact, at, self) */
Datum
cdp_explain_segment(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SegNode    *tree;
	Explainer	x = {0};
	ListCell   *lc;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("segment definition must not be null")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("contact must not be null"),
				 errdetail("explain_segment explains one contact.")));
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("evaluation time must not be null"),
				 errhint("Leave the argument out to evaluate at now().")));
	if (PG_ARGISNULL(3))
		elog(ERROR, "explain_segment needs a slug or ''");
	tree = cdp_segment_tree(PG_GETARG_DATUM(0));

	InitMaterializedSRF(fcinfo, 0);
	x.args[0] = PG_GETARG_DATUM(1);
	x.args[1] = PG_GETARG_DATUM(2);

	SPI_connect();
	seg_compiler_init(&x.cc, "$2", true);
	if (VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(3)) > 0)
		x.cc.segments = list_make1(text_to_cstring(PG_GETARG_TEXT_PP(3)));
	explain_node(&x, tree, 0, NULL);
	explain_liveness(&x, (ExplainRow *) linitial(x.rows));

	foreach(lc, x.rows)
	{
		ExplainRow *row = lfirst(lc);
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, row->detail == NULL};

		values[0] = Int32GetDatum(row->node);
		values[1] = Int32GetDatum(row->depth);
		values[2] = CStringGetTextDatum(row->condition);
		values[3] = BoolGetDatum(row->result);
		values[4] = row->detail ? CStringGetTextDatum(row->detail) : (Datum) 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}
