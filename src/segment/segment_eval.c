/*
 * segment_eval.c
 *	  SQL-callable compiler entry points: the SQL of a definition (which
 *	  members, count, estimate and in_segment run) and the names it uses.
 */
#include "postgres.h"

#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "segment/segment_compile.h"
#include "segment/segment_type.h"

PG_FUNCTION_INFO_V1(cdp_segment_compile);
PG_FUNCTION_INFO_V1(cdp_segment_references);

/*
 * Compiles argument 0 (the definition) at argument 1 (the SQL of the
 * evaluation time: $1, now() or a literal); argument 3, the slug the
 * definition is saved under ('' for none), starts the in-segment cycle
 * check.  candidates, when not NULL, is the SQL of a bigint[] of the only
 * contacts asked about.
 */
static text *
compile(FunctionCallInfo fcinfo, bool per_contact, const char *candidates)
{
	MemoryContext caller = CurrentMemoryContext;
	SegNode    *tree = cdp_segment_tree(PG_GETARG_DATUM(0));
	SegCompiler cc;
	char	   *sql;

	SPI_connect();
	seg_compiler_init(&cc, text_to_cstring(PG_GETARG_TEXT_PP(1)), per_contact);
	cc.candidates = candidates;
	if (VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(3)) > 0)
		cc.segments = list_make1(text_to_cstring(PG_GETARG_TEXT_PP(3)));
	sql = seg_compile_query(&cc, tree);
	sql = MemoryContextStrdup(caller, sql);
	SPI_finish();
	return cstring_to_text(sql);
}

static void
require_definition(FunctionCallInfo fcinfo, const char *what)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("segment definition must not be null")));
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		elog(ERROR, "%s", what);
}

/* cdp_internal.compile_segment(definition, at text, per_contact, self) */
Datum
cdp_segment_compile(PG_FUNCTION_ARGS)
{
	require_definition(fcinfo, "compile_segment needs a time, a mode and a slug");
	PG_RETURN_TEXT_P(compile(fcinfo, PG_GETARG_BOOL(2), NULL));
}

PG_FUNCTION_INFO_V1(cdp_segment_compile_for);

/*
 * cdp_internal.compile_segment_for(definition, at text, candidates text,
 * self): the statement for only the contacts in candidates (the SQL of a
 * bigint[], e.g. $1), as stored membership is kept up to date: event counts
 * then read only those contacts' events.
 */
Datum
cdp_segment_compile_for(PG_FUNCTION_ARGS)
{
	require_definition(fcinfo, "compile_segment_for needs a time, the candidates and a slug");
	PG_RETURN_TEXT_P(compile(fcinfo, false, text_to_cstring(PG_GETARG_TEXT_PP(2))));
}

typedef struct RefWalk
{
	Tuplestorestate *store;
	TupleDesc	desc;
	const char *template_slug;	/* inside DOCUMENT t ( … ) */
} RefWalk;

static void
emit(RefWalk *w, const char *kind, const char *name)
{
	Datum		values[2] = {CStringGetTextDatum(kind), CStringGetTextDatum(name)};
	bool		nulls[2] = {false, false};

	tuplestore_putvalues(w->store, w->desc, values, nulls);
}

static bool
builtin_qualifier(const char *q)
{
	return strcmp(q, "contact") == 0 || strcmp(q, "organization") == 0 ||
		strcmp(q, "document") == 0 || strcmp(q, "properties") == 0;
}

static void
walk_references(RefWalk *w, const SegNode *node)
{
	check_stack_depth();
	switch (node->kind)
	{
		case SEG_COMPARE:
		case SEG_IN:
		case SEG_BETWEEN:
		case SEG_IS_NULL:
		case SEG_LIKE:
		case SEG_CONTAINS:
			if (builtin_qualifier(node->qualifier))
				break;
			if (w->template_slug && strcmp(node->qualifier, w->template_slug) == 0)
				emit(w, "template_attribute", psprintf("%s.%s", node->qualifier, node->field));
			else
			{
				emit(w, "profile", node->qualifier);
				emit(w, "attribute", psprintf("%s.%s", node->qualifier, node->field));
			}
			break;
		case SEG_TAG:
			emit(w, "tag", node->name);
			break;
		case SEG_TERM:
			emit(w, "taxonomy", node->qualifier);
			emit(w, "term", psprintf("%s:%s", node->qualifier, node->name));
			break;
		case SEG_HAS_PROFILE:
			emit(w, "profile", node->name);
			break;
		case SEG_HAS_KIND:
			emit(w, "kind", node->name);
			break;
		case SEG_ORG_UNDER:
			emit(w, "organization", node->name);
			break;
		case SEG_DOCUMENT:
			emit(w, "template", node->name);
			break;
		case SEG_IN_SEGMENT:
			emit(w, "segment", node->name);
			break;
		default:
			break;
	}
	for (int i = 0; i < node->nchildren; i++)
	{
		const char *outer = w->template_slug;

		if (node->kind == SEG_DOCUMENT)
			w->template_slug = node->name;
		walk_references(w, node->children[i]);
		w->template_slug = outer;
	}
}

/* cdp_internal.segment_references(definition): (kind, name) rows, with repeats. */
Datum
cdp_segment_references(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SegNode    *tree = cdp_segment_tree(PG_GETARG_DATUM(0));
	RefWalk		w = {0};

	InitMaterializedSRF(fcinfo, 0);
	w.store = rsinfo->setResult;
	w.desc = rsinfo->setDesc;
	walk_references(&w, tree);
	return (Datum) 0;
}
