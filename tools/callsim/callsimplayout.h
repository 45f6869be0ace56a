/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Twilio's outbound playout queue, as a pure model (no I/O, no clock): the
 * bridge's audio and marks in arrival order, consumed in 20 ms ticks by the
 * caller's clock. Reference: shared/reference/twilio-media-streams.md §1.5.
 *
 *  - media: appended to the FIFO.
 *  - mark: placed at the current end of the queued audio; echoed when that
 *    audio has finished playing, at once when nothing is queued or sounding.
 *  - tick: a mark reached during a tick is echoed at the start of the next
 *    tick, when the audio before it has actually finished sounding.
 *  - clear: drops the queued audio and echoes every pending mark at once, in
 *    queue order.
 */
#ifndef __CALLSIM_PLAYOUT_H__
#define __CALLSIM_PLAYOUT_H__

#include <glib.h>

G_BEGIN_DECLS

typedef struct _CallsimPlayout CallsimPlayout;

CallsimPlayout *callsim_playout_new (void);
void callsim_playout_free (CallsimPlayout * playout);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CallsimPlayout, callsim_playout_free)

void callsim_playout_push_audio (CallsimPlayout * playout,
    const guint8 * data, gsize len);

/* Returns TRUE when the mark must be echoed now (no audio queued or still
 * sounding); otherwise it is queued and comes back from a later tick. */
gboolean callsim_playout_push_mark (CallsimPlayout * playout,
    const gchar * name);

/* One playout tick of @len bytes: first appends to @echoed (gchar *, owned
 * by the array; give it g_free as free func) the marks whose audio finished
 * sounding by now, then fills @out with the next @len bytes of queued audio,
 * padded with μ-law silence when the queue runs dry. Returns how many bytes
 * of @out are bridge audio (0 = the caller heard silence). */
gsize callsim_playout_tick (CallsimPlayout * playout, guint8 * out, gsize len,
    GPtrArray * echoed);

/* Drops all queued audio and appends every pending mark to @echoed, in
 * queue order. Returns the number of bytes dropped. */
gsize callsim_playout_clear (CallsimPlayout * playout, GPtrArray * echoed);

/* Bytes queued and not yet played. */
gsize callsim_playout_get_queued (const CallsimPlayout * playout);
/* Marks waiting for their echo. */
guint callsim_playout_get_pending_marks (const CallsimPlayout * playout);
/* TRUE while audio is queued or the last tick played bridge audio. */
gboolean callsim_playout_is_busy (const CallsimPlayout * playout);

G_END_DECLS

#endif
