/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-openairealtimesrc
 * @title: openairealtimesrc
 * @see_also: openairealtimesink
 *
 * A live source that plays the spoken answers of the OpenAI Realtime model
 * (GA protocol). It shares one WebSocket, the *session*, with the
 * openairealtimesink of the same `session` name, which sends the caller's
 * audio. Its negotiated caps choose the session's `audio.output.format`:
 * `audio/x-raw, format=S16LE, rate=24000, channels=1` (`audio/pcm`),
 * `audio/x-mulaw, rate=8000, channels=1` (`audio/pcmu`) or
 * `audio/x-alaw, rate=8000, channels=1` (`audio/pcma`).
 *
 * The source is live (no preroll) and always pushes: it answers the
 * LATENCY query as live with no minimum latency, starts its stream with
 * stream-start, caps and a TIME segment, and renegotiates its caps when
 * downstream asks for it (RECONFIGURE), which changes the session's output
 * format.
 *
 * Buffers carry PTS and DURATION on one continuous timeline: within a
 * response the timestamps follow the samples; when the source ran dry they
 * restart at the current running time (with DISCONT). The timeline is never
 * reset, not even by a barge-in.
 *
 * ## Prerolling while the model is silent
 * The model says nothing until the caller has spoken, but the sinks of a
 * pipeline reach PLAYING only once they prerolled, and until then the
 * openairealtimesink of the same pipeline would hold the caller's audio in
 * its preroll: a deadlock. So, like interaudiosrc, whenever downstream has
 * to preroll (at start, after a pause and after a barge-in flush) and there
 * is nothing to play, the source pushes 20 ms of silence flagged GAP,
 * timestamped at the running time. A GAP event would not do: encoders
 * (GstAudioEncoder, e.g. mulawenc) hold serialized events until their next
 * output, so twiliosink would never see it. Sinks that honour the GAP flag
 * (audio sinks) do not render it; twiliosink sends it as one frame of
 * silence. While the model stays silent nothing more is pushed: a live
 * sink that prerolled simply waits, and GAP events between answers would
 * pile up in such an encoder.
 *
 * ## Barge-in
 * When the server reports `input_audio_buffer.speech_started` while the
 * model's audio is still playing (and `interrupt-response` is TRUE), the
 * source drops the audio it holds, pushes FLUSH_START/FLUSH_STOP downstream
 * (twiliosink turns this into a Twilio `clear`) followed by a new segment,
 * drops the late deltas of the interrupted response, and asks downstream
 * how far the caller heard: first with the custom query `played-position`
 * (GST_QUERY_CUSTOM; twiliosink sets its `position` field, guint64 ns of
 * stream time, and converters such as audioresample and mulawenc pass it
 * on), then with a POSITION query (TIME), which a converter in between may
 * answer with its own position. It then sends
 * `conversation.item.truncate` for the item being played with
 * `audio_end_ms` = heard position − the PTS at which that item's audio
 * started, clamped to what was generated; nothing is sent if nothing was
 * heard. If downstream answers neither query, the running time is used.
 *
 * ## Threads: streaming thread or the application's call loop
 * By default the source has its own streaming thread, which takes the
 * model's audio from the session (whose WebSocket runs on a shared pool of
 * loop threads) and pushes it. An application that runs a call on a loop
 * thread of its own sets a GstContext of type `gst-realtime-bridge.loop`
 * (structure of the same name, field `main-context`, a GMainContext that
 * its loop thread iterates and owns) on the pipeline before it leaves
 * NULL. The session is then made on that context (by the first element of
 * the session to start: if the source and the sink were given different
 * contexts, the first one's wins), and the source has no streaming thread:
 * each `response.output_audio.delta` is made into a buffer and pushed, and a
 * barge-in (flush, `played-position` query, truncate) is done, right in the
 * loop callback that received it. What arrives while the source is not
 * PLAYING is held and pushed in order once it is; the preroll silence is
 * pushed from the loop when the source reaches PLAYING with nothing to
 * play. Downstream must then never block, since that would stop the whole
 * loop: sinks with `sync=false` and `async=false` (a sink waiting in
 * preroll blocks too), or a queue in between.
 *
 * The generic GstBaseSrc properties (`num-buffers`, `blocksize`,
 * `do-timestamp`, `typefind`, `automatic-eos`) do not exist on this source.
 *
 * ## Configuration
 * All configuration properties are shared with openairealtimesink (the first
 * element of a session to start configures it): `session`, `url`, `model`,
 * `api-key` (write-only, default `OPENAI_API_KEY`), `instructions`, `voice`,
 * `greeting`, `turn-detection`, `vad-threshold`, `prefix-padding-ms`,
 * `silence-duration-ms`, `idle-timeout-ms`, `interrupt-response`,
 * `transcription-model`, `noise-reduction`, `tools`, `session-extra`,
 * `connect-timeout`, `response-timeout`, `renew-interval`,
 * `max-reconnect-attempts`, `max-buffered-ms`.
 *
 * ## Bus messages
 * Element messages (fields in parentheses), posted by the source (by the
 * sink when the session has no source):
 * - `realtime-connecting` (`url` without key, `attempt` int)
 * - `realtime-connected` (`session-id`)
 * - `realtime-session-updated` (`input-format`, `output-format`, `voice`)
 * - `realtime-speech-started` (`audio-start-ms` int, `item-id`)
 * - `realtime-speech-stopped` (`audio-end-ms` int, `item-id`)
 * - `realtime-transcript` (`role` user/assistant, `item-id`, `text`,
 *   `final` boolean): deltas and finals of both sides
 * - `realtime-response-created` (`response-id`)
 * - `realtime-first-audio` (`response-id`, `latency-ms` double: from
 *   `speech_stopped` to the first audio delta of the answer)
 * - `realtime-response-done` (`response-id`, `status`, `reason`,
 *   `input-tokens`, `output-tokens`, `total-tokens` ints)
 * - `realtime-truncated` (`item-id`, `audio-end-ms` int)
 * - `realtime-function-call` (`name`, `call-id`, `arguments` JSON string);
 *   answer with the `function-call-output` action signal
 * - `realtime-rate-limits` (`limits`, JSON string)
 * - `realtime-error` (`type`, `code`, `message`, `fatal` boolean): server
 *   `error` events, malformed server events (code `malformed_event`),
 *   binary frames, timeouts (code `response_timeout`), dropped input
 * - `realtime-reconnecting` (`attempt` int, `delay-ms` int, `reason`)
 * - `realtime-event` (`type`): a server event this version does not handle
 *
 * A dropped socket, a 5xx or a handshake timeout reconnects with exponential
 * backoff (`max-reconnect-attempts`), re-sends the configuration and replays
 * the conversation (transcripts as items, function calls and results).
 * HTTP 401/403, `invalid_api_key` and `insufficient_quota` are fatal
 * (`GST_RESOURCE_ERROR_NOT_AUTHORIZED` / `NO_SPACE_LEFT`).
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
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstopenairealtimesrcprivate.h"

GST_DEBUG_CATEGORY (gst_openai_realtime_src_debug);
#define GST_CAT_DEFAULT gst_openai_realtime_src_debug

enum
{
  SIGNAL_FUNCTION_CALL_OUTPUT,
  LAST_SIGNAL
};

static guint signals[LAST_SIGNAL];

#define REALTIME_CAPS \
    "audio/x-raw, format = (string) S16LE, layout = (string) interleaved, " \
    "rate = (int) 24000, channels = (int) 1; " \
    "audio/x-mulaw, rate = (int) 8000, channels = (int) 1; " \
    "audio/x-alaw, rate = (int) 8000, channels = (int) 1"

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (REALTIME_CAPS));

