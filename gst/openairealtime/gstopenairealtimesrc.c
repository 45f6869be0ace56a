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

#include "gstopenairealtimesrc.h"
#include "gstopenairealtimesession.h"
#include "gstopenairealtimesettings.h"

GST_DEBUG_CATEGORY_STATIC (gst_openai_realtime_src_debug);
#define GST_CAT_DEFAULT gst_openai_realtime_src_debug

enum
{
  SIGNAL_FUNCTION_CALL_OUTPUT,
  LAST_SIGNAL
};

static guint signals[LAST_SIGNAL];

#define MAX_PLAYED_ITEMS 8

/* Silence pushed so that downstream sinks preroll (see
 * make_preroll_buffer ()): one Twilio frame. */
#define PREROLL_DURATION (20 * GST_MSECOND)

/* Where an item's audio sits on our timeline, for the truncate. */
typedef struct
{
  gchar *item_id;
  GstClockTime start;
  GstClockTime end;
} PlayedItem;

struct _GstOpenAIRealtimeSrc
{
  GstPushSrc parent;

  GstOpenAIRealtimeSettings settings;   /* object lock */
  GstOpenAIRealtimeSession *session;

  /* streaming thread */
  RealtimeAudioFormat format;
  gint rate;
  gint bytes_per_sample;
  GstClockTime timeline_base;   /* NONE until the first buffer */
  guint64 timeline_samples;     /* samples since timeline_base */
  gboolean discont;
  gint need_preroll;            /* atomic: downstream sinks must preroll */
  GQueue played;                /* PlayedItem */
};

#define REALTIME_CAPS \
    "audio/x-raw, format = (string) S16LE, layout = (string) interleaved, " \
    "rate = (int) 24000, channels = (int) 1; " \
    "audio/x-mulaw, rate = (int) 8000, channels = (int) 1; " \
    "audio/x-alaw, rate = (int) 8000, channels = (int) 1"

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (REALTIME_CAPS));

#define gst_openai_realtime_src_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstOpenAIRealtimeSrc, gst_openai_realtime_src,
    GST_TYPE_PUSH_SRC, GST_DEBUG_CATEGORY_INIT (gst_openai_realtime_src_debug,
        "openairealtimesrc", 0, "OpenAI Realtime source"));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (openairealtimesrc, "openairealtimesrc",
    GST_RANK_NONE, GST_TYPE_OPENAI_REALTIME_SRC,
    openai_realtime_element_init (plugin));

static void gst_openai_realtime_src_finalize (GObject * object);
static void gst_openai_realtime_src_set_property (GObject * object,
    guint prop_id, const GValue * value, GParamSpec * pspec);
static void gst_openai_realtime_src_get_property (GObject * object,
    guint prop_id, GValue * value, GParamSpec * pspec);
static gboolean gst_openai_realtime_src_start (GstBaseSrc * src);
static gboolean gst_openai_realtime_src_stop (GstBaseSrc * src);
static gboolean gst_openai_realtime_src_set_caps (GstBaseSrc * src,
    GstCaps * caps);
static gboolean gst_openai_realtime_src_unlock (GstBaseSrc * src);
static gboolean gst_openai_realtime_src_unlock_stop (GstBaseSrc * src);
static GstFlowReturn gst_openai_realtime_src_create (GstPushSrc * src,
    GstBuffer ** buf);
static gboolean gst_openai_realtime_src_function_call_output
    (GstOpenAIRealtimeSrc * self, const gchar * call_id, const gchar * output);

static void
gst_openai_realtime_src_class_init (GstOpenAIRealtimeSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);

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
   * @call_id is empty.
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

  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_openai_realtime_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_openai_realtime_src_stop);
  basesrc_class->set_caps =
      GST_DEBUG_FUNCPTR (gst_openai_realtime_src_set_caps);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_openai_realtime_src_unlock);
  basesrc_class->unlock_stop =
      GST_DEBUG_FUNCPTR (gst_openai_realtime_src_unlock_stop);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_openai_realtime_src_create);
}

