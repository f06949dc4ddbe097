/*
 * segment_membership.h
 *	  Stored segment membership: what the change capture tells it.
 */
#ifndef CDP_SEGMENT_MEMBERSHIP_H
#define CDP_SEGMENT_MEMBERSHIP_H

/*
 * Called by the change capture for every change about a contact or an
 * organization: queues, once per transaction, the pass that brings the
 * immediate segments up to date before the transaction commits.  Cheap when
 * already queued or when no segment is immediate.
 */
extern void cdp_segments_note_change(void);

#endif