#define gst_openai_realtime_src_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstOpenAIRealtimeSrc, gst_openai_realtime_src,
    GST_TYPE_ELEMENT, GST_DEBUG_CATEGORY_INIT (gst_openai_realtime_src_debug,
        "openairealtimesrc", 0, "OpenAI Realtime source"));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (openairealtimesrc, "openairealtimesrc",
    GST_RANK_NONE, GST_TYPE_OPENAI_REALTIME_SRC,
    openai_realtime_element_init (plugin));

static void gst_openai_realtime_src_finalize (GObject * object);
static void gst_openai_realtime_src_set_property (GObject * object,
    guint prop_id, const GValue * value, GParamSpec * pspec);
static void gst_openai_realtime_src_get_property (GObject * object,
    guint prop_id, GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_openai_realtime_src_change_state (GstElement *
    element, GstStateChange transition);
static void gst_openai_realtime_src_set_context (GstElement * element,
    GstContext * context);
static gboolean gst_openai_realtime_src_activate_mode (GstPad * pad,
    GstObject * parent, GstPadMode mode, gboolean active);
static gboolean gst_openai_realtime_src_query (GstPad * pad,
    GstObject * parent, GstQuery * query);
static gboolean gst_openai_realtime_src_event (GstPad * pad,
    GstObject * parent, GstEvent * event);
static gboolean gst_openai_realtime_src_send_event (GstElement * element,
    GstEvent * event);
static gboolean gst_openai_realtime_src_function_call_output
    (GstOpenAIRealtimeSrc * self, const gchar * call_id, const gchar * output);

static void
gst_openai_realtime_src_class_init (GstOpenAIRealtimeSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->finalize = gst_openai_realtime_src_finalize;
  gobject_class->set_property = gst_openai_realtime_src_set_property;
  gobject_class->get_property = gst_openai_realtime_src_get_property;

  gst_openai_realtime_settings_install_properties (gobject_class);

  /**
   * GstOpenAIRealtimeSrc::function-call-output:
   * @src: the source
   * @call_id: the `call-id` of a `realtime-function-call` message
   * @output: the function's result (usually JSON)
   *
   * Hands a function result back to the model: `conversation.item.create`
   * with a `function_call_output` item, then `response.create` as soon as
   * no response is active. Returns FALSE if the element is not started or
   * @call_id is empty. Called on the session's call loop, it is sent at
   * once.
   */
  signals[SIGNAL_FUNCTION_CALL_OUTPUT] =
      g_signal_new_class_handler ("function-call-output",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_openai_realtime_src_function_call_output), NULL, NULL,
      NULL, G_TYPE_BOOLEAN, 2, G_TYPE_STRING, G_TYPE_STRING);

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "OpenAI Realtime source", "Source/Audio/Network",
      "Plays the audio answers of the OpenAI Realtime model (GA WebSocket "
      "protocol)", "gst-realtime-bridge developers");

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_openai_realtime_src_change_state);
  element_class->set_context =
      GST_DEBUG_FUNCPTR (gst_openai_realtime_src_set_context);
  element_class->send_event =
      GST_DEBUG_FUNCPTR (gst_openai_realtime_src_send_event);
}