static void
gst_openai_realtime_src_init (GstOpenAIRealtimeSrc * self)
{
  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
  /* we timestamp ourselves, on a continuous timeline */
  gst_base_src_set_do_timestamp (GST_BASE_SRC (self), FALSE);
  gst_openai_realtime_settings_init (&self->settings);
  g_queue_init (&self->played);
}

static void
played_item_free (PlayedItem * item)
{
  g_free (item->item_id);
  g_free (item);
}

static void
clear_played (GstOpenAIRealtimeSrc * self)
{
  g_queue_clear_full (&self->played, (GDestroyNotify) played_item_free);
  g_queue_init (&self->played);
}

static void
gst_openai_realtime_src_finalize (GObject * object)
{
  GstOpenAIRealtimeSrc *self = GST_OPENAI_REALTIME_SRC (object);

  gst_openai_realtime_settings_clear (&self->settings);
  clear_played (self);
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

static gboolean
gst_openai_realtime_src_start (GstBaseSrc * src)
{
  GstOpenAIRealtimeSrc *self = GST_OPENAI_REALTIME_SRC (src);
  GstOpenAIRealtimeSettings settings;
  GstOpenAIRealtimeSession *session;
  GError *error = NULL;

  GST_OBJECT_LOCK (self);
  gst_openai_realtime_settings_copy (&settings, &self->settings);
  GST_OBJECT_UNLOCK (self);

  self->format = REALTIME_AUDIO_FORMAT_UNSET;
  self->timeline_base = GST_CLOCK_TIME_NONE;
  self->timeline_samples = 0;
  self->discont = TRUE;
  g_atomic_int_set (&self->need_preroll, TRUE);
  clear_played (self);

  session = gst_openai_realtime_session_acquire (GST_ELEMENT (self),
      GST_OPENAI_REALTIME_ROLE_SRC, &settings, &error);
  gst_openai_realtime_settings_clear (&settings);
  GST_OBJECT_LOCK (self);
  self->session = session;
  GST_OBJECT_UNLOCK (self);
  if (session == NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", error->message),
        ("session configuration refused"));
    g_error_free (error);
    return FALSE;
  }
  return TRUE;
}

static gboolean
gst_openai_realtime_src_stop (GstBaseSrc * src)
{
  GstOpenAIRealtimeSrc *self = GST_OPENAI_REALTIME_SRC (src);
  GstOpenAIRealtimeSession *session;

  GST_OBJECT_LOCK (self);
  session = self->session;
  self->session = NULL;
  GST_OBJECT_UNLOCK (self);
  if (session)
    gst_openai_realtime_session_release (session, GST_ELEMENT (self),
        GST_OPENAI_REALTIME_ROLE_SRC);
  clear_played (self);
  return TRUE;
}

static gboolean
gst_openai_realtime_src_set_caps (GstBaseSrc * src, GstCaps * caps)
{
  GstOpenAIRealtimeSrc *self = GST_OPENAI_REALTIME_SRC (src);
  GstStructure *s = gst_caps_get_structure (caps, 0);

  if (gst_structure_has_name (s, "audio/x-raw")) {
    self->format = REALTIME_AUDIO_FORMAT_PCM16;
    self->rate = 24000;
    self->bytes_per_sample = 2;
  } else if (gst_structure_has_name (s, "audio/x-mulaw")) {
    self->format = REALTIME_AUDIO_FORMAT_PCMU;
    self->rate = 8000;
    self->bytes_per_sample = 1;
  } else if (gst_structure_has_name (s, "audio/x-alaw")) {
    self->format = REALTIME_AUDIO_FORMAT_PCMA;
    self->rate = 8000;
    self->bytes_per_sample = 1;
  } else {
    return FALSE;
  }
  GST_INFO_OBJECT (self, "output format %s",
      realtime_audio_format_to_string (self->format));
  if (self->session)
    gst_openai_realtime_session_set_format (self->session,
        GST_OPENAI_REALTIME_ROLE_SRC, self->format);
  return TRUE;
}

