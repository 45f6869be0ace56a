/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-twiliosrc
 * @title: twiliosrc
 *
 * Receives a phone call's audio from Twilio Media Streams (bidirectional
 * `<Connect><Stream>`), as live `audio/x-mulaw, rate=8000, channels=1`.
 *
 * Either the element runs its own WebSocket server (#GstTwilioSrc:port,
 * #GstTwilioSrc:address, #GstTwilioSrc:path) so that a Twilio number behind
 * a tunnel can stream to it, or an application hands it an accepted
 * #SoupWebsocketConnection (#GstTwilioSrc:connection). A twiliosink with
 * the same #GstTwilioSrc:stream name sends audio back on the same socket.
 *
 * Buffers are timestamped from Twilio's media `timestamp` (the first buffer
 * is aligned to the running time at which it arrived); gaps in the
 * timestamps are filled with μ-law silence (0xFF) so that downstream sees
 * continuous audio. The first buffer is flagged DISCONT, and so is a buffer
 * after a jump of more than a minute (not filled). `stop` from Twilio or the
 * socket closing ends the stream with EOS. A `start` whose mediaFormat is
 * not μ-law 8000 Hz mono is an element error naming the format that came.
 *
 * With #GstTwilioSrc:auth-token set, the WebSocket upgrade must carry a
 * valid `X-Twilio-Signature` over #GstTwilioSrc:public-url (or, when that is
 * unset, `wss://` + Host + path); otherwise it is refused with 403.
 *
 * Malformed JSON, unknown events, wrong types, invalid base64, binary
 * frames and messages over #GstTwilioSrc:max-message-size are ignored with
 * a warning message on the bus; the call goes on.
 *
 * ## Element messages
 *
 * - `twilio-connected`: `protocol`, `version` (strings)
 * - `twilio-start`: `account-sid`, `call-sid`, `stream-sid` (strings),
 *   `tracks` (strv), `custom-parameters` (GstStructure named
 *   `custom-parameters`, string fields), `encoding` (string), `sample-rate`,
 *   `channels` (ints)
 * - `twilio-dtmf`: `digit`, `track`, `stream-sid` (strings)
 * - `twilio-stop`: `account-sid`, `call-sid`, `stream-sid` (strings)
 * - `twilio-closed`: `code` (int), `reason` (string)
 * - `twilio-mark` and `twilio-clear` are posted by the twiliosink (by this
 *   element when there is no sink on the stream).
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 twiliosrc port=8081 ! queue ! twiliosink
 * ]| An echo test: the caller hears themself.
 * |[
 * gst-launch-1.0 -e twiliosrc port=8081 ! mulawdec ! wavenc ! filesink location=call.wav
 * ]| Records the caller to a WAV file.
 * |[
 * gst-launch-1.0 twiliosrc port=8081 auth-token=$TWILIO_AUTH_TOKEN public-url=wss://example.com/call ! mulawdec ! autoaudiosink
 * ]| Plays the caller; only signed upgrades from Twilio are accepted.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "gsttwiliosrc.h"
#include "gsttwiliostream.h"
#include "twilioprotocol.h"

GST_DEBUG_CATEGORY_STATIC (gst_twilio_src_debug);
#define GST_CAT_DEFAULT gst_twilio_src_debug

enum
{
  PROP_0,
  PROP_STREAM,
  PROP_PORT,
  PROP_CURRENT_PORT,
  PROP_ADDRESS,
  PROP_PATH,
  PROP_AUTH_TOKEN,
  PROP_PUBLIC_URL,
  PROP_CONNECTION,
  PROP_MAX_MESSAGE_SIZE,
  PROP_LATENCY,
};

#define DEFAULT_STREAM "default"
#define DEFAULT_PORT 8081
#define DEFAULT_ADDRESS "0.0.0.0"
#define DEFAULT_PATH "/call"
#define DEFAULT_LATENCY_MS 60
/* Timestamp jitter below half a frame is not a gap. */
#define TOLERANCE_SAMPLES (TWILIO_SAMPLE_RATE / 100)
/* Longer gaps are not filled (DISCONT instead). */
#define MAX_FILL_SAMPLES (60 * TWILIO_SAMPLE_RATE)
/* Contiguous media found queued together go out as one buffer of at most
 * this much audio (a backlog after a stall is caught up in few pushes). */
