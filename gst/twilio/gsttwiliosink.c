/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-twiliosink
 * @title: twiliosink
 *
 * Sends `audio/x-mulaw, rate=8000, channels=1` to the caller over the
 * Twilio Media Streams WebSocket that the twiliosrc with the same
 * #GstTwilioSink:stream name receives.
 *
 * Audio is rechunked into whole 20 ms frames (160 bytes) and sent as
 * `media` messages carrying the stream's `streamSid`; until Twilio's `start`
 * names the stream, audio is held, never dropped. Each `media` message
 * holds one frame; after at most #GstTwilioSink:mark-interval of them comes
 * a `mark`; Twilio echoes a mark once the audio before it has played, so the
 * element always knows how much the caller has heard, to within one mark
 * interval (20 ms by default; between echoes the position is extrapolated
 * up to the next mark). Marks echoed because of a `clear` are told apart
 * from played ones. A coarser interval means fewer marks and echoes per
 * second; 60 ms kept barge-in truncation within 20 ms in the end-to-end
 * test, 100 ms did not.
 *
 * A POSITION query (TIME) is answered with the stream time of the end of
 * the audio the caller has heard, in the timeline of the buffers received.
 * Converters between an upstream element and this sink (audioresample,
 * audioconvert: any GstBaseTransform) answer POSITION themselves, so the
 * same answer is also given to a custom query (GST_QUERY_CUSTOM) whose
 * structure is named `played-position`, which converters pass on: the sink
 * sets its `position` field (guint64, ns) and the query succeeds; it fails
 * while nothing has been sent yet.
 *
 * |[<!-- language="C" -->
 * GstQuery *q = gst_query_new_custom (GST_QUERY_CUSTOM,
 *     gst_structure_new_empty ("played-position"));
 * guint64 heard;
 * if (gst_pad_peer_query (srcpad, q) && gst_structure_get_uint64
 *         (gst_query_get_structure (q), "position", &heard))
 *   ...
 * gst_query_unref (q);
 * ]|
 *
 * FLUSH_START (barge-in upstream) sends `clear` at once and posts
 * `twilio-clear` with the position the caller had heard at that moment.
 *
 * At EOS the last partial frame is padded with μ-law silence, and with
 * #GstTwilioSink:wait-for-played the EOS is held until Twilio has echoed
 * the last mark (or the call ended), so that a hang-up after a goodbye does
 * not cut it off.
 *
 * The sink does not synchronise on the clock by default: Twilio plays the
 * audio in real time from its own queue.
 *
 * ## Loop-driven calls
 *
 * The element accepts the `gst-realtime-bridge.loop` #GstContext (field
 * `main-context`, a #GMainContext) that an application sets on the pipeline
 * to run a call on one loop thread. Whenever it is called on the thread
 * that runs the connection's context (the call loop: e.g. a loop-driven
 * source upstream pushed from there), `media`, `mark` and `clear` are sent
 * at once, inline; from any other thread they are handed to that context.
 * On the call loop the EOS is never held (that would block the very loop
 * that receives the mark echoes): #GstTwilioSink:wait-for-played does not
 * apply there, a warning is logged instead.
 *
 * ## Element messages
 *
 * - `twilio-mark`: `name` (string), `played` (boolean, FALSE when the echo
 *   came because of a `clear`)
 * - `twilio-clear`: `played-position` (guint64, ns of stream time),
 *   `stream-sid` (string)
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 twiliosrc port=8081 ! queue ! twiliosink
 * ]| An echo test: the caller hears themself.
 * |[
 * gst-launch-1.0 twiliosrc port=8081 ! fakesink  audiotestsrc is-live=true ! audioresample ! audio/x-raw,rate=8000 ! mulawenc ! twiliosink
 * ]| Plays a tone to the caller.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/base/gstadapter.h>

#include "gsttwiliosink.h"
#include "gsttwiliostream.h"
#include "twilioprotocol.h"

GST_DEBUG_CATEGORY_STATIC (gst_twilio_sink_debug);
#define GST_CAT_DEFAULT gst_twilio_sink_debug

