/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The stream object of one call; see gsttwiliostream.h. This file: the
 * registry, the WebSocket (attach, receive, close), the standalone server
 * and the src side. The way toward Twilio is in gsttwiliostreamsend.c;
 * locking is described in gsttwiliostreamprivate.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "gsttwiliostreamprivate.h"
#include "twilioprotocol.h"

#define GST_CAT_DEFAULT gst_twilio_stream_debug

static GMutex registry_lock;
static GList *registry;

/* ---- small helpers ---------------------------------------------------- */

void
gst_twilio_stream_item_free (GstTwilioStreamItem * item)
{
  if (item == NULL)
    return;
  g_clear_pointer (&item->payload, g_bytes_unref);
  g_clear_error (&item->error);
  g_free (item);
}

TwilioLink *
twilio_link_ref (TwilioLink * link)
{
  g_atomic_int_inc (&link->ref_count);
  return link;
}

void
twilio_link_unref (TwilioLink * link)
{
  if (!g_atomic_int_dec_and_test (&link->ref_count))
    return;
  g_clear_object (&link->conn);
  g_main_context_unref (link->context);
  g_mutex_clear (&link->lock);
  g_free (link);
}

/* The element to post on, ref'd; call events prefer the src, playback
 * events the sink. */
static GstElement *
get_poster (GstTwilioStream * stream, gboolean prefer_sink)
{
  GstElement *element = g_weak_ref_get (prefer_sink ? &stream->sink :
      &stream->src);

  if (element == NULL)
    element = g_weak_ref_get (prefer_sink ? &stream->src : &stream->sink);
  return element;
}

void
gst_twilio_stream_post_structure (GstTwilioStream * stream,
    gboolean prefer_sink, GstStructure * s)
{
  GstElement *element = get_poster (stream, prefer_sink);

  GST_DEBUG ("stream %s: %" GST_PTR_FORMAT, stream->name, s);
  if (element == NULL) {
    gst_structure_free (s);
    return;
  }
  gst_element_post_message (element,
      gst_message_new_element (GST_OBJECT (element), s));
  gst_object_unref (element);
}

void
gst_twilio_stream_post_warning (GstTwilioStream * stream, const gchar * what,
    const gchar * details)
{
  GstElement *element = get_poster (stream, FALSE);

  GST_WARNING ("stream %s: %s: %s", stream->name, what, details);
  if (element == NULL)
    return;
  GST_ELEMENT_WARNING (element, STREAM, DECODE, ("%s", what), ("%s", details));
  gst_object_unref (element);
}

static void
push_item_locked (GstTwilioStream * stream, GstTwilioStreamItem * item)
{
  if (item->type == GST_TWILIO_STREAM_ITEM_END) {
    if (stream->end_queued) {
      gst_twilio_stream_item_free (item);
      return;
    }
    stream->end_queued = TRUE;
  }
  /* The streaming thread drains the whole queue per wake-up and only
   * waits on an empty one: waking it for every message would cost a
   * futex call each, and a context switch whenever it is still busy. */
  if (g_queue_is_empty (&stream->items))
    g_cond_signal (&stream->items_cond);
  g_queue_push_tail (&stream->items, item);
  if (item->type == GST_TWILIO_STREAM_ITEM_END)
    g_cond_broadcast (&stream->cond);   /* wait_played () ends on it */
}

/* ---- receiving (I/O context) ------------------------------------------ */