#define MAX_MERGE_SAMPLES (TWILIO_SAMPLE_RATE / 5)

struct _GstTwilioSrc
{
  GstPushSrc parent;

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

  /* set in start () or when a connection is handed over; released in
   * stop () */
  GstTwilioStream *stream;

  /* streaming thread */
  GQueue pending;               /* items handed over, not consumed yet */
  gboolean have_first;
  gint64 origin;                /* Twilio time (samples) of offset 0 */
  guint64 next_offset;          /* samples pushed so far, incl. silence */
  GstClockTime base_pts;
  gboolean discont;
};

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("audio/x-mulaw, rate = (int) 8000, channels = (int) 1"));

#define gst_twilio_src_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstTwilioSrc, gst_twilio_src, GST_TYPE_PUSH_SRC,
    GST_DEBUG_CATEGORY_INIT (gst_twilio_src_debug, "twiliosrc", 0,
        "Twilio Media Streams source"));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (twiliosrc, "twiliosrc", GST_RANK_NONE,
    GST_TYPE_TWILIO_SRC, twilio_element_init (plugin));

static void gst_twilio_src_finalize (GObject * object);
static void gst_twilio_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_twilio_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_twilio_src_start (GstBaseSrc * src);
static gboolean gst_twilio_src_stop (GstBaseSrc * src);
static gboolean gst_twilio_src_unlock (GstBaseSrc * src);
static gboolean gst_twilio_src_unlock_stop (GstBaseSrc * src);
static gboolean gst_twilio_src_query (GstBaseSrc * src, GstQuery * query);
static GstFlowReturn gst_twilio_src_create (GstPushSrc * src, GstBuffer ** buf);

