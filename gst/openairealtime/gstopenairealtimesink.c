/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-openairealtimesink
 * @title: openairealtimesink
 * @see_also: openairealtimesrc
 *
 * Sends the caller's audio to the OpenAI Realtime API (GA protocol) as
 * `input_audio_buffer.append` events. It shares one WebSocket, the
 * *session*, with the openairealtimesrc of the same `session` name, which
 * plays the model's answers.
 *
 * The negotiated caps choose the session's `audio.input.format`:
 * `audio/x-raw, format=S16LE, rate=24000, channels=1` is `audio/pcm`,
 * `audio/x-mulaw, rate=8000, channels=1` is `audio/pcmu` and
 * `audio/x-alaw, rate=8000, channels=1` is `audio/pcma`. `session.update` is
 * sent once the formats of every element of the session are known: when the
 * sink starts, from upstream's caps if they allow only one format (so that
 * a decoder upstream, which negotiates on its first output, does not delay
 * the session until the first audio), else from the negotiated caps; caps
 * negotiated later with another format update the session's formats.
 * Audio that arrives before the model confirmed the session
 * (`session.updated`), or while the session reconnects, is kept and sent in
 * order afterwards; beyond `max-buffered-ms` the oldest audio is dropped and
 * a `realtime-error` (code `input_dropped`) says how much. The sink does not
 * sync to the clock: audio is sent as soon as it arrives.
 *
 * All configuration properties are shared with openairealtimesrc; the first
 * element of a session to start configures it. The `api-key` property is
 * write-only and defaults to the `OPENAI_API_KEY` environment variable; a
 * missing or malformed key fails the state change with a clear error before
 * anything connects. With `turn-detection=none` the sink commits the input
 * buffer and asks for a response at EOS.
 *
 * With a `gst-realtime-bridge.loop` GstContext (see openairealtimesrc) the
 * session runs on the application's call loop; audio, EOS and the action
 * signal that reach the sink on that loop are sent right there, from any
 * other thread they are handed to the loop.
 *
 * The bus messages of the session (`realtime-*`) are documented in
 * openairealtimesrc; without a source in the session the sink posts them.
 *
 * ## Example launch lines
 * Talk to the model from the desktop:
 * |[
 * gst-launch-1.0 autoaudiosrc ! audioconvert ! audioresample ! openairealtimesink \
 *     openairealtimesrc ! audioconvert ! autoaudiosink
 * ]|
 * A phone call (see the twilio plugin):
 * |[
 * gst-launch-1.0 twiliosrc ! mulawdec ! audioresample ! audio/x-raw,rate=24000 ! \
 *     openairealtimesink session=s \
 *     openairealtimesrc session=s ! audioresample ! audio/x-raw,rate=8000 ! mulawenc ! twiliosink
 * ]|
 * Pass μ-law through without transcoding:
 * |[
 * gst-launch-1.0 twiliosrc ! openairealtimesink openairealtimesrc ! audio/x-mulaw ! twiliosink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstopenairealtimesink.h"
#include "gstopenairealtimesession.h"
#include "gstopenairealtimesettings.h"

GST_DEBUG_CATEGORY_STATIC (gst_openai_realtime_sink_debug);
#define GST_CAT_DEFAULT gst_openai_realtime_sink_debug

enum
{
  SIGNAL_FUNCTION_CALL_OUTPUT,
  LAST_SIGNAL
};

static guint signals[LAST_SIGNAL];

struct _GstOpenAIRealtimeSink
{
  GstBaseSink parent;

  GstOpenAIRealtimeSettings settings;   /* object lock */
  GMainContext *call_context;   /* object lock: gst-realtime-bridge.loop */
  GstOpenAIRealtimeSession *session;
};

#define REALTIME_CAPS \
    "audio/x-raw, format = (string) S16LE, layout = (string) interleaved, " \
    "rate = (int) 24000, channels = (int) 1; " \
    "audio/x-mulaw, rate = (int) 8000, channels = (int) 1; " \
    "audio/x-alaw, rate = (int) 8000, channels = (int) 1"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (REALTIME_CAPS));

