/*
 * segment_membership.h
 *	  Stored segment membership: what the change capture tells it.
 */
#ifndef CDP_SEGMENT_MEMBERSHIP_H
#define CDP_SEGMENT_MEMBERSHIP_H

#include "postgres.h"

/*
 * Called by the change capture for every change it records: relid is the
 * table written, id the contact the change is about, or with organization
 * the organization (0: none, an organization's document).  Makes the pass
 * that brings the immediate segments up to date pending for the commit, and
 * tells it who was touched (segment_pass.c).
 */
extern void cdp_segments_note_change(Oid relid, bool organization, int64 id);

/* segment_pass.c: what the pass evaluates, and the pass */
extern void cdp_segment_pass_touch(Oid relid, bool organization, int64 id);
extern void cdp_segment_run_pass(void);

#endif