static void
gst_twilio_src_class_init (GstTwilioSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);

  gobject_class->finalize = gst_twilio_src_finalize;
  gobject_class->set_property = gst_twilio_src_set_property;
  gobject_class->get_property = gst_twilio_src_get_property;

  /**
   * GstTwilioSrc:stream:
   *
   * Name of the stream object shared with the twiliosink of the same call.
   * Set it before #GstTwilioSrc:connection.
   */
  g_object_class_install_property (gobject_class, PROP_STREAM,
      g_param_spec_string ("stream", "Stream",
          "Name of the stream shared with the twiliosink of the same call",
          DEFAULT_STREAM, G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));
  /**
   * GstTwilioSrc:port:
   *
   * TCP port of the standalone WebSocket server; 0 picks a free port (see
   * #GstTwilioSrc:current-port).
   */
  g_object_class_install_property (gobject_class, PROP_PORT,
      g_param_spec_int ("port", "Port",
          "Port of the standalone WebSocket server (0 = any free port)", 0,
          G_MAXUINT16, DEFAULT_PORT, G_PARAM_READWRITE |
          GST_PARAM_MUTABLE_READY | G_PARAM_STATIC_STRINGS));
  /**
   * GstTwilioSrc:current-port:
   *
   * The port the server is bound to (notified once it listens), 0 before.
   */
  g_object_class_install_property (gobject_class, PROP_CURRENT_PORT,
      g_param_spec_int ("current-port", "Current port",
          "The port the standalone server is bound to (0 when not listening)",
          0, G_MAXUINT16, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstTwilioSrc:address:
   *
   * Address the standalone server listens on.
   */
  g_object_class_install_property (gobject_class, PROP_ADDRESS,
      g_param_spec_string ("address", "Address",
          "Address the standalone server listens on", DEFAULT_ADDRESS,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));
  /**
   * GstTwilioSrc:path:
   *
   * HTTP path on which the WebSocket upgrade is accepted.
   */
  g_object_class_install_property (gobject_class, PROP_PATH,
      g_param_spec_string ("path", "Path", "WebSocket path", DEFAULT_PATH,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));
  /**
   * GstTwilioSrc:auth-token:
   *
   * Twilio auth token (write-only). When set, the upgrade needs a valid
   * X-Twilio-Signature or is refused with 403.
   */
  g_object_class_install_property (gobject_class, PROP_AUTH_TOKEN,
      g_param_spec_string ("auth-token", "Auth token",
          "Twilio auth token: upgrades need a valid X-Twilio-Signature "
          "(write-only)", NULL, G_PARAM_WRITABLE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));
  /**
   * GstTwilioSrc:public-url:
   *
   * The URL Twilio connects to, as it signs it (the `<Stream url>`, e.g.
   * `wss://example.com/call`).
   */
  g_object_class_install_property (gobject_class, PROP_PUBLIC_URL,
      g_param_spec_string ("public-url", "Public URL",
          "The wss:// URL Twilio connects to, as signed", NULL,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));
  /**
   * GstTwilioSrc:connection:
   *
   * An accepted #SoupWebsocketConnection handed over by an application
   * (write-only). Set it from the thread whose thread-default main context
   * serves the connection; all its I/O then runs on that context. No
   * server is started then.
   */
  g_object_class_install_property (gobject_class, PROP_CONNECTION,
      g_param_spec_object ("connection", "Connection",
          "An accepted SoupWebsocketConnection to serve instead of a server "
          "(write-only; set it from the connection's context thread)",
          SOUP_TYPE_WEBSOCKET_CONNECTION,
          G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstTwilioSrc:max-message-size:
   *
   * Text frames larger than this are ignored with a warning.
   */
  g_object_class_install_property (gobject_class, PROP_MAX_MESSAGE_SIZE,
      g_param_spec_uint ("max-message-size", "Max message size",
          "Incoming messages larger than this (bytes) are ignored with a "
          "warning", 1, GST_TWILIO_STREAM_HARD_LIMIT,
          GST_TWILIO_STREAM_DEFAULT_MAX_MESSAGE_SIZE, G_PARAM_READWRITE |
          GST_PARAM_MUTABLE_READY | G_PARAM_STATIC_STRINGS));
  /**
   * GstTwilioSrc:latency:
   *
   * Latency reported in the LATENCY query: network jitter this much is
   * absorbed downstream.
   */
  g_object_class_install_property (gobject_class, PROP_LATENCY,
      g_param_spec_uint ("latency", "Latency",
          "Reported latency in milliseconds (absorbs network jitter)",
          TWILIO_FRAME_MS, 10000, DEFAULT_LATENCY_MS, G_PARAM_READWRITE |
          GST_PARAM_MUTABLE_READY | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Twilio Media Streams source", "Source/Audio/Network",
      "Receives a phone call's audio from Twilio Media Streams",
      "gst-realtime-bridge developers");

  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_twilio_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_twilio_src_stop);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_twilio_src_unlock);
  basesrc_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_twilio_src_unlock_stop);
  basesrc_class->query = GST_DEBUG_FUNCPTR (gst_twilio_src_query);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_twilio_src_create);
}

static void
gst_twilio_src_init (GstTwilioSrc * self)
{
  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
  self->stream_name = g_strdup (DEFAULT_STREAM);
  self->port = DEFAULT_PORT;
  self->address = g_strdup (DEFAULT_ADDRESS);
  self->path = g_strdup (DEFAULT_PATH);
  self->max_message_size = GST_TWILIO_STREAM_DEFAULT_MAX_MESSAGE_SIZE;
  self->latency_ms = DEFAULT_LATENCY_MS;
  g_queue_init (&self->pending);
}