#define gst_openai_realtime_sink_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstOpenAIRealtimeSink, gst_openai_realtime_sink,
    GST_TYPE_BASE_SINK, GST_DEBUG_CATEGORY_INIT (gst_openai_realtime_sink_debug,
        "openairealtimesink", 0, "OpenAI Realtime sink"));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (openairealtimesink, "openairealtimesink",
    GST_RANK_NONE, GST_TYPE_OPENAI_REALTIME_SINK,
    openai_realtime_element_init (plugin));

static void gst_openai_realtime_sink_finalize (GObject * object);
static void gst_openai_realtime_sink_set_property (GObject * object,
    guint prop_id, const GValue * value, GParamSpec * pspec);
static void gst_openai_realtime_sink_get_property (GObject * object,
    guint prop_id, GValue * value, GParamSpec * pspec);
static gboolean gst_openai_realtime_sink_start (GstBaseSink * sink);
static gboolean gst_openai_realtime_sink_stop (GstBaseSink * sink);
static gboolean gst_openai_realtime_sink_set_caps (GstBaseSink * sink,
    GstCaps * caps);
static gboolean gst_openai_realtime_sink_event (GstBaseSink * sink,
    GstEvent * event);
static GstFlowReturn gst_openai_realtime_sink_render (GstBaseSink * sink,
    GstBuffer * buf);
static gboolean gst_openai_realtime_sink_function_call_output
    (GstOpenAIRealtimeSink * self, const gchar * call_id, const gchar * output);
static void gst_openai_realtime_sink_set_context (GstElement * element,
    GstContext * context);

static void
gst_openai_realtime_sink_class_init (GstOpenAIRealtimeSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS (klass);

  gobject_class->finalize = gst_openai_realtime_sink_finalize;
  gobject_class->set_property = gst_openai_realtime_sink_set_property;
  gobject_class->get_property = gst_openai_realtime_sink_get_property;

  /* session, url, model, api-key, instructions, voice, greeting,
   * turn-detection, vad-threshold, prefix-padding-ms, silence-duration-ms,
   * idle-timeout-ms, interrupt-response, transcription-model,
   * noise-reduction, tools, session-extra, connect-timeout,
   * response-timeout, renew-interval, max-reconnect-attempts,
   * max-buffered-ms: see gstopenairealtimesettings.c and
   * docs/openairealtime.md */
  gst_openai_realtime_settings_install_properties (gobject_class);

  /**
   * GstOpenAIRealtimeSink::function-call-output:
   * @sink: the sink
   * @call_id: the `call-id` of a `realtime-function-call` message
   * @output: the function's result (usually JSON)
   *
   * Hands a function result back to the model: `conversation.item.create`
   * with a `function_call_output` item, then `response.create` as soon as
   * no response is active. Returns FALSE if the element is not started or
   * @call_id is empty.
   */
  signals[SIGNAL_FUNCTION_CALL_OUTPUT] =
      g_signal_new_class_handler ("function-call-output",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_openai_realtime_sink_function_call_output), NULL, NULL,
      NULL, G_TYPE_BOOLEAN, 2, G_TYPE_STRING, G_TYPE_STRING);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class,
      "OpenAI Realtime sink", "Sink/Audio/Network",
      "Sends audio to the OpenAI Realtime model (GA WebSocket protocol)",
      "gst-realtime-bridge developers");

  element_class->set_context =
      GST_DEBUG_FUNCPTR (gst_openai_realtime_sink_set_context);
  basesink_class->start = GST_DEBUG_FUNCPTR (gst_openai_realtime_sink_start);
  basesink_class->stop = GST_DEBUG_FUNCPTR (gst_openai_realtime_sink_stop);
  basesink_class->set_caps =
      GST_DEBUG_FUNCPTR (gst_openai_realtime_sink_set_caps);
  basesink_class->event = GST_DEBUG_FUNCPTR (gst_openai_realtime_sink_event);
  basesink_class->render = GST_DEBUG_FUNCPTR (gst_openai_realtime_sink_render);
}

