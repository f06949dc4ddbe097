/*
 * segment_type.h
 *	  The server side of the cdp.segment type: its varlena (a version byte and
 *	  the binary tree of segment_ast.h), and the calls that turn text, datums
 *	  and trees into one another, raising PostgreSQL errors.
 */
#ifndef CDP_SEGMENT_TYPE_H
#define CDP_SEGMENT_TYPE_H

#include "postgres.h"
#include "fmgr.h"

#include "segment/segment_ast.h"

/* An arena that pallocs (zeroed) in CurrentMemoryContext. */
extern SegArena *cdp_segment_arena(void);

/* Parse segment text; raises 42601 (with position), 54000 or 54001. */
extern SegNode *cdp_segment_parse(const char *text, size_t len);

/* The tree of a cdp.segment datum (detoasted and decoded; 22P03 if corrupt). */
extern SegNode *cdp_segment_tree(Datum segment);

/* A cdp.segment datum holding the tree. */
extern Datum cdp_segment_datum(const SegNode *tree);

/* The canonical text of a tree or subtree, palloc'd. */
extern char *cdp_segment_text(const SegNode *node);

#endif
