/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared between the files of twiliosrc, not used elsewhere:
 * gsttwiliosrc.c (the element: properties, states, events and queries),
 * gsttwiliosrcpush.c (pad activation and pushing, from the pad's task or
 * from the call loop) and gsttwiliosrcbuffers.c (the timeline: Twilio's
 * media timestamps turned into buffer timestamps, gaps filled, contiguous
 * media merged).
 */
#ifndef __GST_TWILIO_SRC_PRIVATE_H__
#define __GST_TWILIO_SRC_PRIVATE_H__

#include "gsttwiliosrc.h"
#include "gsttwiliostream.h"

G_BEGIN_DECLS

GST_DEBUG_CATEGORY_EXTERN (gst_twilio_src_debug);

/* Where the next buffer goes on the sample-counted output timeline; used
 * where buffers are pushed (under the pad's STREAM_LOCK). */
typedef struct
{
  gboolean have_first;
  gint64 origin;                /* Twilio time (samples) of offset 0 */
  guint64 next_offset;          /* samples pushed so far, incl. silence */
  GstClockTime base_pts;
  gboolean discont;
} GstTwilioSrcTimeline;

struct _GstTwilioSrc
{
  GstElement parent;

  GstPad *srcpad;

  /* properties, GST_OBJECT_LOCK */
  gchar *stream_name;
  gint port;
  gint current_port;
  gchar *address;
  gchar *path;
  gchar *auth_token;
  gchar *public_url;
  guint max_message_size;
  guint latency_ms;
  GMainContext *loop_context;   /* from the gst-realtime-bridge.loop context */

  /* set in start () or when a connection is handed over; released in
   * stop () */
  GstTwilioStream *stream;

  /* state, @lock; @cond wakes the threaded mode's task */
  GMutex lock;
  GCond cond;
  gboolean loop_driven;         /* decided in start () */
  gboolean playing;
  gboolean flushing;
  GSource *catch_up;            /* loop-driven: pushes what came before PLAYING */

  /* pushing: the task or the call loop, under the pad's STREAM_LOCK */
  GQueue pending;               /* items handed over, not consumed yet */
  gboolean need_start_events;
  gboolean finished;            /* EOS pushed or a fatal error: no more pushes */
  GstTwilioSrcTimeline timeline;
};

/* gsttwiliosrcbuffers.c */
/* Before the first buffer: it will be aligned to the running time at which
 * it is made and flagged DISCONT. */
void gst_twilio_src_timeline_reset (GstTwilioSrcTimeline * timeline);
/* @item (media) as a buffer on the timeline: a gap before it filled with
 * silence, a long jump flagged DISCONT; @element gives the clock and the
 * log object. @item is not freed. */
GstBuffer *gst_twilio_src_timeline_make_buffer (GstTwilioSrcTimeline * timeline,
    GstElement * element, GstTwilioStreamItem * item);
/* Appends to @buf (just made) the media at the head of @pending that
 * continue it exactly, up to 200 ms in all; they are freed. */
GstBuffer *gst_twilio_src_timeline_append_contiguous (GstTwilioSrcTimeline *
    timeline, GQueue * pending, GstBuffer * buf);

/* gsttwiliosrcpush.c */
gboolean gst_twilio_src_activate_mode (GstPad * pad, GstObject * parent,
    GstPadMode mode, gboolean active);
/* PLAYING and not flushing. */
gboolean gst_twilio_src_is_playing (GstTwilioSrc * self);
/* Loop-driven: what is queued gets pushed from the call loop. */
void gst_twilio_src_schedule_catch_up (GstTwilioSrc * self);
void gst_twilio_src_cancel_catch_up (GstTwilioSrc * self);

G_END_DECLS

#endif /* __GST_TWILIO_SRC_PRIVATE_H__ */