static void
gst_openai_realtime_sink_init (GstOpenAIRealtimeSink * self)
{
  gst_openai_realtime_settings_init (&self->settings);
  /* audio goes out as soon as it arrives; the model paces nothing */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
}

static void
gst_openai_realtime_sink_finalize (GObject * object)
{
  GstOpenAIRealtimeSink *self = GST_OPENAI_REALTIME_SINK (object);

  gst_openai_realtime_settings_clear (&self->settings);
  if (self->call_context)
    g_main_context_unref (self->call_context);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_openai_realtime_sink_set_context (GstElement * element,
    GstContext * context)
{
  gst_openai_realtime_loop_context_store (element, context,
      &GST_OPENAI_REALTIME_SINK (element)->call_context);
  GST_ELEMENT_CLASS (parent_class)->set_context (element, context);
}

static void
gst_openai_realtime_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstOpenAIRealtimeSink *self = GST_OPENAI_REALTIME_SINK (object);
  gboolean known;

  GST_OBJECT_LOCK (self);
  known = gst_openai_realtime_settings_set_property (&self->settings,
      prop_id, value);
  GST_OBJECT_UNLOCK (self);
  if (!known)
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
gst_openai_realtime_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstOpenAIRealtimeSink *self = GST_OPENAI_REALTIME_SINK (object);
  gboolean known;

  GST_OBJECT_LOCK (self);
  known = gst_openai_realtime_settings_get_property (&self->settings,
      prop_id, value);
  GST_OBJECT_UNLOCK (self);
  if (!known)
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static RealtimeAudioFormat format_from_caps (GstCaps * caps);

/* The format upstream can only give, known before any data flows: with a
 * decoder upstream (mulawdec, which negotiates on its first output) caps
 * would otherwise come with the first buffer, and session.update would wait
 * for the caller's first media frame. UNSET if upstream allows several. */
static RealtimeAudioFormat
gst_openai_realtime_sink_peer_format (GstOpenAIRealtimeSink * self)
{
  GstPad *pad = GST_BASE_SINK_PAD (self);
  GstCaps *templ = gst_pad_get_pad_template_caps (pad);
  GstCaps *peer = gst_pad_peer_query_caps (pad, templ);
  RealtimeAudioFormat format = REALTIME_AUDIO_FORMAT_UNSET;
  guint i, n = gst_caps_get_size (peer);

  for (i = 0; i < n && !gst_caps_is_any (peer); i++) {
    GstCaps *one = gst_caps_copy_nth (peer, i);
    RealtimeAudioFormat f = format_from_caps (one);

    gst_caps_unref (one);
    if (i > 0 && f != format) {
      format = REALTIME_AUDIO_FORMAT_UNSET;
      break;
    }
    format = f;
  }
  gst_caps_unref (peer);
  gst_caps_unref (templ);
  return format;
}

static gboolean
gst_openai_realtime_sink_start (GstBaseSink * sink)
{
  GstOpenAIRealtimeSink *self = GST_OPENAI_REALTIME_SINK (sink);
  GstOpenAIRealtimeSettings settings;
  GstOpenAIRealtimeSession *session;
  GMainContext *call_context;
  GError *error = NULL;

  GST_OBJECT_LOCK (self);
  gst_openai_realtime_settings_copy (&settings, &self->settings);
  call_context = self->call_context ?
      g_main_context_ref (self->call_context) : NULL;
  GST_OBJECT_UNLOCK (self);

  session = gst_openai_realtime_session_acquire (GST_ELEMENT (self),
      GST_OPENAI_REALTIME_ROLE_SINK, &settings, call_context, &error);
  gst_openai_realtime_settings_clear (&settings);
  if (call_context)
    g_main_context_unref (call_context);
  GST_OBJECT_LOCK (self);
  self->session = session;
  GST_OBJECT_UNLOCK (self);
  if (session == NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", error->message),
        ("session configuration refused"));
    g_error_free (error);
    return FALSE;
  }
  /* the negotiated caps confirm it (or change it, which updates the
   * session) */
  if (gst_pad_is_linked (GST_BASE_SINK_PAD (self))) {
    RealtimeAudioFormat format = gst_openai_realtime_sink_peer_format (self);

    if (format != REALTIME_AUDIO_FORMAT_UNSET) {
      GST_INFO_OBJECT (self, "upstream can only give %s",
          realtime_audio_format_to_string (format));
      gst_openai_realtime_session_set_format (session,
          GST_OPENAI_REALTIME_ROLE_SINK, format);
    }
  }
  return TRUE;
}