static void
gst_twilio_src_finalize (GObject * object)
{
  GstTwilioSrc *self = GST_TWILIO_SRC (object);

  g_queue_clear_full (&self->pending,
      (GDestroyNotify) gst_twilio_stream_item_free);
  g_clear_pointer (&self->stream, gst_twilio_stream_unref);
  g_free (self->stream_name);
  g_free (self->address);
  g_free (self->path);
  g_free (self->auth_token);
  g_free (self->public_url);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
attach_connection (GstTwilioSrc * self, SoupWebsocketConnection * conn)
{
  GstTwilioStream *stream;

  if (conn == NULL)
    return;
  GST_OBJECT_LOCK (self);
  if (self->stream == NULL)
    self->stream = gst_twilio_stream_get (self->stream_name);
  stream = self->stream;
  gst_twilio_stream_set_max_message_size (stream, self->max_message_size);
  GST_OBJECT_UNLOCK (self);

  /* Synchronously, on the connection's thread, so that no message that
   * arrives meanwhile is missed (see docs/design.md "Threads"). */
  gst_twilio_stream_set_src (stream, GST_ELEMENT (self));
  gst_twilio_stream_attach_connection (stream, conn, NULL);
}

static void
gst_twilio_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstTwilioSrc *self = GST_TWILIO_SRC (object);

  if (prop_id == PROP_CONNECTION) {
    attach_connection (self, g_value_get_object (value));
    return;
  }

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_STREAM:
      g_free (self->stream_name);
      self->stream_name = g_value_dup_string (value);
      if (self->stream_name == NULL)
        self->stream_name = g_strdup (DEFAULT_STREAM);
      break;
    case PROP_PORT:
      self->port = g_value_get_int (value);
      break;
    case PROP_ADDRESS:
      g_free (self->address);
      self->address = g_value_dup_string (value);
      break;
    case PROP_PATH:
      g_free (self->path);
      self->path = g_value_dup_string (value);
      break;
    case PROP_AUTH_TOKEN:
      g_free (self->auth_token);
      self->auth_token = g_value_dup_string (value);
      break;
    case PROP_PUBLIC_URL:
      g_free (self->public_url);
      self->public_url = g_value_dup_string (value);
      break;
    case PROP_MAX_MESSAGE_SIZE:
      self->max_message_size = g_value_get_uint (value);
      break;
    case PROP_LATENCY:
      self->latency_ms = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_twilio_src_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstTwilioSrc *self = GST_TWILIO_SRC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_STREAM:
      g_value_set_string (value, self->stream_name);
      break;
    case PROP_PORT:
      g_value_set_int (value, self->port);
      break;
    case PROP_CURRENT_PORT:
      g_value_set_int (value, self->current_port);
      break;
    case PROP_ADDRESS:
      g_value_set_string (value, self->address);
      break;
    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;
    case PROP_PUBLIC_URL:
      g_value_set_string (value, self->public_url);
      break;
    case PROP_MAX_MESSAGE_SIZE:
      g_value_set_uint (value, self->max_message_size);
      break;
    case PROP_LATENCY:
      g_value_set_uint (value, self->latency_ms);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static gboolean
gst_twilio_src_start (GstBaseSrc * src)
{
  GstTwilioSrc *self = GST_TWILIO_SRC (src);
  gchar *address, *path, *token, *url;
  GError *error = NULL;
  gboolean have_connection;
  gint port, bound = 0;
  gboolean ok;

  GST_OBJECT_LOCK (self);
  have_connection = self->stream != NULL;
  if (self->stream == NULL)
    self->stream = gst_twilio_stream_get (self->stream_name);
  gst_twilio_stream_set_max_message_size (self->stream, self->max_message_size);
  address = g_strdup (self->address);
  path = g_strdup (self->path);
  token = g_strdup (self->auth_token);
  url = g_strdup (self->public_url);
  port = self->port;
  GST_OBJECT_UNLOCK (self);

  self->have_first = FALSE;
  self->next_offset = 0;
  self->discont = TRUE;
  gst_twilio_stream_set_src (self->stream, GST_ELEMENT (self));
  gst_twilio_stream_set_src_flushing (self->stream, FALSE);

  ok = have_connection || gst_twilio_stream_start_server (self->stream,
      address, port, path, token, url, &bound, &error);
  if (token)
    memset (token, 0, strlen (token));
  g_free (token);
  g_free (url);
  g_free (path);

  if (!ok) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Could not listen on %s port %d", address, port), ("%s",
            error->message));
    g_clear_error (&error);
    g_free (address);
    gst_twilio_stream_set_src (self->stream, NULL);
    g_clear_pointer (&self->stream, gst_twilio_stream_unref);
    return FALSE;
  }
  g_free (address);

  if (!have_connection) {
    GST_INFO_OBJECT (self, "listening on port %d", bound);
    GST_OBJECT_LOCK (self);
    self->current_port = bound;
    GST_OBJECT_UNLOCK (self);
    g_object_notify (G_OBJECT (self), "current-port");
  }
  return TRUE;
}

