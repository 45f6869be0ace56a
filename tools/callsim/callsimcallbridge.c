/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One simulated Twilio call, the bridge's side: what the bridge sends
 * (media, mark, clear), the protocol checks on it, and Twilio's playout of
 * the bridge's audio (mark echoes, recording). See callsimcall.h; reference:
 * shared/reference/twilio-media-streams.md §1.4 and §1.5.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "callsimcallprivate.h"
#include "twilioprotocol.h"

/* A gap this long in the bridge's media starts a new "bridge-audio" event. */
#define AUDIO_BURST_GAP_US (500 * MS)
/* Timeline lines per call for protocol violations; the count goes on. */
#define MAX_VIOLATION_EVENTS 20

/* ---- what the bridge sends ------------------------------------------- */

static void
violation (CallsimCall * call, CallsimViolation kind, const gchar * detail)
{
  call->stats.violations[kind]++;
  if (call->violation_events < MAX_VIOLATION_EVENTS) {
    JsonObject *f = json_object_new ();

    json_object_set_string_member (f, "kind", callsim_violation_name (kind));
    json_object_set_string_member (f, "detail", detail);
    callsim_call_event (call, "violation", f);
  } else if (call->violation_events == MAX_VIOLATION_EVENTS) {
    callsim_call_event (call, "violations-not-shown", NULL);
  }
  call->violation_events++;
}

static void
echo_mark (CallsimCall * call, const gchar * name, gboolean played)
{
  JsonObject *f = json_object_new ();

  callsim_call_send_text (call, twilio_build_mark_echo (++call->sequence,
          call->stats.stream_sid, name));
  if (played)
    call->stats.marks_echoed_played++;
  else
    call->stats.marks_echoed_cleared++;
  json_object_set_string_member (f, "name", name);
  json_object_set_boolean_member (f, "played", played);
  callsim_call_event (call, "mark-echo", f);
}

static void
echo_marks (CallsimCall * call, GPtrArray * names, gboolean played)
{
  guint i;

  for (i = 0; i < names->len; i++)
    echo_mark (call, g_ptr_array_index (names, i), played);
}

/* Louder than -54 dBFS somewhere in the payload. */
#define AUDIBLE_PEAK 64

static gboolean
is_audible (const guint8 * mulaw, gsize len)
{
  gsize i;

  for (i = 0; i < len; i++) {
    gint16 sample = callsim_mulaw_to_linear (mulaw[i]);

    if (ABS (sample) > AUDIBLE_PEAK)
      return TRUE;
  }
  return FALSE;
}

static void
on_bridge_media (CallsimCall * call, TwilioMessage * m, gint64 now)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (m->payload, &len);
  guint i;

  /* Twilio accepts any size and recommends whole 20 ms frames: a payload
   * that is not a multiple of 160 bytes is what breaks its pacing. */
  if (len == 0 || len % TWILIO_FRAME_BYTES != 0) {
    gchar *detail = g_strdup_printf ("media payload of %" G_GSIZE_FORMAT
        " bytes, not a multiple of %d (20 ms of μ-law)", len,
        TWILIO_FRAME_BYTES);

    violation (call, CALLSIM_VIOLATION_FRAME_SIZE, detail);
    g_free (detail);
  }
  if (len == 0)
    return;

  if (call->last_media_us == 0 || now - call->last_media_us >
      AUDIO_BURST_GAP_US) {
    JsonObject *f = json_object_new ();

    json_object_set_double_member (f, "queued_ms",
        callsim_playout_get_queued (call->playout) / 8.0);
    callsim_call_event (call, "bridge-audio", f);
  }
  call->last_media_us = now;

  /* First audio and turn answers count audible audio only: a bridge may
   * send silence (GStreamer sinks preroll on a frame of it) long before it
   * says anything. */
  if (!is_audible (data, len))
    goto queue;

  if (call->stats.first_audio_ms < 0) {
    JsonObject *f = json_object_new ();

    call->stats.first_audio_ms = (now - call->start_sent_us) / 1000.0;
    json_object_set_double_member (f, "after_start_ms",
        call->stats.first_audio_ms);
    callsim_call_event (call, "first-audio", f);
  }
  for (i = 0; i < call->n_utterances; i++) {
    Utterance *u = &call->utterances[i];
    gdouble *latency;

    if (!u->ended || i >= call->stats.turn_latency_ms->len)
      continue;
    latency = &g_array_index (call->stats.turn_latency_ms, gdouble, i);
    if (*latency < 0) {
      JsonObject *f = json_object_new ();

      *latency = (now - u->end_sent_us) / 1000.0;
      json_object_set_int_member (f, "turn", i + 1);
      json_object_set_double_member (f, "latency_ms", *latency);
      callsim_call_event (call, "turn-answered", f);
    }
  }

