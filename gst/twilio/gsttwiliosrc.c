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
 * The element is a live source (no preroll; LATENCY: live, min =
 * #GstTwilioSrc:latency, max none: audio is queued, never dropped). It is
 * a plain #GstElement, not a #GstBaseSrc, so the generic base source
 * properties (num-buffers, blocksize, do-timestamp, typefind) do not exist.
 * An EOS event sent to it (e.g. to the pipeline) is pushed after the audio
 * already received.
 *
 * ## Loop-driven calls
 *
 * By default the element pushes from a streaming thread of its own, which
 * takes everything the connection's loop received since its last wake-up
 * and pushes contiguous media as one buffer (at most 200 ms). An
 * application that serves the call's connection on a loop thread of its own
 * (the call loop) can set the `gst-realtime-bridge.loop` #GstContext (field
 * `main-context`, the call loop's #GMainContext) on the pipeline before it
 * leaves NULL: when the handed-over #GstTwilioSrc:connection belongs to that
 * context, the element has no streaming thread and pushes each buffer (and
 * the EOS) from the call loop, in the callback that received the message.
 * Audio that arrives while the element is not PLAYING is held and pushed,
 * in order, from the call loop once it is. Downstream must then not block
 * (sinks with `sync=false`, or a `queue`). When the connection belongs to
 * another context, a warning is posted and the streaming thread is used;
 * the standalone server (no connection handed over) always keeps its own
 * thread and the streaming thread.
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

#include "gsttwiliosrcprivate.h"
#include "twilioprotocol.h"

GST_DEBUG_CATEGORY (gst_twilio_src_debug);
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

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("audio/x-mulaw, rate = (int) 8000, channels = (int) 1"));

#define gst_twilio_src_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstTwilioSrc, gst_twilio_src, GST_TYPE_ELEMENT,
    GST_DEBUG_CATEGORY_INIT (gst_twilio_src_debug, "twiliosrc", 0,
        "Twilio Media Streams source"));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (twiliosrc, "twiliosrc", GST_RANK_NONE,
    GST_TYPE_TWILIO_SRC, twilio_element_init (plugin));

static void gst_twilio_src_finalize (GObject * object);
static void gst_twilio_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_twilio_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_twilio_src_change_state (GstElement * element,
    GstStateChange transition);
static void gst_twilio_src_set_context (GstElement * element,
    GstContext * context);
static gboolean gst_twilio_src_send_event (GstElement * element,
    GstEvent * event);
static gboolean gst_twilio_src_src_query (GstPad * pad, GstObject * parent,
    GstQuery * query);
static gboolean gst_twilio_src_src_event (GstPad * pad, GstObject * parent,
    GstEvent * event);

static void
gst_twilio_src_class_init (GstTwilioSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

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

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_twilio_src_change_state);
  element_class->set_context = GST_DEBUG_FUNCPTR (gst_twilio_src_set_context);
  element_class->send_event = GST_DEBUG_FUNCPTR (gst_twilio_src_send_event);
}

static void
gst_twilio_src_init (GstTwilioSrc * self)
{
  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_activatemode_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_twilio_src_activate_mode));
  gst_pad_set_query_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_twilio_src_src_query));
  gst_pad_set_event_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_twilio_src_src_event));
  gst_pad_use_fixed_caps (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);
  /* What GstBaseSrc sets: bins treat us as a source (state order, EOS). */
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SOURCE);

  self->stream_name = g_strdup (DEFAULT_STREAM);
  self->port = DEFAULT_PORT;
  self->address = g_strdup (DEFAULT_ADDRESS);
  self->path = g_strdup (DEFAULT_PATH);
  self->max_message_size = GST_TWILIO_STREAM_DEFAULT_MAX_MESSAGE_SIZE;
  self->latency_ms = DEFAULT_LATENCY_MS;
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->pending);
}

static void
gst_twilio_src_finalize (GObject * object)
{
  GstTwilioSrc *self = GST_TWILIO_SRC (object);

  g_queue_clear_full (&self->pending,
      (GDestroyNotify) gst_twilio_stream_item_free);
  g_clear_pointer (&self->stream, gst_twilio_stream_unref);
  g_clear_pointer (&self->loop_context, g_main_context_unref);
  g_free (self->stream_name);
  g_free (self->address);
  g_free (self->path);
  g_free (self->auth_token);
  g_free (self->public_url);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);

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

/* ---- states ------------------------------------------------------------ */

/* Loop-driven when the application gave a call loop and the connection is
 * served on it; otherwise (standalone server, a connection accepted
 * elsewhere) the threaded default. */
static gboolean
decide_loop_driven (GstTwilioSrc * self, GMainContext * loop_context)
{
  GMainContext *link_context;
  gboolean ok;

  if (loop_context == NULL)
    return FALSE;
  link_context = gst_twilio_stream_ref_link_context (self->stream);
  ok = link_context == loop_context;
  if (link_context == NULL) {
    GST_INFO_OBJECT (self, "call loop given, but no handed-over connection: "
        "the standalone server keeps its own thread; threaded mode");
  } else if (!ok) {
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS,
        ("The connection is not served on the call loop; using a streaming "
            "thread"), ("the connection was accepted on another GMainContext "
            "than the one of the %s context", GST_TWILIO_LOOP_CONTEXT_TYPE));
  }
  g_clear_pointer (&link_context, g_main_context_unref);
  return ok;
}