static gboolean
gst_openai_realtime_sink_stop (GstBaseSink * sink)
{
  GstOpenAIRealtimeSink *self = GST_OPENAI_REALTIME_SINK (sink);
  GstOpenAIRealtimeSession *session;

  GST_OBJECT_LOCK (self);
  session = self->session;
  self->session = NULL;
  GST_OBJECT_UNLOCK (self);
  if (session)
    gst_openai_realtime_session_release (session, GST_ELEMENT (self),
        GST_OPENAI_REALTIME_ROLE_SINK);
  return TRUE;
}

static RealtimeAudioFormat
format_from_caps (GstCaps * caps)
{
  GstStructure *s = gst_caps_get_structure (caps, 0);

  if (gst_structure_has_name (s, "audio/x-raw"))
    return REALTIME_AUDIO_FORMAT_PCM16;
  if (gst_structure_has_name (s, "audio/x-mulaw"))
    return REALTIME_AUDIO_FORMAT_PCMU;
  if (gst_structure_has_name (s, "audio/x-alaw"))
    return REALTIME_AUDIO_FORMAT_PCMA;
  return REALTIME_AUDIO_FORMAT_UNSET;
}

static gboolean
gst_openai_realtime_sink_set_caps (GstBaseSink * sink, GstCaps * caps)
{
  GstOpenAIRealtimeSink *self = GST_OPENAI_REALTIME_SINK (sink);
  RealtimeAudioFormat format = format_from_caps (caps);

  GST_INFO_OBJECT (self, "input format %s from %" GST_PTR_FORMAT,
      realtime_audio_format_to_string (format), caps);
  if (format == REALTIME_AUDIO_FORMAT_UNSET || self->session == NULL)
    return FALSE;
  gst_openai_realtime_session_set_format (self->session,
      GST_OPENAI_REALTIME_ROLE_SINK, format);
  return TRUE;
}

static gboolean
gst_openai_realtime_sink_event (GstBaseSink * sink, GstEvent * event)
{
  GstOpenAIRealtimeSink *self = GST_OPENAI_REALTIME_SINK (sink);

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS && self->session) {
    gboolean manual;

    GST_OBJECT_LOCK (self);
    manual = self->settings.turn_detection == REALTIME_TURN_DETECTION_NONE;
    GST_OBJECT_UNLOCK (self);
    /* without turn detection, the end of the input is the end of the turn */
    if (manual)
      gst_openai_realtime_session_commit_input (self->session);
  }
  return GST_BASE_SINK_CLASS (parent_class)->event (sink, event);
}

static GstFlowReturn
gst_openai_realtime_sink_render (GstBaseSink * sink, GstBuffer * buf)
{
  GstOpenAIRealtimeSink *self = GST_OPENAI_REALTIME_SINK (sink);
  GstMapInfo map;
  gboolean ok;

  if (!gst_buffer_map (buf, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, RESOURCE, READ, (NULL),
        ("could not map the input buffer"));
    return GST_FLOW_ERROR;
  }
  ok = gst_openai_realtime_session_push_input (self->session, map.data,
      map.size);
  gst_buffer_unmap (buf, &map);
  /* a fatal session error has been posted already */
  return ok ? GST_FLOW_OK : GST_FLOW_ERROR;
}

static gboolean
gst_openai_realtime_sink_function_call_output (GstOpenAIRealtimeSink * self,
    const gchar * call_id, const gchar * output)
{
  return gst_openai_realtime_element_function_call_output (GST_OBJECT (self),
      &self->session, call_id, output);
}