queue:
  if (call->config->probe && call->config->probe->media_received)
    call->config->probe->media_received (call->index, data, len, now,
        call->config->probe->user_data);
  call->received_bytes += len;
  call->stats.media_received++;
  call->stats.audio_received_ms += len / 8.0;
  callsim_playout_push_audio (call->playout, data, len);
}

static void
on_bridge_mark (CallsimCall * call, TwilioMessage * m)
{
  JsonObject *f = json_object_new ();

  call->stats.marks_received++;
  json_object_set_string_member (f, "name", m->mark_name);
  json_object_set_double_member (f, "queued_ms",
      callsim_playout_get_queued (call->playout) / 8.0);
  callsim_call_event (call, "mark", f);
  if (callsim_playout_push_mark (call->playout, m->mark_name))
    echo_mark (call, m->mark_name, TRUE);
}

static void
on_bridge_clear (CallsimCall * call)
{
  GPtrArray *echoed = g_ptr_array_new_with_free_func (g_free);
  gsize dropped = callsim_playout_clear (call->playout, echoed);
  JsonObject *f = json_object_new ();

  call->stats.clears++;
  call->stats.audio_cleared_ms += dropped / 8.0;
  call->consumed_bytes += dropped;
  json_object_set_double_member (f, "dropped_ms", dropped / 8.0);
  json_object_set_int_member (f, "marks_echoed", echoed->len);
  callsim_call_event (call, "clear", f);
  echo_marks (call, echoed, FALSE);
  g_ptr_array_unref (echoed);
}

static CallsimViolation
classify_parse_error (const gchar * data, gsize len, const GError * strict)
{
  g_autoptr (TwilioMessage) tolerant = NULL;
  GError *error = NULL;
  CallsimViolation kind = CALLSIM_VIOLATION_BAD_JSON;

  /* Strict parsing failed: a tolerant parse tells a missing streamSid or an
   * extra key (Twilio's "missing or extra field") from worse. */
  tolerant = twilio_message_parse (data, len, TWILIO_PARSE_TO_TWILIO, &error);
  if (tolerant)
    return tolerant->stream_sid == NULL
        && tolerant->event !=
        TWILIO_EVENT_UNKNOWN ? CALLSIM_VIOLATION_MISSING_STREAM_SID :
        CALLSIM_VIOLATION_EXTRA_FIELD;
  if (error->domain == TWILIO_PROTOCOL_ERROR) {
    switch (error->code) {
      case TWILIO_PROTOCOL_ERROR_MALFORMED:
        kind = CALLSIM_VIOLATION_BAD_JSON;
        break;
      case TWILIO_PROTOCOL_ERROR_UNKNOWN_EVENT:
        kind = CALLSIM_VIOLATION_UNKNOWN_EVENT;
        break;
      case TWILIO_PROTOCOL_ERROR_MISSING_FIELD:
        kind = CALLSIM_VIOLATION_MISSING_FIELD;
        break;
      case TWILIO_PROTOCOL_ERROR_WRONG_TYPE:
      case TWILIO_PROTOCOL_ERROR_BAD_NUMBER:
        kind = CALLSIM_VIOLATION_WRONG_TYPE;
        break;
      case TWILIO_PROTOCOL_ERROR_BAD_PAYLOAD:
        kind = CALLSIM_VIOLATION_BAD_BASE64;
        break;
      case TWILIO_PROTOCOL_ERROR_EXTRA_FIELD:
        kind = CALLSIM_VIOLATION_EXTRA_FIELD;
        break;
      default:
        break;
    }
  }
  g_error_free (error);
  return kind;
}

static void
on_message (SoupWebsocketConnection * ws, gint type, GBytes * message,
    gpointer user_data)
{
  CallsimCall *call = user_data;
  g_autoptr (TwilioMessage) m = NULL;
  GError *error = NULL;
  const gchar *data;
  gsize len;
  gint64 now = g_get_monotonic_time ();

  if (call->state != CALL_STREAMING)
    return;
  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    violation (call, CALLSIM_VIOLATION_BINARY_FRAME,
        "binary WebSocket frame (Twilio warning 31950)");
    return;
  }
  data = g_bytes_get_data (message, &len);
  m = twilio_message_parse (data, len,
      TWILIO_PARSE_TO_TWILIO | TWILIO_PARSE_STRICT, &error);
  if (m == NULL) {
    violation (call, classify_parse_error (data, len, error), error->message);
    g_error_free (error);
    return;
  }
  if (g_strcmp0 (m->stream_sid, call->stats.stream_sid) != 0) {
    gchar *detail = g_strdup_printf ("%s for streamSid \"%.64s\", this "
        "stream is %s", twilio_event_to_string (m->event), m->stream_sid,
        call->stats.stream_sid);

    violation (call, CALLSIM_VIOLATION_WRONG_STREAM_SID, detail);
    g_free (detail);
    return;
  }
  switch (m->event) {
    case TWILIO_EVENT_MEDIA:
      on_bridge_media (call, m, now);
      break;
    case TWILIO_EVENT_MARK:
      on_bridge_mark (call, m);
      break;
    case TWILIO_EVENT_CLEAR:
      on_bridge_clear (call);
      break;
    default:
      /* the parser only lets the server's events through */
      violation (call, CALLSIM_VIOLATION_UNKNOWN_EVENT,
          twilio_event_to_string (m->event));
      break;
  }
}