static void
gst_openai_realtime_src_init (GstOpenAIRealtimeSrc * self)
{
  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_activatemode_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_openai_realtime_src_activate_mode));
  gst_pad_set_query_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_openai_realtime_src_query));
  gst_pad_set_event_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_openai_realtime_src_event));
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SOURCE);

  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  gst_openai_realtime_settings_init (&self->settings);
  gst_segment_init (&self->segment, GST_FORMAT_TIME);
  g_queue_init (&self->played);
}

static void
gst_openai_realtime_src_finalize (GObject * object)
{
  GstOpenAIRealtimeSrc *self = GST_OPENAI_REALTIME_SRC (object);

  gst_openai_realtime_settings_clear (&self->settings);
  if (self->call_context)
    g_main_context_unref (self->call_context);
  gst_openai_realtime_src_clear_played (self);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_openai_realtime_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstOpenAIRealtimeSrc *self = GST_OPENAI_REALTIME_SRC (object);
  gboolean known;

  GST_OBJECT_LOCK (self);
  known = gst_openai_realtime_settings_set_property (&self->settings,
      prop_id, value);
  GST_OBJECT_UNLOCK (self);
  if (!known)
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
gst_openai_realtime_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstOpenAIRealtimeSrc *self = GST_OPENAI_REALTIME_SRC (object);
  gboolean known;

  GST_OBJECT_LOCK (self);
  known = gst_openai_realtime_settings_get_property (&self->settings,
      prop_id, value);
  GST_OBJECT_UNLOCK (self);
  if (!known)
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
gst_openai_realtime_src_set_context (GstElement * element, GstContext * context)
{
  gst_openai_realtime_loop_context_store (element, context,
      &GST_OPENAI_REALTIME_SRC (element)->call_context);
  GST_ELEMENT_CLASS (parent_class)->set_context (element, context);
}

/* ---- threaded default: the streaming task --------------------------------- */

/* An EOS sent to the element (gst_element_send_event (), e.g. by the
 * application to the pipeline at hang-up) goes out from where buffers are
 * pushed, in both modes; what the model still sends is not played. Stream
 * lock held. TRUE if the stream ended. */
static gboolean
push_pending_eos (GstOpenAIRealtimeSrc * self)
{
  if (!g_atomic_int_get (&self->pending_eos))
    return FALSE;
  if (!self->eos_sent) {
    GST_INFO_OBJECT (self, "EOS sent to the element: ending the stream");
    if (gst_openai_realtime_src_ensure_stream (self, self->session) ==
        GST_FLOW_OK) {
      self->eos_sent = TRUE;
      gst_pad_push_event (self->srcpad, gst_event_new_eos ());
    }
  }
  return TRUE;
}

static void
src_loop (gpointer data)
{
  GstOpenAIRealtimeSrc *self = data;
  /* set before the task starts, cleared after it stopped */
  GstOpenAIRealtimeSession *session = self->session;
  GstOpenAIRealtimeAudioChunk *chunk = NULL;
  GstOpenAIRealtimePullResult result;
  GstFlowReturn flow;
  gboolean dropped = FALSE;
  gint64 deadline;

  /* negotiated in PAUSED already: the session's format is known early */
  flow = gst_openai_realtime_src_ensure_stream (self, session);
  if (flow != GST_FLOW_OK)
    goto pause;

  if (push_pending_eos (self)) {
    flow = GST_FLOW_EOS;
    goto pause;
  }

  /* live: nothing is taken from the session until PLAYING */
  g_mutex_lock (&self->lock);
  while (!self->playing && !self->flushing
      && !g_atomic_int_get (&self->pending_eos))
    g_cond_wait (&self->cond, &self->lock);
  if (self->flushing) {
    g_mutex_unlock (&self->lock);
    flow = GST_FLOW_FLUSHING;
    goto pause;
  }
  g_mutex_unlock (&self->lock);

  /* prerolling: don't wait if there is nothing to play */
  deadline = g_atomic_int_get (&self->need_preroll) ?
      g_get_monotonic_time () : -1;
  result = gst_openai_realtime_session_pull (session, &chunk, &dropped,
      deadline);
  if (result == GST_OPENAI_REALTIME_PULL_FLUSHING) {
    /* paused (the next round waits for PLAYING), stopping, or an EOS was
     * sent to the element (the next round pushes it) */
    g_mutex_lock (&self->lock);
    flow = self->flushing ? GST_FLOW_FLUSHING : GST_FLOW_OK;
    g_mutex_unlock (&self->lock);
    if (flow == GST_FLOW_OK)
      return;
    goto pause;
  }
  flow =
      gst_openai_realtime_src_handle_item (self, session, result, chunk,
      dropped);
  if (flow == GST_FLOW_OK || flow == FLOW_IDLE)
    return;

pause:
  GST_DEBUG_OBJECT (self, "pausing the task: %s", gst_flow_get_name (flow));
  gst_pad_pause_task (self->srcpad);
  gst_openai_realtime_src_handle_flow (self, flow);
}

/* ---- loop-driven: pushed from the session's call loop ----------------------- */

/* On the call loop: pushes everything the session holds for us, or the
 * preroll silence if downstream must preroll and nothing is there. */
static void
drain (GstOpenAIRealtimeSrc * self)
{
  GstOpenAIRealtimeSession *session;

  /* pad deactivation waits for a push in progress */
  GST_PAD_STREAM_LOCK (self->srcpad);
  /* a state change from inside a push must not free it under us */
  session = gst_openai_realtime_session_ref_held (GST_OBJECT (self),
      &self->session);

  if (session) {
    gboolean stopping;

    g_mutex_lock (&self->lock);
    stopping = self->flushing;
    g_mutex_unlock (&self->lock);
    if (!stopping && push_pending_eos (self))
      g_clear_pointer (&session, gst_openai_realtime_session_unref);
  }

  while (session) {
    GstOpenAIRealtimeAudioChunk *chunk = NULL;
    GstOpenAIRealtimePullResult result;
    GstFlowReturn flow;
    gboolean dropped = FALSE, active;

    g_mutex_lock (&self->lock);
    active = self->playing && !self->flushing && !self->eos_sent;
    g_mutex_unlock (&self->lock);
    if (!active)
      break;
    /* a deadline in the past: never waits */
    result = gst_openai_realtime_session_pull (session, &chunk, &dropped, 0);
    flow =
        gst_openai_realtime_src_handle_item (self, session, result, chunk,
        dropped);
    if (flow == FLOW_IDLE)
      break;
    if (flow != GST_FLOW_OK) {
      gst_openai_realtime_src_handle_flow (self, flow);
      break;
    }
  }
  GST_PAD_STREAM_UNLOCK (self->srcpad);
  if (session)
    gst_openai_realtime_session_unref (session);
}

/* GstOpenAIRealtimeOutputFunc: the session received something for us. */
static void
on_session_output (GstElement * element)
{
  drain (GST_OPENAI_REALTIME_SRC (element));
}

static gboolean
play_cb (gpointer data)
{
  GstOpenAIRealtimeSrc *self = data;
  GSource *source;

  GST_OBJECT_LOCK (self);
  source = self->play_source;
  self->play_source = NULL;
  GST_OBJECT_UNLOCK (self);
  if (source)
    g_source_unref (source);
  GST_DEBUG_OBJECT (self, "PLAYING: pushing what was held");
  drain (self);
  return G_SOURCE_REMOVE;
}

/* ---- states ----------------------------------------------------------------- */

static gboolean
gst_openai_realtime_src_start (GstOpenAIRealtimeSrc * self)
{
  GstOpenAIRealtimeSettings settings;
  GstOpenAIRealtimeSession *session;
  GMainContext *call_context;
  GError *error = NULL;

  GST_OBJECT_LOCK (self);
  gst_openai_realtime_settings_copy (&settings, &self->settings);
  call_context = self->call_context ?
      g_main_context_ref (self->call_context) : NULL;
  GST_OBJECT_UNLOCK (self);

  self->format = REALTIME_AUDIO_FORMAT_UNSET;
  self->rate = 0;
  self->timeline_base = GST_CLOCK_TIME_NONE;
  self->timeline_samples = 0;
  self->discont = TRUE;
  self->stream_started = FALSE;
  self->need_segment = TRUE;
  self->eos_sent = FALSE;
  g_atomic_int_set (&self->pending_eos, FALSE);
  gst_segment_init (&self->segment, GST_FORMAT_TIME);
  g_atomic_int_set (&self->need_preroll, TRUE);
  gst_openai_realtime_src_clear_played (self);

  session = gst_openai_realtime_session_acquire (GST_ELEMENT (self),
      GST_OPENAI_REALTIME_ROLE_SRC, &settings, call_context, &error);
  gst_openai_realtime_settings_clear (&settings);
  if (call_context)
    g_main_context_unref (call_context);
  if (session == NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", error->message),
        ("session configuration refused"));
    g_error_free (error);
    return FALSE;
  }
  /* nothing is taken until PLAYING */
  gst_openai_realtime_session_set_src_flushing (session, TRUE);

  g_mutex_lock (&self->lock);
  self->playing = FALSE;
  self->flushing = FALSE;
  /* the session's loop decides (the first element of a session wins) */
  self->loop_driven =
      gst_openai_realtime_session_get_call_context (session) != NULL;
  g_mutex_unlock (&self->lock);
  GST_INFO_OBJECT (self, "%s", self->loop_driven ? "loop-driven: pushing "
      "from the call loop" : "pushing from its own streaming thread");
  if (self->loop_driven)
    gst_openai_realtime_session_set_output_func (session, GST_ELEMENT (self),
        on_session_output);

  GST_OBJECT_LOCK (self);
  self->session = session;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static void
gst_openai_realtime_src_stop (GstOpenAIRealtimeSrc * self)
{
  GstOpenAIRealtimeSession *session;
  GSource *source;

  GST_OBJECT_LOCK (self);
  session = self->session;
  self->session = NULL;
  source = self->play_source;
  self->play_source = NULL;
  GST_OBJECT_UNLOCK (self);
  if (source) {
    g_source_destroy (source);
    g_source_unref (source);
  }
  if (session)
    gst_openai_realtime_session_release (session, GST_ELEMENT (self),
        GST_OPENAI_REALTIME_ROLE_SRC);
  gst_openai_realtime_src_clear_played (self);
}

static void
set_playing (GstOpenAIRealtimeSrc * self, gboolean playing)
{
  GstOpenAIRealtimeSession *session;
  GSource *source = NULL;

  GST_OBJECT_LOCK (self);
  session = self->session;
  GST_OBJECT_UNLOCK (self);

  if (playing && session)
    gst_openai_realtime_session_set_src_flushing (session, FALSE);
  g_mutex_lock (&self->lock);
  self->playing = playing;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  if (!playing) {
    /* wakes the task's pull; downstream prerolls again on resume */
    if (session)
      gst_openai_realtime_session_set_src_flushing (session, TRUE);
    g_atomic_int_set (&self->need_preroll, TRUE);
  }

  GST_OBJECT_LOCK (self);
  if (!playing) {
    source = self->play_source;
    self->play_source = NULL;
  } else if (self->loop_driven && session && self->play_source == NULL) {
    /* what was held, or the preroll silence, goes out from the loop (once
     * playing is set: the loop may run it at once) */
    self->play_source = g_idle_source_new ();
    g_source_set_priority (self->play_source, G_PRIORITY_DEFAULT);
    g_source_set_name (self->play_source, "openairealtimesrc play");
    g_source_set_callback (self->play_source, play_cb, gst_object_ref (self),
        gst_object_unref);
    g_source_attach (self->play_source,
        gst_openai_realtime_session_get_call_context (session));
  }
  GST_OBJECT_UNLOCK (self);
  if (source) {
    g_source_destroy (source);
    g_source_unref (source);
  }
}

static gboolean
gst_openai_realtime_src_activate_mode (GstPad * pad, GstObject * parent,
    GstPadMode mode, gboolean active)
{
  GstOpenAIRealtimeSrc *self = GST_OPENAI_REALTIME_SRC (parent);
  GstOpenAIRealtimeSession *session;

  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  if (active) {
    g_mutex_lock (&self->lock);
    self->flushing = FALSE;
    g_mutex_unlock (&self->lock);
    if (self->loop_driven)
      return TRUE;
    return gst_pad_start_task (pad, src_loop, self, NULL);
  }

  /* wake every wait of the task (or make the loop's drain stop) */
  g_mutex_lock (&self->lock);
  self->flushing = TRUE;
  self->playing = FALSE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  GST_OBJECT_LOCK (self);
  session = self->session;
  GST_OBJECT_UNLOCK (self);
  if (session)
    gst_openai_realtime_session_set_src_flushing (session, TRUE);
  if (self->loop_driven)
    /* the pad's deactivation then waits for a push in progress */
    return TRUE;
  return gst_pad_stop_task (pad);
}

static GstStateChangeReturn
gst_openai_realtime_src_change_state (GstElement * element,
    GstStateChange transition)
{
  GstOpenAIRealtimeSrc *self = GST_OPENAI_REALTIME_SRC (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!gst_openai_realtime_src_start (self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
      set_playing (self, TRUE);
      break;
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      set_playing (self, FALSE);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    if (transition == GST_STATE_CHANGE_READY_TO_PAUSED)
      gst_openai_realtime_src_stop (self);
    return ret;
  }

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (self->loop_driven) {
        GstFlowReturn flow;

        /* no task to do it: negotiate now, so that session.update does not
         * wait for PLAYING */
        GST_PAD_STREAM_LOCK (self->srcpad);
        flow = gst_openai_realtime_src_ensure_stream (self, self->session);
        if (flow != GST_FLOW_OK)
          gst_openai_realtime_src_handle_flow (self, flow);
        GST_PAD_STREAM_UNLOCK (self->srcpad);
      }
      /* live */
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      gst_openai_realtime_src_stop (self);
      break;
    default:
      break;
  }
  return ret;
}

/* ---- pad functions ---------------------------------------------------------- */

static gboolean
gst_openai_realtime_src_query (GstPad * pad, GstObject * parent,
    GstQuery * query)
{
  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_LATENCY:
      /* live; the audio is pushed as it arrives */
      gst_query_set_latency (query, TRUE, 0, GST_CLOCK_TIME_NONE);
      return TRUE;
    case GST_QUERY_SCHEDULING:
      gst_query_set_scheduling (query, GST_SCHEDULING_FLAG_SEQUENTIAL, 1, -1,
          0);
      gst_query_add_scheduling_mode (query, GST_PAD_MODE_PUSH);
      return TRUE;
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

static gboolean
gst_openai_realtime_src_event (GstPad * pad, GstObject * parent,
    GstEvent * event)
{
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_SEEK:
      /* live: a conversation cannot be sought */
      gst_event_unref (event);
      return FALSE;
    case GST_EVENT_RECONFIGURE:
      /* the pad is flagged: renegotiated before the next push */
      gst_event_unref (event);
      return TRUE;
    default:
      return gst_pad_event_default (pad, parent, event);
  }
}

static gboolean
drain_cb (gpointer data)
{
  drain (GST_OPENAI_REALTIME_SRC (data));
  return G_SOURCE_REMOVE;
}

static gboolean
gst_openai_realtime_src_send_event (GstElement * element, GstEvent * event)
{
  GstOpenAIRealtimeSrc *self = GST_OPENAI_REALTIME_SRC (element);
  GstOpenAIRealtimeSession *session;
  GMainContext *call_context = NULL;

  if (GST_EVENT_TYPE (event) != GST_EVENT_EOS)
    return GST_ELEMENT_CLASS (parent_class)->send_event (element, event);
  gst_event_unref (event);

  session = gst_openai_realtime_session_ref_held (GST_OBJECT (self),
      &self->session);
  if (session == NULL)
    return FALSE;

  g_atomic_int_set (&self->pending_eos, TRUE);
  g_mutex_lock (&self->lock);
  if (self->loop_driven)
    call_context = gst_openai_realtime_session_get_call_context (session);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  if (call_context)
    /* pushed from the call loop (at once when called on it) */
    g_main_context_invoke_full (call_context, G_PRIORITY_DEFAULT, drain_cb,
        gst_object_ref (self), gst_object_unref);
  else
    /* wakes the task's pull */
    gst_openai_realtime_session_set_src_flushing (session, TRUE);
  gst_openai_realtime_session_unref (session);
  return TRUE;
}

static gboolean
gst_openai_realtime_src_function_call_output (GstOpenAIRealtimeSrc * self,
    const gchar * call_id, const gchar * output)
{
  return gst_openai_realtime_element_function_call_output (GST_OBJECT (self),
      &self->session, call_id, output);
}