static gboolean
gst_twilio_src_start (GstTwilioSrc * self)
{
  gchar *address, *path, *token, *url;
  GMainContext *loop_context;
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
  loop_context = self->loop_context ?
      g_main_context_ref (self->loop_context) : NULL;
  GST_OBJECT_UNLOCK (self);

  gst_twilio_src_timeline_reset (&self->timeline);
  self->need_start_events = TRUE;
  self->finished = FALSE;
  gst_twilio_stream_set_src (self->stream, GST_ELEMENT (self));

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
    g_clear_pointer (&loop_context, g_main_context_unref);
    gst_twilio_stream_set_src (self->stream, NULL);
    GST_OBJECT_LOCK (self);
    g_clear_pointer (&self->stream, gst_twilio_stream_unref);
    GST_OBJECT_UNLOCK (self);
    return FALSE;
  }
  g_free (address);

  g_mutex_lock (&self->lock);
  self->loop_driven = decide_loop_driven (self, loop_context);
  g_mutex_unlock (&self->lock);
  g_clear_pointer (&loop_context, g_main_context_unref);
  GST_INFO_OBJECT (self, "%s", self->loop_driven ?
      "loop-driven: pushing from the call loop" : "own streaming thread");

  if (!have_connection) {
    GST_INFO_OBJECT (self, "listening on port %d", bound);
    GST_OBJECT_LOCK (self);
    self->current_port = bound;
    GST_OBJECT_UNLOCK (self);
    g_object_notify (G_OBJECT (self), "current-port");
  }
  return TRUE;
}

/* After the pad is deactivated: nothing pushes any more. */
static void
gst_twilio_src_stop (GstTwilioSrc * self)
{
  GstTwilioStream *stream;

  gst_twilio_src_cancel_catch_up (self);
  GST_OBJECT_LOCK (self);
  stream = self->stream;
  self->stream = NULL;
  self->current_port = 0;
  GST_OBJECT_UNLOCK (self);

  if (stream) {
    gst_twilio_stream_set_items_func (stream, NULL);
    /* Taken from the stream but not pushed: back where they came from. */
    gst_twilio_stream_unpop_items (stream, &self->pending);
    gst_twilio_stream_set_src (stream, NULL);
    gst_twilio_stream_unref (stream);
  }
  g_mutex_lock (&self->lock);
  self->loop_driven = FALSE;
  g_mutex_unlock (&self->lock);
}

static GstStateChangeReturn
gst_twilio_src_change_state (GstElement * element, GstStateChange transition)
{
  GstTwilioSrc *self = GST_TWILIO_SRC (element);
  GstStateChangeReturn ret;
  gboolean loop_driven;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!gst_twilio_src_start (self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
      g_mutex_lock (&self->lock);
      self->playing = TRUE;
      loop_driven = self->loop_driven;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
      if (loop_driven)
        gst_twilio_src_schedule_catch_up (self);
      break;
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      g_mutex_lock (&self->lock);
      self->playing = FALSE;
      g_mutex_unlock (&self->lock);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    if (transition == GST_STATE_CHANGE_READY_TO_PAUSED)
      gst_twilio_src_stop (self);
    return ret;
  }

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      /* Live: no preroll. */
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      gst_twilio_src_stop (self);
      break;
    default:
      break;
  }
  return ret;
}

static void
gst_twilio_src_set_context (GstElement * element, GstContext * context)
{
  gst_twilio_loop_context_store (element, context,
      &GST_TWILIO_SRC (element)->loop_context);
  GST_ELEMENT_CLASS (parent_class)->set_context (element, context);
}

/* ---- events and queries -------------------------------------------- */

/* An EOS sent to the element (e.g. to the pipeline) goes out after what is
 * queued, from where buffers are pushed. */
static gboolean
gst_twilio_src_send_event (GstElement * element, GstEvent * event)
{
  GstTwilioSrc *self = GST_TWILIO_SRC (element);
  gboolean ok = FALSE;

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    gboolean loop_driven;

    /* The object lock keeps the stream from being released meanwhile. */
    GST_OBJECT_LOCK (self);
    if (self->stream && GST_STATE (self) >= GST_STATE_PAUSED) {
      gst_twilio_stream_queue_eos (self->stream);
      ok = TRUE;
    }
    GST_OBJECT_UNLOCK (self);
    g_mutex_lock (&self->lock);
    loop_driven = self->loop_driven;
    g_mutex_unlock (&self->lock);
    if (ok && loop_driven && gst_twilio_src_is_playing (self))
      gst_twilio_src_schedule_catch_up (self);
    gst_event_unref (event);
    return ok;
  }
  return GST_ELEMENT_CLASS (parent_class)->send_event (element, event);
}

static gboolean
gst_twilio_src_src_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_RECONFIGURE:
    case GST_EVENT_LATENCY:
      /* One fixed format; latency needs nothing from us. */
      gst_event_unref (event);
      return TRUE;
    default:
      return gst_pad_event_default (pad, parent, event);
  }
}

static gboolean
gst_twilio_src_src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstTwilioSrc *self = GST_TWILIO_SRC (parent);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_LATENCY:{
      guint latency_ms;

      GST_OBJECT_LOCK (self);
      latency_ms = self->latency_ms;
      GST_OBJECT_UNLOCK (self);
      /* Audio is queued, never dropped: no upper bound. */
      gst_query_set_latency (query, TRUE, latency_ms * GST_MSECOND,
          GST_CLOCK_TIME_NONE);
      return TRUE;
    }
    case GST_QUERY_SCHEDULING:
      gst_query_set_scheduling (query, GST_SCHEDULING_FLAG_SEQUENTIAL, 1, -1,
          0);
      gst_query_add_scheduling_mode (query, GST_PAD_MODE_PUSH);
      return TRUE;
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}