static gboolean
gst_twilio_src_stop (GstBaseSrc * src)
{
  GstTwilioSrc *self = GST_TWILIO_SRC (src);
  GstTwilioStream *stream;

  GST_OBJECT_LOCK (self);
  stream = self->stream;
  self->stream = NULL;
  self->current_port = 0;
  GST_OBJECT_UNLOCK (self);

  if (stream) {
    /* Taken from the stream but not pushed: back where they came from. */
    gst_twilio_stream_unpop_items (stream, &self->pending);
    gst_twilio_stream_set_src (stream, NULL);
    gst_twilio_stream_unref (stream);
  }
  return TRUE;
}

static gboolean
gst_twilio_src_unlock (GstBaseSrc * src)
{
  GstTwilioSrc *self = GST_TWILIO_SRC (src);

  if (self->stream)
    gst_twilio_stream_set_src_flushing (self->stream, TRUE);
  return TRUE;
}

static gboolean
gst_twilio_src_unlock_stop (GstBaseSrc * src)
{
  GstTwilioSrc *self = GST_TWILIO_SRC (src);

  if (self->stream)
    gst_twilio_stream_set_src_flushing (self->stream, FALSE);
  return TRUE;
}

static gboolean
gst_twilio_src_query (GstBaseSrc * src, GstQuery * query)
{
  GstTwilioSrc *self = GST_TWILIO_SRC (src);

  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    guint latency_ms;

    GST_OBJECT_LOCK (self);
    latency_ms = self->latency_ms;
    GST_OBJECT_UNLOCK (self);
    /* Audio is queued, never dropped: no upper bound. */
    gst_query_set_latency (query, TRUE, latency_ms * GST_MSECOND,
        GST_CLOCK_TIME_NONE);
    return TRUE;
  }
  return GST_BASE_SRC_CLASS (parent_class)->query (src, query);
}

static GstClockTime
current_running_time (GstTwilioSrc * self)
{
  GstClock *clock = gst_element_get_clock (GST_ELEMENT (self));
  GstClockTime now, base;

  if (clock == NULL)
    return 0;
  now = gst_clock_get_time (clock);
  base = gst_element_get_base_time (GST_ELEMENT (self));
  gst_object_unref (clock);
  return now > base ? now - base : 0;
}

static GstBuffer *
make_buffer (GstTwilioSrc * self, GstTwilioStreamItem * item)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (item->payload, &size);
  guint64 fill = 0;
  GstBuffer *buf;
  GstMapInfo map;

  if (item->has_timestamp) {
    gint64 twilio_samples = (gint64) item->timestamp_ms * 8;
    gint64 target;

    if (!self->have_first) {
      self->have_first = TRUE;
      self->origin = twilio_samples;
      self->base_pts = current_running_time (self);
    }
    target = twilio_samples - self->origin;
    if (target > (gint64) self->next_offset + TOLERANCE_SAMPLES) {
      guint64 gap = target - self->next_offset;

      if (gap <= MAX_FILL_SAMPLES) {
        fill = gap;
        GST_DEBUG_OBJECT (self, "filling a gap of %" G_GUINT64_FORMAT
            " samples at Twilio time %" G_GUINT64_FORMAT " ms", gap,
            item->timestamp_ms);
      } else {
        GST_WARNING_OBJECT (self, "timestamp jumped by %" G_GUINT64_FORMAT
            " ms; not filled", gap / 8);
        self->next_offset = target;
        self->discont = TRUE;
      }
    } else if (target < (gint64) self->next_offset - TOLERANCE_SAMPLES) {
      /* Overlap: keep our continuous timeline, follow Twilio's from here. */
      GST_DEBUG_OBJECT (self, "timestamp went back by %" G_GINT64_FORMAT
          " samples", (gint64) self->next_offset - target);
      self->origin = twilio_samples - (gint64) self->next_offset;
    }
  } else if (!self->have_first) {
    self->have_first = TRUE;
    self->origin = 0;
    self->base_pts = current_running_time (self);
  }

  if (fill == 0) {
    /* The common case: the decoded payload becomes the buffer, no copy. */
    buf = gst_buffer_new_wrapped_bytes (item->payload);
  } else {
    buf = gst_buffer_new_allocate (NULL, fill + size, NULL);
    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    memset (map.data, TWILIO_MULAW_SILENCE, fill);
    memcpy (map.data + fill, data, size);
    gst_buffer_unmap (buf, &map);
  }

  GST_BUFFER_OFFSET (buf) = self->next_offset;
  GST_BUFFER_OFFSET_END (buf) = self->next_offset + fill + size;
  GST_BUFFER_PTS (buf) = self->base_pts +
      gst_util_uint64_scale_int (self->next_offset, GST_SECOND,
      TWILIO_SAMPLE_RATE);
  GST_BUFFER_DURATION (buf) = self->base_pts +
      gst_util_uint64_scale_int (GST_BUFFER_OFFSET_END (buf), GST_SECOND,
      TWILIO_SAMPLE_RATE) - GST_BUFFER_PTS (buf);
  if (self->discont) {
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
    self->discont = FALSE;
  }
  self->next_offset = GST_BUFFER_OFFSET_END (buf);
  return buf;
}

