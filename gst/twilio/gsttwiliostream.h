/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The stream object shared by twiliosrc and twiliosink of one call: one
 * Media Streams WebSocket, found by name (like inter's channels).
 *
 * It owns a loop thread with its own GMainContext when it runs a standalone
 * server; a connection handed over by an application is served on the
 * context that was thread-default when it was attached. libsoup is only
 * called on that I/O context. Streaming threads use the queue and wait
 * functions below, which wake on the set_*_flushing () calls; a loop-driven
 * src (set_items_func ()) is called on the I/O context instead, and the
 * sink's messages are sent inline when it is called there.
 *
 * Bus messages (docs/design.md) are posted on behalf of the registered
 * elements: call events by the src, mark/clear by the sink (each falls back
 * to the other when one is absent).
 */
#ifndef __GST_TWILIO_STREAM_H__
#define __GST_TWILIO_STREAM_H__

#include <gst/gst.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _GstTwilioStream GstTwilioStream;

/* The application's call loop (docs/design.md "Loop-driven calls"): a
 * GstContext of this type whose structure carries the GMainContext in the
 * field GST_TWILIO_LOOP_CONTEXT_FIELD. */
#define GST_TWILIO_LOOP_CONTEXT_TYPE "gst-realtime-bridge.loop"
#define GST_TWILIO_LOOP_CONTEXT_FIELD "main-context"

/* The call loop's context (ref'd) if @context is a loop context, else
 * NULL. */
GMainContext *gst_twilio_loop_context_get_main_context (GstContext * context);
/* For the elements' set_context (): if @context is a loop context, its
 * GMainContext replaces *@slot under @element's object lock. */
void gst_twilio_loop_context_store (GstElement * element, GstContext * context,
    GMainContext ** slot);

/* Frames bigger than this are read but ignored with a warning; libsoup
 * itself closes the socket (1009) beyond GST_TWILIO_STREAM_HARD_LIMIT. */
#define GST_TWILIO_STREAM_DEFAULT_MAX_MESSAGE_SIZE (64 * 1024)
#define GST_TWILIO_STREAM_HARD_LIMIT (16 * 1024 * 1024)

typedef enum
{
  GST_TWILIO_STREAM_ITEM_MEDIA,
  GST_TWILIO_STREAM_ITEM_END,           /* stop received or socket closed: EOS */
  GST_TWILIO_STREAM_ITEM_EOS,           /* EOS sent to the src by the application */
  GST_TWILIO_STREAM_ITEM_ERROR,         /* fatal for the src, e.g. media format */
} GstTwilioStreamItemType;

typedef struct
{
  GstTwilioStreamItemType type;
  GBytes *payload;
  gboolean has_timestamp;
  guint64 timestamp_ms;
  GError *error;
} GstTwilioStreamItem;

void gst_twilio_stream_item_free (GstTwilioStreamItem * item);

GstTwilioStream *gst_twilio_stream_get (const gchar * name);
void gst_twilio_stream_unref (GstTwilioStream * stream);
const gchar *gst_twilio_stream_get_name (GstTwilioStream * stream);

/* Registers (or with NULL unregisters) the element on whose behalf bus
 * messages are posted. */
void gst_twilio_stream_set_src (GstTwilioStream * stream, GstElement * src);
void gst_twilio_stream_set_sink (GstTwilioStream * stream, GstElement * sink);

void gst_twilio_stream_set_max_message_size (GstTwilioStream * stream,
    gsize size);

/* Standalone server (called from twiliosrc start ()). Blocks until the
 * server listens; returns the bound port. @auth_token may be NULL (no
 * signature check). A server already running is kept. */
gboolean gst_twilio_stream_start_server (GstTwilioStream * stream,
    const gchar * address, gint port, const gchar * path,
    const gchar * auth_token, const gchar * public_url, gint * bound_port,
    GError ** error);

/* Serves @connection on @context (see docs/design.md "Threads"); must be
 * called on the thread that runs @context. */
void gst_twilio_stream_attach_connection (GstTwilioStream * stream,
    SoupWebsocketConnection * connection, GMainContext * context);

/* src side: blocks until at least one item is there, then moves every
 * queued item (in order) to @items, which must be empty; the caller frees
 * them. GST_FLOW_FLUSHING when woken by set_src_flushing (TRUE). */
GstFlowReturn gst_twilio_stream_pop_items (GstTwilioStream * stream,
    GQueue * items);
/* Gives items taken by pop_items () and not consumed back to the head of
 * the queue (in order), e.g. when the src stops: audio is never dropped. */
void gst_twilio_stream_unpop_items (GstTwilioStream * stream, GQueue * items);
void gst_twilio_stream_set_src_flushing (GstTwilioStream * stream,
    gboolean flushing);
/* Loop-driven src: moves every queued item (in order) to the tail of
 * @items without waiting. */
void gst_twilio_stream_take_items (GstTwilioStream * stream, GQueue * items);
/* Queues an EOS after what is queued (an EOS event sent to the src). */
void gst_twilio_stream_queue_eos (GstTwilioStream * stream);
/* The context that serves the call's connection (ref'd), NULL while there
 * is none. */
GMainContext *gst_twilio_stream_ref_link_context (GstTwilioStream * stream);

/* Loop-driven src: instead of waking a thread waiting in pop_items (),
 * the stream calls @func (src) on the link's context whenever it queued
 * items, outside the stream's and the link's locks, with a reference on the
 * src registered with set_src (). NULL: back to the threaded hand-over. */
typedef void (*GstTwilioStreamItemsFunc) (GstElement * src);
void gst_twilio_stream_set_items_func (GstTwilioStream * stream,
    GstTwilioStreamItemsFunc func);

/* sink side */
void gst_twilio_stream_send_audio (GstTwilioStream * stream, GBytes * frames,
    GstClockTime start_position, GstClockTime end_position);
void gst_twilio_stream_clear (GstTwilioStream * stream);
GstClockTime gst_twilio_stream_get_played_position (GstTwilioStream * stream);
GstFlowReturn gst_twilio_stream_wait_played (GstTwilioStream * stream);
void gst_twilio_stream_set_sink_flushing (GstTwilioStream * stream,
    gboolean flushing);
/* Whether the calling thread runs the context that serves the call's
 * connection (the sink was called on the call loop). */
gboolean gst_twilio_stream_on_link_context (GstTwilioStream * stream);
/* Forgets the sink's outbound state (held audio, marks), for stop (). */
void gst_twilio_stream_reset_sink (GstTwilioStream * stream);

G_END_DECLS

#endif