enum
{
  PROP_0,
  PROP_STREAM,
  PROP_WAIT_FOR_PLAYED,
  PROP_MARK_INTERVAL,
};

#define DEFAULT_STREAM "default"
#define DEFAULT_WAIT_FOR_PLAYED TRUE
#define DEFAULT_MARK_INTERVAL_MS TWILIO_FRAME_MS
#define FRAME_DURATION (TWILIO_FRAME_MS * GST_MSECOND)

struct _GstTwilioSink
{
  GstBaseSink parent;

  /* properties, GST_OBJECT_LOCK */
  gchar *stream_name;
  gboolean wait_for_played;
  guint mark_interval_ms;

  GstTwilioStream *stream;
  GMainContext *loop_context;   /* from the gst-realtime-bridge.loop context */

  /* streaming thread */
  GstAdapter *adapter;
  GstClockTime adapter_position;        /* stream time of the adapter's head */
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("audio/x-mulaw, rate = (int) 8000, channels = (int) 1"));

#define gst_twilio_sink_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstTwilioSink, gst_twilio_sink, GST_TYPE_BASE_SINK,
    GST_DEBUG_CATEGORY_INIT (gst_twilio_sink_debug, "twiliosink", 0,
        "Twilio Media Streams sink"));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (twiliosink, "twiliosink",
    GST_RANK_NONE, GST_TYPE_TWILIO_SINK, twilio_element_init (plugin));

static void gst_twilio_sink_finalize (GObject * object);
static void gst_twilio_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_twilio_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static gboolean gst_twilio_sink_start (GstBaseSink * sink);
static gboolean gst_twilio_sink_stop (GstBaseSink * sink);
static gboolean gst_twilio_sink_unlock (GstBaseSink * sink);
static gboolean gst_twilio_sink_unlock_stop (GstBaseSink * sink);
static gboolean gst_twilio_sink_event (GstBaseSink * sink, GstEvent * event);
static gboolean gst_twilio_sink_query (GstBaseSink * sink, GstQuery * query);
static gboolean gst_twilio_sink_element_query (GstElement * element,
    GstQuery * query);
static GstFlowReturn gst_twilio_sink_render (GstBaseSink * sink,
    GstBuffer * buf);
static void gst_twilio_sink_set_context (GstElement * element,
    GstContext * context);

static void
gst_twilio_sink_class_init (GstTwilioSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS (klass);

  gobject_class->finalize = gst_twilio_sink_finalize;
  gobject_class->set_property = gst_twilio_sink_set_property;
  gobject_class->get_property = gst_twilio_sink_get_property;

  /**
   * GstTwilioSink:stream:
   *
   * Name of the stream object shared with the twiliosrc of the same call.
   */
  g_object_class_install_property (gobject_class, PROP_STREAM,
      g_param_spec_string ("stream", "Stream",
          "Name of the stream shared with the twiliosrc of the same call",
          DEFAULT_STREAM, G_PARAM_READWRITE | GST_PARAM_MUTABLE_READY |
          G_PARAM_STATIC_STRINGS));
  /**
   * GstTwilioSink:wait-for-played:
   *
   * At EOS, hold the EOS until the caller has heard the last audio (its
   * mark was echoed), the call ended, or the element is stopped.
   */
  g_object_class_install_property (gobject_class, PROP_WAIT_FOR_PLAYED,
      g_param_spec_boolean ("wait-for-played", "Wait for played",
          "At EOS, wait until the caller has heard the last audio",
          DEFAULT_WAIT_FOR_PLAYED, G_PARAM_READWRITE |
          GST_PARAM_MUTABLE_PLAYING | G_PARAM_STATIC_STRINGS));
  /**
   * GstTwilioSink:mark-interval:
   *
   * Most audio (ms, rounded down to whole 20 ms frames) between two
   * `mark`s (media messages are always one 20 ms frame), so this is the
   * accuracy of the played position; larger values send fewer marks.
   */
  g_object_class_install_property (gobject_class, PROP_MARK_INTERVAL,
      g_param_spec_uint ("mark-interval", "Mark interval",
          "Most audio between two marks (ms; the accuracy of the played "
          "position)", TWILIO_FRAME_MS, 10000,
          DEFAULT_MARK_INTERVAL_MS, G_PARAM_READWRITE |
          GST_PARAM_MUTABLE_PLAYING | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class,
      "Twilio Media Streams sink", "Sink/Audio/Network",
      "Sends audio to a phone call over Twilio Media Streams",
      "gst-realtime-bridge developers");

  element_class->query = GST_DEBUG_FUNCPTR (gst_twilio_sink_element_query);
  element_class->set_context = GST_DEBUG_FUNCPTR (gst_twilio_sink_set_context);

  basesink_class->start = GST_DEBUG_FUNCPTR (gst_twilio_sink_start);
  basesink_class->stop = GST_DEBUG_FUNCPTR (gst_twilio_sink_stop);
  basesink_class->unlock = GST_DEBUG_FUNCPTR (gst_twilio_sink_unlock);
  basesink_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_twilio_sink_unlock_stop);
  basesink_class->event = GST_DEBUG_FUNCPTR (gst_twilio_sink_event);
  basesink_class->query = GST_DEBUG_FUNCPTR (gst_twilio_sink_query);
  basesink_class->render = GST_DEBUG_FUNCPTR (gst_twilio_sink_render);
}