static void
handle_start (GstTwilioStream * stream, TwilioMessage * m)
{
  GError *error = NULL;
  GstStructure *params, *s;
  guint i;

  if (!twilio_message_check_media_format (m, &error)) {
    GstTwilioStreamItem *item = g_new0 (GstTwilioStreamItem, 1);

    item->type = GST_TWILIO_STREAM_ITEM_ERROR;
    item->error = error;
    g_mutex_lock (&stream->lock);
    push_item_locked (stream, item);
    g_mutex_unlock (&stream->lock);
    return;
  }

  g_mutex_lock (&stream->lock);
  if (stream->stream_sid) {
    g_mutex_unlock (&stream->lock);
    gst_twilio_stream_post_warning (stream, "Second start message ignored",
        m->stream_sid);
    return;
  }
  stream->stream_sid = g_strdup (m->stream_sid);
  stream->account_sid = g_strdup (m->account_sid ? m->account_sid : "");
  stream->call_sid = g_strdup (m->call_sid ? m->call_sid : "");
  /* Audio the sink held until now goes out first. */
  gst_twilio_stream_send_held_locked (stream);
  g_mutex_unlock (&stream->lock);

  params = gst_structure_new_empty ("custom-parameters");
  for (i = 0; m->custom_parameter_names[i]; i++)
    gst_structure_set (params, m->custom_parameter_names[i], G_TYPE_STRING,
        m->custom_parameter_values[i], NULL);
  s = gst_structure_new ("twilio-start",
      "account-sid", G_TYPE_STRING, m->account_sid ? m->account_sid : "",
      "call-sid", G_TYPE_STRING, m->call_sid ? m->call_sid : "",
      "stream-sid", G_TYPE_STRING, m->stream_sid,
      "tracks", G_TYPE_STRV, m->tracks,
      "custom-parameters", GST_TYPE_STRUCTURE, params,
      "encoding", G_TYPE_STRING,
      m->has_media_format ? m->encoding : TWILIO_ENCODING_MULAW,
      "sample-rate", G_TYPE_INT,
      m->has_media_format ? m->sample_rate : TWILIO_SAMPLE_RATE,
      "channels", G_TYPE_INT, m->has_media_format ? m->channels : 1, NULL);
  gst_structure_free (params);
  gst_twilio_stream_post_structure (stream, FALSE, s);
}

static void
handle_text (GstTwilioStream * stream, const gchar * text, gsize size)
{
  g_autoptr (TwilioMessage) m = NULL;
  GError *error = NULL;
  GstTwilioStreamItem *item;

  m = twilio_message_parse (text, size, TWILIO_PARSE_FROM_TWILIO, &error);
  if (m == NULL) {
    gchar *details = g_strdup_printf ("%s (message starts: %.80s)",
        error->message, text);

    gst_twilio_stream_post_warning (stream,
        "Invalid message from Twilio ignored", details);
    g_free (details);
    g_clear_error (&error);
    return;
  }

  switch (m->event) {
    case TWILIO_EVENT_CONNECTED:
      gst_twilio_stream_post_structure (stream, FALSE,
          gst_structure_new ("twilio-connected", "protocol", G_TYPE_STRING,
              m->protocol ? m->protocol : "", "version", G_TYPE_STRING,
              m->version ? m->version : "", NULL));
      break;
    case TWILIO_EVENT_START:
      handle_start (stream, m);
      break;
    case TWILIO_EVENT_MEDIA:
      item = g_new0 (GstTwilioStreamItem, 1);
      item->type = GST_TWILIO_STREAM_ITEM_MEDIA;
      item->payload = g_steal_pointer (&m->payload);
      item->has_timestamp = m->has_timestamp;
      item->timestamp_ms = m->timestamp_ms;
      g_mutex_lock (&stream->lock);
      push_item_locked (stream, item);
      g_mutex_unlock (&stream->lock);
      break;
    case TWILIO_EVENT_DTMF:
      gst_twilio_stream_post_structure (stream, FALSE,
          gst_structure_new ("twilio-dtmf", "digit", G_TYPE_STRING, m->digit,
              "track", G_TYPE_STRING, m->track ? m->track : "", "stream-sid",
              G_TYPE_STRING, m->stream_sid ? m->stream_sid : "", NULL));
      break;
    case TWILIO_EVENT_MARK:
      gst_twilio_stream_handle_mark_echo (stream, m->mark_name);
      break;
    case TWILIO_EVENT_STOP:
      gst_twilio_stream_post_structure (stream, FALSE,
          gst_structure_new ("twilio-stop", "account-sid", G_TYPE_STRING,
              m->account_sid ? m->account_sid : "", "call-sid", G_TYPE_STRING,
              m->call_sid ? m->call_sid : "", "stream-sid", G_TYPE_STRING,
              m->stream_sid ? m->stream_sid : "", NULL));
      item = g_new0 (GstTwilioStreamItem, 1);
      item->type = GST_TWILIO_STREAM_ITEM_END;
      g_mutex_lock (&stream->lock);
      push_item_locked (stream, item);
      g_mutex_unlock (&stream->lock);
      break;
    case TWILIO_EVENT_CLEAR:
    case TWILIO_EVENT_UNKNOWN:
      /* The parser rejects these for messages from Twilio. */
      break;
  }
}