static gboolean
gst_openai_realtime_src_unlock (GstBaseSrc * src)
{
  GstOpenAIRealtimeSrc *self = GST_OPENAI_REALTIME_SRC (src);

  GST_OBJECT_LOCK (self);
  if (self->session)
    gst_openai_realtime_session_set_src_flushing (self->session, TRUE);
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_openai_realtime_src_unlock_stop (GstBaseSrc * src)
{
  GstOpenAIRealtimeSrc *self = GST_OPENAI_REALTIME_SRC (src);

  /* after a flush or a pause, downstream sinks preroll again */
  g_atomic_int_set (&self->need_preroll, TRUE);
  GST_OBJECT_LOCK (self);
  if (self->session)
    gst_openai_realtime_session_set_src_flushing (self->session, FALSE);
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

/* The running time now, NONE without a clock. */
static GstClockTime
running_time_now (GstOpenAIRealtimeSrc * self)
{
  GstClock *clock = gst_element_get_clock (GST_ELEMENT (self));
  GstClockTime now, base;

  if (clock == NULL)
    return GST_CLOCK_TIME_NONE;
  now = gst_clock_get_time (clock);
  base = gst_element_get_base_time (GST_ELEMENT (self));
  gst_object_unref (clock);
  return now > base ? now - base : 0;
}

static GstClockTime
timeline_position (GstOpenAIRealtimeSrc * self)
{
  if (!GST_CLOCK_TIME_IS_VALID (self->timeline_base))
    return GST_CLOCK_TIME_NONE;
  return self->timeline_base +
      gst_util_uint64_scale_int (self->timeline_samples, GST_SECOND,
      self->rate);
}

/* Puts @buf (@samples long) next on the timeline: right after what was
 * pushed, or at the running time if the source ran dry (then DISCONT,
 * nothing was played meanwhile). */
static void
timeline_append (GstOpenAIRealtimeSrc * self, GstBuffer * buf, guint64 samples)
{
  GstClockTime now = running_time_now (self);
  GstClockTime pts = timeline_position (self);

  if (!GST_CLOCK_TIME_IS_VALID (pts)
      || (GST_CLOCK_TIME_IS_VALID (now) && now > pts)) {
    self->timeline_base = GST_CLOCK_TIME_IS_VALID (now) ? now :
        (GST_CLOCK_TIME_IS_VALID (pts) ? pts : 0);
    self->timeline_samples = 0;
    pts = self->timeline_base;
    self->discont = TRUE;
  }
  self->timeline_samples += samples;

  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DTS (buf) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (buf) = timeline_position (self) - pts;
  GST_BUFFER_OFFSET (buf) = GST_BUFFER_OFFSET_NONE;
  if (self->discont) {
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
    self->discont = FALSE;
  }
}

/* Downstream sinks reach PLAYING only once they prerolled on something,
 * and the model says nothing until the caller spoke: without this, a
 * pipeline with a sink after this source never completes its state change
 * and the sink of the same pipeline (openairealtimesink) waits in preroll
 * forever. A GAP event is not enough: GstAudioEncoder (mulawenc) holds
 * serialized events until its next output, so a twiliosink behind it never
 * sees one. So, like interaudiosrc, a short buffer of silence flagged GAP:
 * sinks preroll on it, audio sinks do not render it, twiliosink sends one
 * frame of silence. It is timestamped at the running time and is not part
 * of any answer. */
static GstBuffer *
make_preroll_buffer (GstOpenAIRealtimeSrc * self)
{
  guint64 samples = gst_util_uint64_scale_int (PREROLL_DURATION, self->rate,
      GST_SECOND);
  gsize size = samples * self->bytes_per_sample;
  GstBuffer *buf = gst_buffer_new_allocate (NULL, size, NULL);
  guint8 silence;

  switch (self->format) {
    case REALTIME_AUDIO_FORMAT_PCMU:
      silence = 0xff;
      break;
    case REALTIME_AUDIO_FORMAT_PCMA:
      silence = 0xd5;
      break;
    default:
      silence = 0;
      break;
  }
  gst_buffer_memset (buf, 0, silence, size);
  timeline_append (self, buf, samples);
  GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_GAP);
  GST_DEBUG_OBJECT (self, "nothing to play: preroll on %" GST_TIME_FORMAT
      " of silence at %" GST_TIME_FORMAT, GST_TIME_ARGS (PREROLL_DURATION),
      GST_TIME_ARGS (GST_BUFFER_PTS (buf)));
  return buf;
}

/* What the caller has heard, in our timeline: twiliosink answers the
 * custom query `played-position`, which converters (audioresample,
 * mulawenc) pass on, while they answer POSITION themselves with their own
 * segment position. POSITION is the fallback for other sinks, then the
 * running time. -1 if nothing is known. */
static gint64
query_heard_position (GstOpenAIRealtimeSrc * self, GstClockTime now)
{
  GstPad *pad = GST_BASE_SRC_PAD (self);
  GstQuery *query = gst_query_new_custom (GST_QUERY_CUSTOM,
      gst_structure_new_empty ("played-position"));
  guint64 played;
  gint64 position = -1;

  if (gst_pad_peer_query (pad, query)
      && gst_structure_get_uint64 (gst_query_get_structure (query),
          "position", &played) && played <= G_MAXINT64) {
    gst_query_unref (query);
    GST_INFO_OBJECT (self, "downstream heard up to %" GST_TIME_FORMAT
        " (played-position)", GST_TIME_ARGS (played));
    return (gint64) played;
  }
  gst_query_unref (query);

  if (gst_pad_peer_query_position (pad, GST_FORMAT_TIME, &position)
      && position >= 0) {
    GST_INFO_OBJECT (self, "downstream heard up to %" GST_TIME_FORMAT
        " (POSITION)", GST_TIME_ARGS (position));
    return position;
  }
  position = GST_CLOCK_TIME_IS_VALID (now) ? (gint64) now : -1;
  GST_INFO_OBJECT (self, "downstream did not answer played-position nor "
      "POSITION, using the running time %" GST_STIME_FORMAT,
      GST_STIME_ARGS (position));
  return position;
}

/* The caller spoke over the model: flush downstream, learn what was heard,
 * truncate the item being played. Runs on the streaming thread. */
static void
handle_barge_in (GstOpenAIRealtimeSrc * self, gboolean dropped)
{
  GstBaseSrc *basesrc = GST_BASE_SRC (self);
  GstClockTime now = running_time_now (self);
  PlayedItem *last = g_queue_peek_tail (&self->played);
  GstSegment segment;
  gint64 position;
  GList *l;

  /* Nothing held and everything pushed already played: not speaking. */
  if (!dropped && (last == NULL || (GST_CLOCK_TIME_IS_VALID (now)
              && now >= last->end))) {
    GST_DEBUG_OBJECT (self, "speech started while silent, no barge-in");
    clear_played (self);
    return;
  }

  GST_INFO_OBJECT (self, "barge-in: flushing downstream");
  gst_pad_push_event (GST_BASE_SRC_PAD (self), gst_event_new_flush_start ());
  /* keep the running time: our timeline continues */
  gst_pad_push_event (GST_BASE_SRC_PAD (self),
      gst_event_new_flush_stop (FALSE));
  /* FLUSH_STOP removed the sticky segment */
  gst_segment_copy_into (&basesrc->segment, &segment);
  gst_base_src_new_segment (basesrc, &segment);
  self->discont = TRUE;
  /* the flush made the sinks lose their preroll */
  g_atomic_int_set (&self->need_preroll, TRUE);

  position = query_heard_position (self, now);

  /* the item the caller was hearing: the newest one that had started */
  for (l = self->played.tail; position >= 0 && l; l = l->prev) {
    PlayedItem *item = l->data;
    GstClockTime heard_end;
    gint64 audio_end_ms;

    if ((GstClockTime) position <= item->start)
      continue;
    heard_end = MIN ((GstClockTime) position, item->end);
    audio_end_ms = (gint64) ((heard_end - item->start) / GST_MSECOND);
    if (audio_end_ms <= 0)
      break;
    GST_INFO_OBJECT (self, "truncating %s at %" G_GINT64_FORMAT " ms",
        item->item_id, audio_end_ms);
    gst_openai_realtime_session_truncate (self->session, item->item_id,
        audio_end_ms);
    clear_played (self);
    return;
  }
  GST_INFO_OBJECT (self, "nothing of the interrupted answer was heard, no "
      "truncate");
  clear_played (self);
}

static GstBuffer *
make_buffer (GstOpenAIRealtimeSrc * self, GstOpenAIRealtimeAudioChunk * chunk)
{
  gsize size = g_bytes_get_size (chunk->audio);
  GstBuffer *buf = gst_buffer_new_wrapped_bytes (chunk->audio);
  PlayedItem *item = g_queue_peek_tail (&self->played);

  timeline_append (self, buf, size / self->bytes_per_sample);

  if (item == NULL || g_strcmp0 (item->item_id, chunk->item_id) != 0) {
    item = g_new0 (PlayedItem, 1);
    item->item_id = g_strdup (chunk->item_id);
    item->start = GST_BUFFER_PTS (buf);
    g_queue_push_tail (&self->played, item);
    while (g_queue_get_length (&self->played) > MAX_PLAYED_ITEMS)
      played_item_free (g_queue_pop_head (&self->played));
  }
  item->end = GST_BUFFER_PTS (buf) + GST_BUFFER_DURATION (buf);
  return buf;
}

static GstFlowReturn
gst_openai_realtime_src_create (GstPushSrc * src, GstBuffer ** buf)
{
  GstOpenAIRealtimeSrc *self = GST_OPENAI_REALTIME_SRC (src);

  if (self->format == REALTIME_AUDIO_FORMAT_UNSET) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL),
        ("no format negotiated"));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  for (;;) {
    GstOpenAIRealtimeAudioChunk *chunk = NULL;
    gboolean dropped = FALSE;
    /* prerolling: don't wait if there is nothing to play */
    gint64 deadline = g_atomic_int_get (&self->need_preroll) ?
        g_get_monotonic_time () : -1;

    switch (gst_openai_realtime_session_pull (self->session, &chunk, &dropped,
            deadline)) {
      case GST_OPENAI_REALTIME_PULL_TIMEOUT:
        if (g_atomic_int_compare_and_exchange (&self->need_preroll, TRUE,
                FALSE)) {
          *buf = make_preroll_buffer (self);
          return GST_FLOW_OK;
        }
        break;
      case GST_OPENAI_REALTIME_PULL_FLUSHING:
        return GST_FLOW_FLUSHING;
      case GST_OPENAI_REALTIME_PULL_ERROR:
        /* the session posted the error */
        return GST_FLOW_ERROR;
      case GST_OPENAI_REALTIME_PULL_BARGE_IN:
        handle_barge_in (self, dropped);
        break;
      case GST_OPENAI_REALTIME_PULL_AUDIO:
        /* gst_buffer_new_wrapped_bytes takes its own reference */
        *buf = make_buffer (self, chunk);
        gst_openai_realtime_audio_chunk_free (chunk);
        /* the buffer prerolls downstream */
        g_atomic_int_set (&self->need_preroll, FALSE);
        return GST_FLOW_OK;
    }
  }
}

static gboolean
gst_openai_realtime_src_function_call_output (GstOpenAIRealtimeSrc * self,
    const gchar * call_id, const gchar * output)
{
  GstOpenAIRealtimeSession *session;

  /* not under the object lock: see the sink */
  GST_OBJECT_LOCK (self);
  session = self->session;
  GST_OBJECT_UNLOCK (self);
  if (session == NULL)
    return FALSE;
  return gst_openai_realtime_session_function_call_output (session, call_id,
      output);
}
