/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared between gsttwiliostream.c (registry, connection, receiving, src
 * side) and gsttwiliostreamsend.c (the way toward Twilio: audio, marks,
 * clear, played position). Not used elsewhere.
 *
 * Locking: registry_lock guards the registry and reference counts;
 * stream->lock guards everything else in the stream. A TwilioLink ties one
 * WebSocket to the stream; its lock is taken before stream->lock, and the
 * stream is detached from it (under that lock) before the stream is freed,
 * so callbacks on the I/O context never see a freed stream.
 */
#ifndef __GST_TWILIO_STREAM_PRIVATE_H__
#define __GST_TWILIO_STREAM_PRIVATE_H__

#include "gsttwiliostream.h"
#include "gsttwilioserver.h"

G_BEGIN_DECLS

GST_DEBUG_CATEGORY_EXTERN (gst_twilio_stream_debug);

typedef struct _TwilioLink TwilioLink;

struct _TwilioLink
{
  gint ref_count;
  GMutex lock;
  GstTwilioStream *stream;      /* NULL once detached */
  SoupWebsocketConnection *conn;        /* used on @context only */
  GMainContext *context;
};

struct _GstTwilioStream
{
  gchar *name;
  gint ref_count;               /* registry_lock */

  GMutex lock;
  GCond cond;                   /* sink side: mark echoes, end, flushing */
  GCond items_cond;             /* src side only: items, src_flushing */

  /* standalone server (twiliosrc without a handed-over connection) */
  GMutex server_lock;           /* serialises starting it */
  GstTwilioServer *server;

  TwilioLink *link;
  gboolean link_on_server;      /* served on the server's context */
  gboolean closed;
  gsize max_message_size;

  /* weak: the elements hold the stream, not the other way round */
  GWeakRef src;
  GWeakRef sink;

  gchar *stream_sid;
  gchar *account_sid;
  gchar *call_sid;

  /* toward twiliosrc */
  GQueue items;
  gboolean end_queued;
  gboolean src_flushing;
  GstTwilioStreamItemsFunc items_func;  /* loop-driven src, else NULL */

  /* toward Twilio (gsttwiliostreamsend.c) */
  GQueue held;                  /* HeldAudio, before streamSid is known */
  GQueue out_texts;             /* gchar *, sent in order on the I/O context */
  gboolean flush_scheduled;
  GQueue marks;                 /* PendingMark, sent and not echoed yet */
  guint64 mark_counter;
  GstClockTime played;          /* end of the audio the last echo confirmed */
  gint64 played_at;             /* monotonic time `played` was reached */
  gboolean sink_flushing;
};

/* gsttwiliostream.c */
TwilioLink *twilio_link_ref (TwilioLink * link);
void twilio_link_unref (TwilioLink * link);
/* Post on behalf of the registered elements; call events prefer the src,
 * playback events (@prefer_sink) the sink. */
void gst_twilio_stream_post_structure (GstTwilioStream * stream,
    gboolean prefer_sink, GstStructure * s);
void gst_twilio_stream_post_warning (GstTwilioStream * stream,
    const gchar * what, const gchar * details);

/* gsttwiliostreamsend.c; the _locked ones want stream->lock held. */
void gst_twilio_stream_schedule_flush_locked (GstTwilioStream * stream);
/* The call has started: audio held until now goes out first. */
void gst_twilio_stream_send_held_locked (GstTwilioStream * stream);
/* A mark echo from Twilio (I/O context, link lock held). */
void gst_twilio_stream_handle_mark_echo (GstTwilioStream * stream,
    const gchar * name);
/* Frees the outbound queues, for stream_free (). */
void gst_twilio_stream_free_outbound (GstTwilioStream * stream);

G_END_DECLS

#endif /* __GST_TWILIO_STREAM_PRIVATE_H__ */