/* A loop-driven src to hand the queued items to (ref'd, with its handler),
 * or NULL: the threaded src was woken by push_item_locked () already. */
static GstElement *
ref_src_to_notify (GstTwilioStream * stream, GstTwilioStreamItemsFunc * func)
{
  GstElement *src = NULL;

  g_mutex_lock (&stream->lock);
  if (stream->items_func && !g_queue_is_empty (&stream->items)) {
    *func = stream->items_func;
    src = g_weak_ref_get (&stream->src);
  }
  g_mutex_unlock (&stream->lock);
  return src;
}

/* Outside the link's lock: the src pushes downstream from here, and a
 * sink on the same call sends inline (which takes that lock). */
static void
notify_src (GstElement * src, GstTwilioStreamItemsFunc func)
{
  if (src == NULL)
    return;
  func (src);
  gst_object_unref (src);
}

static void
on_message (SoupWebsocketConnection * conn, gint type, GBytes * message,
    TwilioLink * link)
{
  gsize size;
  const gchar *data = g_bytes_get_data (message, &size);
  GstTwilioStream *stream;
  GstElement *src = NULL;
  GstTwilioStreamItemsFunc func = NULL;
  gsize max;

  g_mutex_lock (&link->lock);
  stream = link->stream;
  if (stream == NULL)
    goto out;

  g_mutex_lock (&stream->lock);
  max = stream->max_message_size;
  g_mutex_unlock (&stream->lock);

  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    gchar *details = g_strdup_printf ("binary frame of %" G_GSIZE_FORMAT
        " bytes; Media Streams uses text frames only", size);

    gst_twilio_stream_post_warning (stream, "Binary WebSocket frame ignored",
        details);
    g_free (details);
  } else if (size > max) {
    gchar *details = g_strdup_printf ("message of %" G_GSIZE_FORMAT
        " bytes exceeds the limit of %" G_GSIZE_FORMAT " bytes", size, max);

    gst_twilio_stream_post_warning (stream, "Oversize message ignored",
        details);
    g_free (details);
  } else {
    handle_text (stream, data, size);
    src = ref_src_to_notify (stream, &func);
  }
out:
  g_mutex_unlock (&link->lock);
  notify_src (src, func);
}

static void
on_closed (SoupWebsocketConnection * conn, TwilioLink * link)
{
  GstTwilioStream *stream;
  GstTwilioStreamItem *item;
  GstElement *src;
  GstTwilioStreamItemsFunc func = NULL;
  const gchar *reason;

  g_mutex_lock (&link->lock);
  stream = link->stream;
  if (stream == NULL) {
    g_mutex_unlock (&link->lock);
    return;
  }
  reason = soup_websocket_connection_get_close_data (conn);
  gst_twilio_stream_post_structure (stream, FALSE,
      gst_structure_new ("twilio-closed", "code", G_TYPE_INT,
          (gint) soup_websocket_connection_get_close_code (conn), "reason",
          G_TYPE_STRING, reason ? reason : "", NULL));

  item = g_new0 (GstTwilioStreamItem, 1);
  item->type = GST_TWILIO_STREAM_ITEM_END;
  g_mutex_lock (&stream->lock);
  stream->closed = TRUE;
  push_item_locked (stream, item);
  g_cond_broadcast (&stream->cond);
  g_mutex_unlock (&stream->lock);
  src = ref_src_to_notify (stream, &func);
  g_mutex_unlock (&link->lock);
  notify_src (src, func);
}

static void
on_error (SoupWebsocketConnection * conn, GError * error, TwilioLink * link)
{
  GST_DEBUG ("WebSocket error: %s", error->message);
}