static void
on_closed (SoupWebsocketConnection * ws, gpointer user_data)
{
  CallsimCall *call = user_data;
  JsonObject *f = json_object_new ();
  gushort code = soup_websocket_connection_get_close_code (ws);
  const gchar *reason = soup_websocket_connection_get_close_data (ws);
  gboolean by_bridge = call->state == CALL_STREAMING;

  json_object_set_string_member (f, "by", by_bridge ? "bridge" : "caller");
  json_object_set_int_member (f, "code", code);
  json_object_set_string_member (f, "reason", reason ? reason : "");
  callsim_call_event (call, "closed", f);
  if (by_bridge) {
    callsim_stats_add_failure (&call->stats, "the bridge closed the stream "
        "(code %u%s%s) before the caller hung up", code, reason
        && *reason ? ", " : "", reason ? reason : "");
    callsim_call_finish (call, "bridge-closed");
  } else {
    callsim_call_finish (call, NULL);
  }
}

static void
on_error (SoupWebsocketConnection * ws, GError * error, gpointer user_data)
{
  CallsimCall *call = user_data;
  JsonObject *f = json_object_new ();

  json_object_set_string_member (f, "message", error->message);
  callsim_call_event (call, "websocket-error", f);
}

void
callsim_call_watch_bridge (CallsimCall * call, SoupWebsocketConnection * ws)
{
  g_signal_connect (ws, "message", G_CALLBACK (on_message), call);
  g_signal_connect (ws, "closed", G_CALLBACK (on_closed), call);
  g_signal_connect (ws, "error", G_CALLBACK (on_error), call);
}

/* ---- Twilio's playout ------------------------------------------------ */

void
callsim_call_play_tick (CallsimCall * call)
{
  guint8 out[TWILIO_FRAME_BYTES];
  GPtrArray *echoed = g_ptr_array_new_with_free_func (g_free);
  gsize filled = callsim_playout_tick (call->playout, out, sizeof out, echoed);
  gint64 tick_ms = call->playout_ticks * TWILIO_FRAME_MS;

  echo_marks (call, echoed, TRUE);
  g_ptr_array_unref (echoed);

  if (call->recorder) {
    GError *error = NULL;

    if (!callsim_wav_writer_write_mulaw (call->recorder, out, sizeof out,
            &error)) {
      callsim_stats_add_failure (&call->stats, "recording stopped: %s",
          error->message);
      g_error_free (error);
      callsim_wav_writer_close (call->recorder, NULL);
      call->recorder = NULL;
    }
  }

  if (filled > 0) {
    if (!call->sounding) {
      JsonObject *f = json_object_new ();

      json_object_set_int_member (f, "stream_ms", tick_ms);
      callsim_call_event (call, "playout-start", f);
      call->sounding = TRUE;
      call->segment_bytes = 0;
    }
    call->segment_bytes += filled;
    call->consumed_bytes += filled;
    call->stats.audio_played_ms += filled / 8.0;
    call->idle_since_ms = tick_ms + TWILIO_FRAME_MS;
    if (!call->reply_heard && call->utterances[0].ended
        && call->consumed_bytes > call->reply_threshold) {
      JsonObject *f = json_object_new ();

      call->reply_heard = TRUE;
      call->reply_stream_ms = tick_ms;
      json_object_set_int_member (f, "stream_ms", tick_ms);
      json_object_set_int_member (f, "after_speech_ms",
          tick_ms - call->utterances[0].end_stream_ms);
      callsim_call_event (call, "reply-heard", f);
    }
  } else if (call->sounding) {
    JsonObject *f = json_object_new ();

    json_object_set_int_member (f, "stream_ms", tick_ms);
    json_object_set_double_member (f, "played_ms", call->segment_bytes / 8.0);
    callsim_call_event (call, "playout-end", f);
    call->sounding = FALSE;
  }
  call->playout_ticks++;
}
