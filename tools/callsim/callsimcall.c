/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One simulated Twilio call, the caller's side: connecting, what the caller
 * sends and the call script; see callsimcall.h (callsimcallbridge.c has the
 * bridge's side). Reference for what Twilio does:
 * shared/reference/twilio-media-streams.md §1.4 (numbering and timing),
 * §1.5 (mark and clear), §2.3 (signed upgrade).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "callsimcallprivate.h"
#include "twilioprotocol.h"

#define USER_AGENT "Twilio.TmeWs/1.0"

static const guint8 silence_frame[TWILIO_FRAME_BYTES] = {
  [0 ... TWILIO_FRAME_BYTES - 1] = TWILIO_MULAW_SILENCE
};

static gdouble
since_connect_ms (CallsimCall * call, gint64 now)
{
  return (now - call->connect_start_us) / 1000.0;
}

static gint64
stream_ms (CallsimCall * call, gint64 now)
{
  return (now - call->stream_start_us) / MS;
}

void
callsim_call_event (CallsimCall * call, const gchar * name, JsonObject * fields)
{
  callsim_report_event (call->report, call->index,
      since_connect_ms (call, g_get_monotonic_time ()), name, fields);
}

CallsimCall *
callsim_call_new (const CallsimConfig * config, guint index,
    const gchar * record_path, CallsimReport * report,
    CallsimCallFinished finished, gpointer user_data)
{
  CallsimCall *call = g_new0 (CallsimCall, 1);
  Utterance *first;

  call->config = config;
  call->index = index;
  call->report = report;
  call->finished = finished;
  call->user_data = user_data;
  callsim_stats_init (&call->stats, index);
  call->stats.account_sid = g_strdup (config->account_sid);
  call->stats.call_sid = callsim_make_sid ("CA");
  call->stats.stream_sid = callsim_make_sid ("MZ");
  call->cancellable = g_cancellable_new ();
  call->playout = callsim_playout_new ();
  call->record_path = g_strdup (record_path);
  call->dtmf_done = g_new0 (gboolean, MAX (config->n_dtmf, 1));

  first = &call->utterances[call->n_utterances++];
  first->audio = g_bytes_ref (config->utterance);
  first->scheduled = TRUE;
  first->start_frame = config->silence_before_ms / TWILIO_FRAME_MS;
  first->n_frames = (g_bytes_get_size (config->utterance) +
      TWILIO_FRAME_BYTES - 1) / TWILIO_FRAME_BYTES;
  if (config->barge_in_utterance) {
    Utterance *second = &call->utterances[call->n_utterances++];

    second->audio = g_bytes_ref (config->barge_in_utterance);
    second->n_frames = (g_bytes_get_size (config->barge_in_utterance) +
        TWILIO_FRAME_BYTES - 1) / TWILIO_FRAME_BYTES;
  }
  return call;
}

void
callsim_call_free (CallsimCall * call)
{
  guint i;

  if (call == NULL)
    return;
  g_cancellable_cancel (call->cancellable);
  if (call->ws) {
    g_signal_handlers_disconnect_by_data (call->ws, call);
    g_object_unref (call->ws);
  }
  g_clear_object (&call->msg);
  g_clear_object (&call->cancellable);
  if (call->recorder)
    callsim_wav_writer_close (call->recorder, NULL);
  for (i = 0; i < call->n_utterances; i++)
    g_bytes_unref (call->utterances[i].audio);
  callsim_playout_free (call->playout);
  callsim_stats_clear (&call->stats);
  g_free (call->dtmf_done);
  g_free (call->record_path);
  g_free (call);
}

gboolean
callsim_call_is_finished (const CallsimCall * call)
{
  return call->state == CALL_FINISHED;
}

const CallsimStats *
callsim_call_get_stats (const CallsimCall * call)
{
  return &call->stats;
}

void
callsim_call_send_text (CallsimCall * call, gchar * text)
{
  if (call->ws && soup_websocket_connection_get_state (call->ws) ==
      SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (call->ws, text);
  g_free (text);
}

/* ---- what the caller sends ------------------------------------------- */

static void
hang_up (CallsimCall * call, const gchar * why, gboolean abrupt)
{
  JsonObject *f = json_object_new ();

  if (call->state != CALL_STREAMING)
    return;
  json_object_set_string_member (f, "why", why);
  json_object_set_boolean_member (f, "abrupt", abrupt);
  callsim_call_event (call, "hangup", f);
  call->state = CALL_CLOSING;
  g_free (call->stats.end);
  if (abrupt) {
    /* Drop the TCP connection without a close frame, like a crashed media
     * server: the bridge sees no stop and an abnormal close. */
    call->stats.end = g_strdup ("abrupt");
    g_signal_handlers_disconnect_by_data (call->ws, call);
    g_io_stream_close (soup_websocket_connection_get_io_stream (call->ws),
        NULL, NULL);
    callsim_call_finish (call, NULL);
    return;
  }
  call->stats.end = g_strdup ("stop");
  callsim_call_send_text (call, twilio_build_stop (++call->sequence,
          call->stats.stream_sid, call->stats.account_sid,
          call->stats.call_sid));
  soup_websocket_connection_close (call->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
}

void
callsim_call_hang_up (CallsimCall * call)
{
  if (call->state == CALL_CONNECTING || call->state == CALL_IDLE) {
    g_cancellable_cancel (call->cancellable);
    if (call->state == CALL_IDLE) {
      callsim_stats_add_failure (&call->stats, "interrupted before it "
          "started");
      callsim_call_finish (call, "interrupted");
    }
    return;
  }
  hang_up (call, "interrupted", FALSE);
}

static gboolean
resolve_time (CallsimCall * call, const CallsimTimeSpec * spec, gint64 * ms)
{
  if (spec->base == CALLSIM_TIME_STREAM) {
    *ms = spec->ms;
    return TRUE;
  }
  if (!call->reply_heard)
    return FALSE;
  *ms = call->reply_stream_ms + spec->ms;
  return TRUE;
}

static Utterance *
utterance_at (CallsimCall * call, gint64 frame, guint * turn)
{
  guint i;

  for (i = 0; i < call->n_utterances; i++) {
    Utterance *u = &call->utterances[i];

    if (u->scheduled && frame >= u->start_frame
        && frame < u->start_frame + u->n_frames) {
      *turn = i;
      return u;
    }
  }
  return NULL;
}

static void
send_frame (CallsimCall * call, gint64 now)
{
  gint64 k = call->frames_sent;
  guint8 frame[TWILIO_FRAME_BYTES];
  const guint8 *data = silence_frame;
  guint turn = 0;
  Utterance *u = utterance_at (call, k, &turn);
  gint64 timestamp = call->config->first_timestamp_ms + k * TWILIO_FRAME_MS;
  gint64 sent_us;

  if (u) {
    gsize size, offset = (k - u->start_frame) * TWILIO_FRAME_BYTES;
    const guint8 *audio = g_bytes_get_data (u->audio, &size);
    gsize n = MIN (TWILIO_FRAME_BYTES, size - offset);

    memcpy (frame, audio + offset, n);
    memset (frame + n, TWILIO_MULAW_SILENCE, TWILIO_FRAME_BYTES - n);
    data = frame;
    if (k == u->start_frame) {
      JsonObject *f = json_object_new ();

      json_object_set_int_member (f, "turn", turn + 1);
      json_object_set_int_member (f, "timestamp", timestamp);
      json_object_set_int_member (f, "duration_ms",
          u->n_frames * TWILIO_FRAME_MS);
      callsim_call_event (call, "caller-speech-start", f);
    }
  }
  /* stamped before sending: the far end cannot see it earlier */
  sent_us = g_get_monotonic_time ();
  callsim_call_send_text (call, twilio_build_inbound_media (++call->sequence,
          call->stats.stream_sid, "inbound", k + 1, timestamp, data,
          TWILIO_FRAME_BYTES));
  if (call->config->probe && call->config->probe->media_sent)
    call->config->probe->media_sent (call->index, k, data, sent_us,
        call->config->probe->user_data);
  call->frames_sent++;
  call->stats.audio_sent_ms += TWILIO_FRAME_MS;
  if (u) {
    call->stats.speech_sent_ms += TWILIO_FRAME_MS;
    if (k == u->start_frame + u->n_frames - 1) {
      JsonObject *f = json_object_new ();
      gdouble unanswered = -1;

      u->ended = TRUE;
      u->end_sent_us = now;
      u->end_stream_ms = timestamp + TWILIO_FRAME_MS;
      call->idle_since_ms = MAX (call->idle_since_ms, u->end_stream_ms);
      if (turn == 0)
        call->reply_threshold = call->received_bytes;
      g_array_append_val (call->stats.turn_latency_ms, unanswered);
      json_object_set_int_member (f, "turn", turn + 1);
      json_object_set_int_member (f, "timestamp", u->end_stream_ms);
      callsim_call_event (call, "caller-speech-end", f);
    }
  }
}

static void
schedule_barge_in (CallsimCall * call)
{
  Utterance *first = &call->utterances[0], *second = &call->utterances[1];
  gint64 at_ms, frame;
  JsonObject *f;

  if (call->n_utterances < 2 || second->scheduled
      || !resolve_time (call, &call->config->barge_in_at, &at_ms))
    return;
  frame = (at_ms - call->config->first_timestamp_ms + TWILIO_FRAME_MS - 1)
      / TWILIO_FRAME_MS;
  frame = MAX (frame, call->frames_sent);
  frame = MAX (frame, first->start_frame + first->n_frames);
  second->start_frame = frame;
  second->scheduled = TRUE;
  f = json_object_new ();
  json_object_set_int_member (f, "timestamp",
      call->config->first_timestamp_ms + frame * TWILIO_FRAME_MS);
  callsim_call_event (call, "barge-in-scheduled", f);
}

static void
send_due_dtmf (CallsimCall * call, gint64 now_stream_ms)
{
  guint i;

  for (i = 0; i < call->config->n_dtmf; i++) {
    const CallsimDtmf *d = &call->config->dtmf[i];
    gint64 at_ms;
    JsonObject *f;

    if (call->dtmf_done[i] || !resolve_time (call, &d->at, &at_ms)
        || now_stream_ms < at_ms)
      continue;
    call->dtmf_done[i] = TRUE;
    callsim_call_send_text (call, twilio_build_dtmf (++call->sequence,
            call->stats.stream_sid, d->digit));
    call->stats.dtmf_sent++;
    f = json_object_new ();
    json_object_set_string_member (f, "digit", d->digit);
    callsim_call_event (call, "dtmf", f);
  }
}

/* Whether the script still waits for the bridge: for any audio at all
 * (--expect-audio), or for the reply that reply+MS times count from. */
static gboolean
needs_reply (CallsimCall * call)
{
  const CallsimConfig *c = call->config;
  guint i;

  if (c->expect_audio && call->stats.media_received == 0)
    return TRUE;
  if (call->reply_heard)
    return FALSE;
  if (call->n_utterances > 1 && !call->utterances[1].scheduled)
    return TRUE;
  if (c->hangup && c->hangup_at.base == CALLSIM_TIME_REPLY)
    return TRUE;
  for (i = 0; i < c->n_dtmf; i++)
    if (!call->dtmf_done[i] && c->dtmf[i].at.base == CALLSIM_TIME_REPLY)
      return TRUE;
  return FALSE;
}

static gboolean
script_done (CallsimCall * call)
{
  guint i;

  for (i = 0; i < call->n_utterances; i++)
    if (!call->utterances[i].ended)
      return FALSE;
  for (i = 0; i < call->config->n_dtmf; i++)
    if (!call->dtmf_done[i])
      return FALSE;
  return TRUE;
}

void
callsim_call_tick (CallsimCall * call, gint64 now)
{
  const CallsimConfig *c = call->config;
  gint64 now_ms, hangup_ms, media_due;

  if (call->state == CALL_CONNECTING && !call->connect_timed_out
      && now - call->connect_start_us > c->connect_timeout_ms * MS) {
    call->connect_timed_out = TRUE;
    g_cancellable_cancel (call->cancellable);
    return;
  }
  if (call->state != CALL_STREAMING || now < call->stream_start_us)
    return;
  now_ms = stream_ms (call, now);

  if (c->hangup && resolve_time (call, &c->hangup_at, &hangup_ms)
      && now_ms >= hangup_ms) {
    hang_up (call, "hangup-at", c->abrupt);
    return;
  }
  if (now_ms >= c->max_duration_ms) {
    callsim_stats_add_failure (&call->stats, "the call was still going "
        "after --max-duration (%" G_GINT64_FORMAT " ms)", c->max_duration_ms);
    hang_up (call, "max-duration", FALSE);
    return;
  }

  schedule_barge_in (call);
  while (call->state == CALL_STREAMING) {
    media_due = call->stream_start_us + (c->first_timestamp_ms +
        (call->frames_sent + 1) * TWILIO_FRAME_MS) * MS;
    if (media_due > now)
      break;
    send_frame (call, now);
  }
  send_due_dtmf (call, now_ms);
  while (call->stream_start_us + call->playout_ticks * TWILIO_FRAME_MS * MS
      <= now)
    callsim_call_play_tick (call);
  /* a reply heard just now may resolve reply+MS times */
  schedule_barge_in (call);

  if (c->hangup)
    return;
  if (needs_reply (call)) {
    if (call->utterances[0].ended
        && now_ms >= call->utterances[0].end_stream_ms + c->reply_timeout_ms) {
      callsim_stats_add_failure (&call->stats, "no reply from the bridge "
          "within %" G_GINT64_FORMAT " ms of the end of the caller's "
          "utterance", c->reply_timeout_ms);
      hang_up (call, "no-reply", FALSE);
    }
    return;
  }
  if (script_done (call) && !callsim_playout_is_busy (call->playout)
      && now_ms >= call->idle_since_ms + c->silence_after_ms)
    hang_up (call, "done", FALSE);
}

/* ---- connecting ------------------------------------------------------ */

static void
on_connected (GObject * source, GAsyncResult * result, gpointer user_data)
{
  CallsimCall *call = user_data;
  GError *error = NULL;
  SoupWebsocketConnection *ws;
  gint64 now, ticks, start_sent_us;
  JsonObject *f;

  ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result,
      &error);
  if (ws == NULL) {
    guint status = soup_message_get_status (call->msg);

    if (call->connect_timed_out) {
      callsim_stats_add_failure (&call->stats, "no answer to the WebSocket "
          "upgrade within %" G_GINT64_FORMAT " ms",
          call->config->connect_timeout_ms);
      callsim_call_finish (call, "connect-failed");
    } else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      callsim_stats_add_failure (&call->stats, "interrupted while "
          "connecting");
      callsim_call_finish (call, "interrupted");
    } else if (status >= 300) {
      callsim_stats_add_failure (&call->stats, "the bridge refused the "
          "WebSocket upgrade: HTTP %u %s", status,
          soup_message_get_reason_phrase (call->msg));
      callsim_call_finish (call, "connect-failed");
    } else {
      callsim_stats_add_failure (&call->stats, "cannot connect to %s: %s",
          call->config->url, error->message);
      callsim_call_finish (call, "connect-failed");
    }
    g_error_free (error);
    return;
  }

  now = g_get_monotonic_time ();
  call->ws = ws;
  call->state = CALL_STREAMING;
  call->stats.connected = TRUE;
  call->stats.connect_ms = (now - call->connect_start_us) / 1000.0;
  callsim_call_watch_bridge (call, ws);

  if (call->record_path) {
    call->recorder = callsim_wav_writer_new (call->record_path, &error);
    if (call->recorder == NULL) {
      callsim_stats_add_failure (&call->stats, "%s", error->message);
      g_clear_error (&error);
    }
  }

  f = json_object_new ();
  json_object_set_string_member (f, "call_sid", call->stats.call_sid);
  json_object_set_string_member (f, "stream_sid", call->stats.stream_sid);
  json_object_set_double_member (f, "connect_ms", call->stats.connect_ms);
  callsim_call_event (call, "connected", f);

  callsim_call_send_text (call, twilio_build_connected ());
  call->sequence = 1;
  start_sent_us = g_get_monotonic_time ();
  callsim_call_send_text (call, twilio_build_start (call->sequence,
          call->stats.account_sid, call->stats.stream_sid,
          call->stats.call_sid, NULL,
          (const gchar * const *) call->config->param_names,
          (const gchar * const *) call->config->param_values));
  call->start_sent_us = now;
  if (call->config->probe && call->config->probe->started)
    call->config->probe->started (call->index, start_sent_us,
        call->config->probe->user_data);
  /* Stream time 0 is the next point of the shared tick grid (plus the
   * call's phase), so every call's 20 ms schedule falls on ticks. */
  ticks = (now - call->grid_origin_us + CALLSIM_TICK_US - 1) / CALLSIM_TICK_US;
  call->stream_start_us = call->grid_origin_us + ticks * CALLSIM_TICK_US +
      call->config->frame_phase_us;
  callsim_call_event (call, "start", NULL);
}

void
callsim_call_start (CallsimCall * call, SoupSession * session,
    gint64 grid_origin_us)
{
  const CallsimConfig *c = call->config;
  SoupMessageHeaders *headers;
  JsonObject *f;

  g_return_if_fail (call->state == CALL_IDLE);
  call->grid_origin_us = grid_origin_us;
  call->connect_start_us = g_get_monotonic_time ();
  call->state = CALL_CONNECTING;

  f = json_object_new ();
  json_object_set_string_member (f, "url", c->url);
  json_object_set_boolean_member (f, "signed", c->auth_token != NULL);
  callsim_call_event (call, "connecting", f);

  call->msg = soup_message_new (SOUP_METHOD_GET, c->url);
  if (call->msg == NULL) {
    callsim_stats_add_failure (&call->stats, "invalid URL %s", c->url);
    callsim_call_finish (call, "connect-failed");
    return;
  }
  headers = soup_message_get_request_headers (call->msg);
  soup_message_headers_replace (headers, "User-Agent", USER_AGENT);
  if (c->auth_token) {
    gchar *signature = twilio_signature_compute (c->auth_token,
        c->signed_url, NULL, 0);

    soup_message_headers_replace (headers, "X-Twilio-Signature", signature);
    g_free (signature);
  }
  /* Twilio offers no subprotocol and no extensions. */
  soup_session_websocket_connect_async (session, call->msg, NULL, NULL,
      G_PRIORITY_DEFAULT, call->cancellable, on_connected, call);
}

void
callsim_call_finish (CallsimCall * call, const gchar * end)
{
  const CallsimConfig *c = call->config;
  guint violations = callsim_stats_violations_total (&call->stats);

  if (call->state == CALL_FINISHED)
    return;
  call->state = CALL_FINISHED;
  if (end) {
    g_free (call->stats.end);
    call->stats.end = g_strdup (end);
  }
  call->stats.duration_ms = since_connect_ms (call, g_get_monotonic_time ());
  if (call->ws)
    g_signal_handlers_disconnect_by_data (call->ws, call);
  if (call->recorder) {
    GError *error = NULL;

    if (!callsim_wav_writer_close (call->recorder, &error)) {
      callsim_stats_add_failure (&call->stats, "%s", error->message);
      g_error_free (error);
    }
    call->recorder = NULL;
  }

  if (call->stats.connected) {
    if (violations > 0)
      callsim_stats_add_failure (&call->stats, "%u protocol violation%s by "
          "the bridge", violations, violations == 1 ? "" : "s");
    if (c->expect_audio && call->stats.media_received == 0)
      callsim_stats_add_failure (&call->stats, "no audio from the bridge");
    if (call->n_utterances > 1 && !call->utterances[1].ended
        && g_strcmp0 (call->stats.end, "bridge-closed") != 0)
      callsim_stats_add_failure (&call->stats, "the barge-in utterance was "
          "not spoken (call ended first)");
  }
  callsim_report_summary (call->report, &call->stats);
  if (call->finished)
    call->finished (call, call->user_data);
}