static void
gst_twilio_sink_init (GstTwilioSink * self)
{
  self->stream_name = g_strdup (DEFAULT_STREAM);
  self->wait_for_played = DEFAULT_WAIT_FOR_PLAYED;
  self->mark_interval_ms = DEFAULT_MARK_INTERVAL_MS;
  self->adapter = gst_adapter_new ();
  self->adapter_position = GST_CLOCK_TIME_NONE;
  /* Twilio plays from its own queue in real time; pacing here would only
   * add latency. */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
}

static void
gst_twilio_sink_finalize (GObject * object)
{
  GstTwilioSink *self = GST_TWILIO_SINK (object);

  g_clear_pointer (&self->stream, gst_twilio_stream_unref);
  g_clear_pointer (&self->loop_context, g_main_context_unref);
  g_object_unref (self->adapter);
  g_free (self->stream_name);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_twilio_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstTwilioSink *self = GST_TWILIO_SINK (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_STREAM:
      g_free (self->stream_name);
      self->stream_name = g_value_dup_string (value);
      if (self->stream_name == NULL)
        self->stream_name = g_strdup (DEFAULT_STREAM);
      break;
    case PROP_WAIT_FOR_PLAYED:
      self->wait_for_played = g_value_get_boolean (value);
      break;
    case PROP_MARK_INTERVAL:
      self->mark_interval_ms = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_twilio_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstTwilioSink *self = GST_TWILIO_SINK (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_STREAM:
      g_value_set_string (value, self->stream_name);
      break;
    case PROP_WAIT_FOR_PLAYED:
      g_value_set_boolean (value, self->wait_for_played);
      break;
    case PROP_MARK_INTERVAL:
      g_value_set_uint (value, self->mark_interval_ms);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static gboolean
gst_twilio_sink_start (GstBaseSink * sink)
{
  GstTwilioSink *self = GST_TWILIO_SINK (sink);

  GST_OBJECT_LOCK (self);
  self->stream = gst_twilio_stream_get (self->stream_name);
  GST_OBJECT_UNLOCK (self);
  gst_twilio_stream_set_sink (self->stream, GST_ELEMENT (self));
  gst_twilio_stream_set_sink_flushing (self->stream, FALSE);
  gst_adapter_clear (self->adapter);
  self->adapter_position = GST_CLOCK_TIME_NONE;
  return TRUE;
}

static gboolean
gst_twilio_sink_stop (GstBaseSink * sink)
{
  GstTwilioSink *self = GST_TWILIO_SINK (sink);
  GstTwilioStream *stream;

  GST_OBJECT_LOCK (self);
  stream = self->stream;
  self->stream = NULL;
  GST_OBJECT_UNLOCK (self);

  if (stream) {
    gst_twilio_stream_reset_sink (stream);
    gst_twilio_stream_set_sink (stream, NULL);
    gst_twilio_stream_unref (stream);
  }
  gst_adapter_clear (self->adapter);
  return TRUE;
}

static gboolean
gst_twilio_sink_unlock (GstBaseSink * sink)
{
  GstTwilioSink *self = GST_TWILIO_SINK (sink);

  if (self->stream)
    gst_twilio_stream_set_sink_flushing (self->stream, TRUE);
  return TRUE;
}

static gboolean
gst_twilio_sink_unlock_stop (GstBaseSink * sink)
{
  GstTwilioSink *self = GST_TWILIO_SINK (sink);

  if (self->stream)
    gst_twilio_stream_set_sink_flushing (self->stream, FALSE);
  return TRUE;
}

/* Sends the whole frames in the adapter, at most mark-interval per media
 * message. */
static void
send_frames (GstTwilioSink * self)
{
  guint frames_per_message;
  gsize available;

  GST_OBJECT_LOCK (self);
  frames_per_message = MAX (1, self->mark_interval_ms / TWILIO_FRAME_MS);
  GST_OBJECT_UNLOCK (self);

  while ((available = gst_adapter_available (self->adapter)) >=
      TWILIO_FRAME_BYTES) {
    guint n = MIN (available / TWILIO_FRAME_BYTES, frames_per_message);
    gsize size = n * TWILIO_FRAME_BYTES;
    GBytes *frames = g_bytes_new_take (gst_adapter_take (self->adapter, size),
        size);
    GstClockTime start = self->adapter_position;
    GstClockTime end = GST_CLOCK_TIME_IS_VALID (start) ?
        start + n * FRAME_DURATION : GST_CLOCK_TIME_NONE;

    gst_twilio_stream_send_audio (self->stream, frames, start, end);
    g_bytes_unref (frames);
    self->adapter_position = end;
  }
}

static GstFlowReturn
gst_twilio_sink_render (GstBaseSink * sink, GstBuffer * buf)
{
  GstTwilioSink *self = GST_TWILIO_SINK (sink);

  /* Resynchronise the timeline whenever no partial frame is pending. */
  if (gst_adapter_available (self->adapter) == 0
      && GST_BUFFER_PTS_IS_VALID (buf)) {
    GstClockTime stream_time = gst_segment_to_stream_time (&sink->segment,
        GST_FORMAT_TIME, GST_BUFFER_PTS (buf));

    if (GST_CLOCK_TIME_IS_VALID (stream_time))
      self->adapter_position = stream_time;
  }
  if (!GST_CLOCK_TIME_IS_VALID (self->adapter_position))
    self->adapter_position = 0;

  gst_adapter_push (self->adapter, gst_buffer_ref (buf));
  send_frames (self);
  return GST_FLOW_OK;
}

/* Pads a trailing partial frame with silence: Twilio gets whole frames. */
static void
drain (GstTwilioSink * self)
{
  gsize partial = gst_adapter_available (self->adapter) % TWILIO_FRAME_BYTES;

  if (partial) {
    GstBuffer *pad = gst_buffer_new_allocate (NULL,
        TWILIO_FRAME_BYTES - partial, NULL);

    gst_buffer_memset (pad, 0, TWILIO_MULAW_SILENCE,
        TWILIO_FRAME_BYTES - partial);
    gst_adapter_push (self->adapter, pad);
  }
  send_frames (self);
}

static gboolean
gst_twilio_sink_event (GstBaseSink * sink, GstEvent * event)
{
  GstTwilioSink *self = GST_TWILIO_SINK (sink);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_START:
      /* Barge-in: Twilio drops what it holds, now. */
      if (self->stream)
        gst_twilio_stream_clear (self->stream);
      break;
    case GST_EVENT_FLUSH_STOP:
      gst_adapter_clear (self->adapter);
      self->adapter_position = GST_CLOCK_TIME_NONE;
      break;
    case GST_EVENT_EOS:{
      gboolean wait;

      drain (self);
      GST_OBJECT_LOCK (self);
      wait = self->wait_for_played;
      GST_OBJECT_UNLOCK (self);
      if (wait && gst_twilio_stream_wait_played (self->stream) ==
          GST_FLOW_FLUSHING) {
        GST_DEBUG_OBJECT (self, "flushing while waiting for the last mark");
        gst_event_unref (event);
        return FALSE;
      }
      break;
    }
    default:
      break;
  }
  return GST_BASE_SINK_CLASS (parent_class)->event (sink, event);
}

/* POSITION is what the caller has heard (the last mark echo, extrapolated
 * up to the next mark), not what the clock says; 0 before any audio went
 * out. */
static gboolean
answer_position (GstTwilioSink * self, GstQuery * query)
{
  GstFormat format;
  GstClockTime played = GST_CLOCK_TIME_NONE;

  gst_query_parse_position (query, &format, NULL);
  if (format != GST_FORMAT_TIME)
    return FALSE;
  GST_OBJECT_LOCK (self);
  if (self->stream == NULL) {
    GST_OBJECT_UNLOCK (self);
    return FALSE;
  }
  played = gst_twilio_stream_get_played_position (self->stream);
  GST_OBJECT_UNLOCK (self);
  /* Nothing sent yet: the caller has heard nothing (an answer, not a
   * refusal, so that upstream does not fall back to another element's). */
  if (!GST_CLOCK_TIME_IS_VALID (played))
    played = 0;
  gst_query_set_position (query, GST_FORMAT_TIME, played);
  return TRUE;
}

/* The custom query carries the same answer through converters: a POSITION
 * query from upstream is answered by the first GstBaseTransform on its way
 * (audioresample, audioconvert answer with their own segment position),
 * while custom queries are passed on to us. */
static gboolean
answer_played_position (GstTwilioSink * self, GstQuery * query)
{
  GstQuery *position = gst_query_new_position (GST_FORMAT_TIME);
  gboolean ok = answer_position (self, position);

  if (ok) {
    gint64 value;

    gst_query_parse_position (position, NULL, &value);
    gst_structure_set (gst_query_writable_structure (query),
        GST_TWILIO_SINK_PLAYED_POSITION_FIELD, G_TYPE_UINT64,
        (guint64) value, NULL);
  }
  gst_query_unref (position);
  return ok;
}

static gboolean
is_played_position_query (GstQuery * query)
{
  const GstStructure *s;

  if (GST_QUERY_TYPE (query) != GST_QUERY_CUSTOM)
    return FALSE;
  s = gst_query_get_structure (query);
  return s && gst_structure_has_name (s, GST_TWILIO_SINK_PLAYED_POSITION);
}

/* Queries arriving on the sink pad (e.g. from openairealtimesrc). */
static gboolean
gst_twilio_sink_query (GstBaseSink * sink, GstQuery * query)
{
  if (GST_QUERY_TYPE (query) == GST_QUERY_POSITION)
    return answer_position (GST_TWILIO_SINK (sink), query);
  if (is_played_position_query (query))
    return answer_played_position (GST_TWILIO_SINK (sink), query);
  return GST_BASE_SINK_CLASS (parent_class)->query (sink, query);
}

/* Queries on the element (e.g. gst_element_query_position ()). */
static gboolean
gst_twilio_sink_element_query (GstElement * element, GstQuery * query)
{
  if (GST_QUERY_TYPE (query) == GST_QUERY_POSITION)
    return answer_position (GST_TWILIO_SINK (element), query);
  return GST_ELEMENT_CLASS (parent_class)->query (element, query);
}

/* The call loop's context: sending is inline whenever we are called on the
 * connection's context (whatever the context), so it is only recorded. */
static void
gst_twilio_sink_set_context (GstElement * element, GstContext * context)
{
  gst_twilio_loop_context_store (element, context,
      &GST_TWILIO_SINK (element)->loop_context);
  GST_ELEMENT_CLASS (parent_class)->set_context (element, context);
}