/* Whether make_buffer () would place @item right after the audio pushed so
 * far, neither filling a gap nor moving the timeline: then it can share the
 * previous buffer with timestamps unchanged. */
static gboolean
continues_timeline (GstTwilioSrc * self, GstTwilioStreamItem * item)
{
  gint64 target;

  if (item->type != GST_TWILIO_STREAM_ITEM_MEDIA
      || g_bytes_get_size (item->payload) == 0)
    return FALSE;
  if (!item->has_timestamp)
    return TRUE;
  target = (gint64) item->timestamp_ms * 8 - self->origin;
  return ABS (target - (gint64) self->next_offset) <= TOLERANCE_SAMPLES;
}

/* Appends the contiguous media queued behind the one just made into @buf:
 * one push downstream (and one hand-off further on) for a whole batch. */
static GstBuffer *
append_contiguous_media (GstTwilioSrc * self, GstBuffer * buf)
{
  GstTwilioStreamItem *item;

  while ((item = g_queue_peek_head (&self->pending))
      && continues_timeline (self, item)
      && GST_BUFFER_OFFSET_END (buf) - GST_BUFFER_OFFSET (buf) +
      g_bytes_get_size (item->payload) <= MAX_MERGE_SAMPLES) {
    gsize size = g_bytes_get_size (item->payload);

    g_queue_pop_head (&self->pending);
    buf = gst_buffer_append (buf, gst_buffer_new_wrapped_bytes (item->payload));
    GST_BUFFER_OFFSET_END (buf) += size;
    GST_BUFFER_DURATION (buf) = self->base_pts +
        gst_util_uint64_scale_int (GST_BUFFER_OFFSET_END (buf), GST_SECOND,
        TWILIO_SAMPLE_RATE) - GST_BUFFER_PTS (buf);
    self->next_offset = GST_BUFFER_OFFSET_END (buf);
    gst_twilio_stream_item_free (item);
  }
  return buf;
}

static GstFlowReturn
gst_twilio_src_create (GstPushSrc * src, GstBuffer ** buf)
{
  GstTwilioSrc *self = GST_TWILIO_SRC (src);

  for (;;) {
    GstTwilioStreamItem *item;

    /* One wake-up takes everything queued; the next waits only once all of
     * it has been pushed. */
    if (g_queue_is_empty (&self->pending)) {
      GstFlowReturn ret = gst_twilio_stream_pop_items (self->stream,
          &self->pending);

      if (ret != GST_FLOW_OK)
        return ret;
    }
    item = g_queue_pop_head (&self->pending);

    switch (item->type) {
      case GST_TWILIO_STREAM_ITEM_MEDIA:
        if (g_bytes_get_size (item->payload) == 0) {
          gst_twilio_stream_item_free (item);
          continue;
        }
        *buf = make_buffer (self, item);
        gst_twilio_stream_item_free (item);
        *buf = append_contiguous_media (self, *buf);
        return GST_FLOW_OK;
      case GST_TWILIO_STREAM_ITEM_END:
        GST_INFO_OBJECT (self, "call ended");
        gst_twilio_stream_item_free (item);
        return GST_FLOW_EOS;
      case GST_TWILIO_STREAM_ITEM_ERROR:
        GST_ELEMENT_ERROR (self, STREAM, FORMAT,
            ("Twilio sent a media format this element cannot handle"),
            ("%s", item->error->message));
        gst_twilio_stream_item_free (item);
        return GST_FLOW_ERROR;
    }
  }
}