static void
release_when_closed (SoupWebsocketConnection * conn, gpointer user_data)
{
  g_signal_handlers_disconnect_by_func (conn, release_when_closed, user_data);
  g_object_unref (conn);
}

/* Closes @conn (if open) and keeps it alive until the close handshake is
 * over, whoever else drops it. On @conn's context. */
static void
close_and_release (SoupWebsocketConnection * conn, gushort code,
    const gchar * reason)
{
  if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_CLOSED)
    return;
  g_signal_connect (g_object_ref (conn), "closed",
      G_CALLBACK (release_when_closed), NULL);
  if (soup_websocket_connection_get_state (conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (conn, code, reason);
}

/* On the thread that runs @context. */
static void
attach_connection (GstTwilioStream * stream,
    SoupWebsocketConnection * connection, GMainContext * context,
    gboolean on_server)
{
  TwilioLink *link;

  g_mutex_lock (&stream->lock);
  if (stream->link != NULL) {
    g_mutex_unlock (&stream->lock);
    gst_twilio_stream_post_warning (stream,
        "Second WebSocket connection refused",
        "this stream already serves a call; closing the new one (1013)");
    close_and_release (connection, 1013, "busy");
    return;
  }

  link = g_new0 (TwilioLink, 1);
  link->ref_count = 1;
  g_mutex_init (&link->lock);
  link->stream = stream;
  link->conn = g_object_ref (connection);
  link->context = context ? g_main_context_ref (context) :
      g_main_context_ref_thread_default ();
  stream->link = link;
  stream->link_on_server = on_server;
  stream->closed = FALSE;
  g_mutex_unlock (&stream->lock);

  /* Oversize frames are dropped by us with a warning; libsoup's own limit
   * (which closes the socket) only guards memory. */
  g_object_set (connection, "max-incoming-payload-size",
      (guint64) GST_TWILIO_STREAM_HARD_LIMIT, NULL);
  g_signal_connect (connection, "message", G_CALLBACK (on_message), link);
  g_signal_connect (connection, "closed", G_CALLBACK (on_closed), link);
  g_signal_connect (connection, "error", G_CALLBACK (on_error), link);
  GST_INFO ("stream %s: WebSocket attached", stream->name);

  g_mutex_lock (&stream->lock);
  gst_twilio_stream_schedule_flush_locked (stream);
  g_mutex_unlock (&stream->lock);
}

void
gst_twilio_stream_attach_connection (GstTwilioStream * stream,
    SoupWebsocketConnection * connection, GMainContext * context)
{
  g_return_if_fail (SOUP_IS_WEBSOCKET_CONNECTION (connection));

  attach_connection (stream, connection, context, FALSE);
}

/* On the link's context: the application's connection outlives the
 * stream; it is closed (1000) and released once the handshake is over. */
static gboolean
detach_link_cb (gpointer user_data)
{
  TwilioLink *link = user_data;

  g_signal_handlers_disconnect_by_data (link->conn, link);
  close_and_release (link->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  return G_SOURCE_REMOVE;
}

/* ---- standalone server ---------------------------------------------- */

static void
on_server_connection (SoupWebsocketConnection * connection,
    GMainContext * context, gpointer user_data)
{
  attach_connection (user_data, connection, context, TRUE);
}

static void
on_server_refused (const gchar * details, gpointer user_data)
{
  gst_twilio_stream_post_warning (user_data, "WebSocket upgrade refused",
      details);
}

gboolean
gst_twilio_stream_start_server (GstTwilioStream * stream,
    const gchar * address, gint port, const gchar * path,
    const gchar * auth_token, const gchar * public_url, gint * bound_port,
    GError ** error)
{
  GstTwilioServerConfig config = { address, port, path, auth_token,
    public_url
  };
  gboolean ok = TRUE;

  g_mutex_lock (&stream->server_lock);
  /* A server already running (another start of the src) is kept. */
  if (stream->server == NULL)
    stream->server = gst_twilio_server_new (&config, on_server_connection,
        on_server_refused, stream, error);
  if (stream->server && bound_port)
    *bound_port = gst_twilio_server_get_port (stream->server);
  ok = stream->server != NULL;
  g_mutex_unlock (&stream->server_lock);
  return ok;
}

/* ---- registry --------------------------------------------------------- */

GstTwilioStream *
gst_twilio_stream_get (const gchar * name)
{
  GstTwilioStream *stream = NULL;
  GList *l;

  g_mutex_lock (&registry_lock);
  for (l = registry; l; l = l->next) {
    GstTwilioStream *s = l->data;
    if (g_str_equal (s->name, name)) {
      stream = s;
      stream->ref_count++;
      break;
    }
  }
  if (!stream) {
    stream = g_new0 (GstTwilioStream, 1);
    stream->name = g_strdup (name);
    stream->ref_count = 1;
    g_mutex_init (&stream->lock);
    g_mutex_init (&stream->server_lock);
    g_cond_init (&stream->cond);
    g_cond_init (&stream->items_cond);
    stream->max_message_size = GST_TWILIO_STREAM_DEFAULT_MAX_MESSAGE_SIZE;
    stream->played = GST_CLOCK_TIME_NONE;
    g_queue_init (&stream->items);
    g_queue_init (&stream->held);
    g_queue_init (&stream->out_texts);
    g_queue_init (&stream->marks);
    g_weak_ref_init (&stream->src, NULL);
    g_weak_ref_init (&stream->sink, NULL);
    registry = g_list_prepend (registry, stream);
  }
  g_mutex_unlock (&registry_lock);

  return stream;
}

static void
stream_free (GstTwilioStream * stream)
{
  TwilioLink *link;

  /* Closes the socket the server accepted (handshake included) and ends
   * its thread: no callback runs on its context after this. */
  g_clear_pointer (&stream->server, gst_twilio_server_free);

  g_mutex_lock (&stream->lock);
  link = g_steal_pointer (&stream->link);
  g_mutex_unlock (&stream->lock);
  if (link) {
    g_mutex_lock (&link->lock);
    link->stream = NULL;
    g_mutex_unlock (&link->lock);
    if (stream->link_on_server) {
      /* Its loop has ended: nothing else touches the connection now. */
      g_signal_handlers_disconnect_by_data (link->conn, link);
      twilio_link_unref (link);
    } else {
      g_main_context_invoke_full (link->context, G_PRIORITY_DEFAULT,
          detach_link_cb, link, (GDestroyNotify) twilio_link_unref);
    }
  }
  g_mutex_clear (&stream->server_lock);
  g_free (stream->stream_sid);
  g_free (stream->account_sid);
  g_free (stream->call_sid);
  g_queue_clear_full (&stream->items,
      (GDestroyNotify) gst_twilio_stream_item_free);
  gst_twilio_stream_free_outbound (stream);
  g_weak_ref_clear (&stream->src);
  g_weak_ref_clear (&stream->sink);
  g_mutex_clear (&stream->lock);
  g_cond_clear (&stream->cond);
  g_cond_clear (&stream->items_cond);
  g_free (stream->name);
  g_free (stream);
}

void
gst_twilio_stream_unref (GstTwilioStream * stream)
{
  gboolean last;

  g_mutex_lock (&registry_lock);
  last = --stream->ref_count == 0;
  if (last)
    registry = g_list_remove (registry, stream);
  g_mutex_unlock (&registry_lock);

  if (last)
    stream_free (stream);
}

const gchar *
gst_twilio_stream_get_name (GstTwilioStream * stream)
{
  return stream->name;
}

void
gst_twilio_stream_set_src (GstTwilioStream * stream, GstElement * src)
{
  g_weak_ref_set (&stream->src, src);
}

void
gst_twilio_stream_set_sink (GstTwilioStream * stream, GstElement * sink)
{
  g_weak_ref_set (&stream->sink, sink);
}

void
gst_twilio_stream_set_max_message_size (GstTwilioStream * stream, gsize size)
{
  g_mutex_lock (&stream->lock);
  stream->max_message_size = size;
  g_mutex_unlock (&stream->lock);
}

/* ---- src side --------------------------------------------------------- */

GstFlowReturn
gst_twilio_stream_pop_items (GstTwilioStream * stream, GQueue * items)
{
  GstFlowReturn ret = GST_FLOW_OK;

  g_mutex_lock (&stream->lock);
  while (!stream->src_flushing && g_queue_is_empty (&stream->items))
    g_cond_wait (&stream->items_cond, &stream->lock);
  if (stream->src_flushing) {
    ret = GST_FLOW_FLUSHING;
  } else {
    /* Hand over the whole batch: one lock and one wake-up for all of it. */
    *items = stream->items;
    g_queue_init (&stream->items);
  }
  g_mutex_unlock (&stream->lock);
  return ret;
}

void
gst_twilio_stream_unpop_items (GstTwilioStream * stream, GQueue * items)
{
  GstTwilioStreamItem *item;

  g_mutex_lock (&stream->lock);
  while ((item = g_queue_pop_tail (items)))
    g_queue_push_head (&stream->items, item);
  if (!g_queue_is_empty (&stream->items))
    g_cond_signal (&stream->items_cond);
  g_mutex_unlock (&stream->lock);
}

void
gst_twilio_stream_set_src_flushing (GstTwilioStream * stream, gboolean flushing)
{
  g_mutex_lock (&stream->lock);
  stream->src_flushing = flushing;
  g_cond_broadcast (&stream->items_cond);
  g_mutex_unlock (&stream->lock);
}

void
gst_twilio_stream_take_items (GstTwilioStream * stream, GQueue * items)
{
  GstTwilioStreamItem *item;

  g_mutex_lock (&stream->lock);
  while ((item = g_queue_pop_head (&stream->items)))
    g_queue_push_tail (items, item);
  g_mutex_unlock (&stream->lock);
}

void
gst_twilio_stream_queue_eos (GstTwilioStream * stream)
{
  GstTwilioStreamItem *item = g_new0 (GstTwilioStreamItem, 1);

  /* Not the call's end (end_queued): the sink may still wait for its audio
   * to be played. */
  item->type = GST_TWILIO_STREAM_ITEM_EOS;
  g_mutex_lock (&stream->lock);
  push_item_locked (stream, item);
  g_mutex_unlock (&stream->lock);
}

GMainContext *
gst_twilio_stream_ref_link_context (GstTwilioStream * stream)
{
  GMainContext *context = NULL;

  g_mutex_lock (&stream->lock);
  if (stream->link)
    context = g_main_context_ref (stream->link->context);
  g_mutex_unlock (&stream->lock);
  return context;
}

void
gst_twilio_stream_set_items_func (GstTwilioStream * stream,
    GstTwilioStreamItemsFunc func)
{
  g_mutex_lock (&stream->lock);
  stream->items_func = func;
  g_mutex_unlock (&stream->lock);
}

gboolean
gst_twilio_stream_on_link_context (GstTwilioStream * stream)
{
  gboolean owner;

  g_mutex_lock (&stream->lock);
  owner = stream->link && g_main_context_is_owner (stream->link->context);
  g_mutex_unlock (&stream->lock);
  return owner;
}

/* ---- the loop context ------------------------------------------------- */

GMainContext *
gst_twilio_loop_context_get_main_context (GstContext * context)
{
  const GstStructure *s;
  GMainContext *main_context = NULL;

  if (context == NULL || g_strcmp0 (gst_context_get_context_type (context),
          GST_TWILIO_LOOP_CONTEXT_TYPE) != 0)
    return NULL;
  s = gst_context_get_structure (context);
  if (!gst_structure_get (s, GST_TWILIO_LOOP_CONTEXT_FIELD,
          G_TYPE_MAIN_CONTEXT, &main_context, NULL))
    return NULL;
  return main_context;
}

void
gst_twilio_loop_context_store (GstElement * element, GstContext * context,
    GMainContext ** slot)
{
  GMainContext *main_context =
      gst_twilio_loop_context_get_main_context (context);

  if (main_context == NULL)
    return;
  GST_DEBUG_OBJECT (element, "got the call loop's context %p", main_context);
  GST_OBJECT_LOCK (element);
  g_clear_pointer (slot, g_main_context_unref);
  *slot = main_context;
  GST_OBJECT_UNLOCK (element);
}
