/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * realtime-bridge-floor (benchfloorrelay.c): the call layer, the caller's
 * upgrade and what a call does with Twilio's and the model's events, the
 * model's connection included. The connections, frames and the loop are
 * benchfloorrelay.c's.
 *
 * Per call, on the wire:
 * - caller: any path, HTTP/1.1 Upgrade (the key is checked, 101 with
 *   Sec-WebSocket-Accept; 503 beyond --max-calls); ping -> pong, close ->
 *   close. Fragmented messages and malformed frames end the call; binary
 *   messages are ignored.
 * - Twilio `start`: its streamSid is kept and the model WebSocket opened
 *   (ws:// only: GET with the URL's path and query, ?model=gpt-realtime
 *   added if absent, Authorization: Bearer $OPENAI_API_KEY; the 101 and
 *   its accept are checked; every frame sent is masked).
 * - model `session.created`: the launcher's passthrough session.update
 *   (audio/pcmu in and out, server VAD with create_response and
 *   interrupt_response), then the appends held so far.
 * - Twilio `media`: one input_audio_buffer.append each, the base64 payload
 *   copied as it is; held (never dropped) until the model is ready.
 * - model `response.output_audio.delta` (or the beta `response.audio.delta`):
 *   one Twilio `media` with the delta's base64 copied as it is and one
 *   `mark` after it. The launcher's twiliosink (mark-interval=60) sends one
 *   media per 20 ms frame and a mark after every 3 frames, i.e. 5 media + 2
 *   marks per 100 ms delta; Twilio takes any whole number of frames per
 *   media message, so one media + one mark per delta is the least. A delta
 *   that is not a whole number of 20 ms frames is decoded and its tail held
 *   for the next one (padded with silence at the end of the response).
 *   With --frame-media (or REALTIME_BRIDGE_FLOOR_FRAME_MEDIA=1, since the
 *   benchmark passes only the launcher's options) every delta is decoded
 *   and sent exactly as the launcher does: one media per 20 ms frame, a
 *   mark after every 3 frames and after the delta's last.
 * - Twilio `mark` echoes: the highest echoed mark is kept, to know whether
 *   the caller still has model audio queued.
 * - model `input_audio_buffer.speech_started`: Twilio `clear` if the caller
 *   still has audio queued (a mark not echoed yet), and the rest of the
 *   interrupted response's deltas are dropped (the model cancels it itself:
 *   interrupt_response). Unlike the launcher, no conversation.item.truncate
 *   is sent (the played position would need the mark timing the launcher
 *   keeps) and no response.cancel (neither does the launcher).
 * - Twilio `stop` or the caller's close: the model connection is closed
 *   (close frame); the model closing ends the call (close frame to the
 *   caller). Every other event is ignored after its "type"/"event" is read.
 *   With REALTIME_BRIDGE_FLOOR_MODEL_DELAY_MS (for the tests) the model
 *   connection is opened that long after `start`: the call waits in
 *   Relay.waiting_for_model and the loop calls floor_call_connect_due().
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "benchfloorrelay.h"
#include "benchfloorws.h"

#define MULAW_SILENCE 0xff
/* --frame-media: the launcher's twiliosink mark-interval=60 */
#define MARK_FRAMES 3

#define SESSION_UPDATE \
  "{\"type\":\"session.update\",\"session\":{\"type\":\"realtime\"," \
  "\"audio\":{\"input\":{\"format\":{\"type\":\"audio/pcmu\"}," \
  "\"turn_detection\":{\"type\":\"server_vad\",\"create_response\":true," \
  "\"interrupt_response\":true}},\"output\":{\"format\":" \
  "{\"type\":\"audio/pcmu\"}}}}}"

/* ---- calls -------------------------------------------------------------- */

static Call *
call_new (Relay * r, Conn * caller)
{
  Call *call = g_new0 (Call, 1);

  call->number = ++r->calls_total;
  call->held = g_byte_array_new ();
  call->waiting_link.data = call;
  call->caller = caller;
  caller->call = call;
  return call;
}

static void
call_stop_waiting (Relay * r, Call * call)
{
  if (!call->waiting_for_model)
    return;
  g_queue_unlink (&r->waiting_for_model, &call->waiting_link);
  call->waiting_for_model = FALSE;
}

void
floor_call_free (Relay * r, Call * call)
{
  call_stop_waiting (r, call);
  g_byte_array_unref (call->held);
  g_free (call);
}

void
floor_call_fail (Relay * r, Call * call, const gchar * why)
{
  floor_log ("error", "call-failed", call->number, why);
  call_stop_waiting (r, call);
  if (call->model)
    floor_conn_close_now (r, call->model);
  if (call->caller)
    floor_conn_close_gracefully (r, call->caller, 1011);
}

static void
send_append (Relay * r, Call * call, const gchar * payload, gsize len)
{
  Part parts[] = {
    PART_LIT ("{\"type\":\"input_audio_buffer.append\",\"audio\":\""),
    {payload, len},
    PART_LIT ("\"}"),
  };

  floor_conn_send_text (r, call->model, parts, G_N_ELEMENTS (parts));
}

static void
send_media (Relay * r, Call * call, const gchar * b64, gsize len)
{
  Part media[] = {
    PART_LIT ("{\"event\":\"media\",\"streamSid\":\""),
    {call->stream_sid, call->stream_sid_len},
    PART_LIT ("\",\"media\":{\"payload\":\""),
    {b64, len},
    PART_LIT ("\"}}"),
  };

  floor_conn_send_text (r, call->caller, media, G_N_ELEMENTS (media));
}

static void
send_media_and_mark (Relay * r, Call * call, const gchar * b64, gsize len)
{
  gchar name[24];
  Part mark[] = {
    PART_LIT ("{\"event\":\"mark\",\"streamSid\":\""),
    {call->stream_sid, call->stream_sid_len},
    PART_LIT ("\",\"mark\":{\"name\":\""),
    {name, 0},
    PART_LIT ("\"}}"),
  };

  send_media (r, call, b64, len);
  mark[3].len = g_snprintf (name, sizeof (name), "f%" G_GUINT64_FORMAT,
      ++call->marks_sent);
  floor_conn_send_text (r, call->caller, mark, G_N_ELEMENTS (mark));
}

/* Sends @len bytes (whole frames) of decoded mu-law: as one media and a
 * mark, or (--frame-media) the way the launcher's twiliosink does with
 * mark-interval=60: one media per 20 ms frame, a mark after every
 * MARK_FRAMES of them and after the last. */
static void
send_decoded (Relay * r, Call * call, const guint8 * data, gsize len)
{
  static gchar encoded[(MAX_PAYLOAD / 3 + 2) * 4 + 8];
  gsize at = 0;

  while (at < len) {
    gsize group = r->frame_media ? MIN (len - at, MARK_FRAMES * FRAME_BYTES) :
        len - at, done = 0;

    while (done < group) {
      gsize n = r->frame_media ? FRAME_BYTES : group;
      gint state = 0, save = 0;
      gsize out = g_base64_encode_step (data + at + done, n, FALSE, encoded,
          &state, &save);

      out += g_base64_encode_close (FALSE, encoded + out, &state, &save);
      if (done + n < group)
        send_media (r, call, encoded, out);
      else
        send_media_and_mark (r, call, encoded, out);
      done += n;
    }
    at += group;
  }
}

/* Decodes a delta behind the tail held from the last one, sends the whole
 * frames, holds the new tail (padded with silence if @pad: the response's
 * audio ended). */
static void
relay_decoded (Relay * r, Call * call, const gchar * b64, gsize len,
    gboolean pad)
{
  static guint8 decoded[FRAME_BYTES + MAX_PAYLOAD / 4 * 3 + FRAME_BYTES];
  gint state = 0;
  guint save = 0;
  gsize all_len, whole;

  memcpy (decoded, call->carry, call->carry_len);
  all_len = call->carry_len + g_base64_decode_step (b64, len,
      decoded + call->carry_len, &state, &save);
  if (pad && all_len % FRAME_BYTES) {
    gsize fill = FRAME_BYTES - all_len % FRAME_BYTES;

    memset (decoded + all_len, MULAW_SILENCE, fill);
    all_len += fill;
  }
  whole = all_len - all_len % FRAME_BYTES;
  if (whole)
    send_decoded (r, call, decoded, whole);
  call->carry_len = all_len - whole;
  memcpy (call->carry, decoded + whole, call->carry_len);
}

static gboolean
copy_id (gchar dest[ID_MAX + 1], const gchar * id, gsize len)
{
  if (len > ID_MAX)
    return FALSE;
  memcpy (dest, id, len);
  dest[len] = '\0';
  return TRUE;
}

static void
on_model_delta (Relay * r, Call * call, const gchar * text, gsize len)
{
  gsize id_len = 0, b64_len = 0;
  const gchar *id = FLOOR_JSON_FIND (text, len, "\"response_id\":\"", &id_len);
  const gchar *b64 = FLOOR_JSON_FIND (text, len, "\"delta\":\"", &b64_len);
  gssize size;

  if (id) {
    /* late deltas of the response the caller talked over */
    if (call->discard_id[0] && strlen (call->discard_id) == id_len
        && memcmp (call->discard_id, id, id_len) == 0)
      return;
    if (!copy_id (call->response_id, id, id_len))
      call->response_id[0] = '\0';
  }
  if (b64 == NULL || (size = floor_base64_decoded_size (b64, b64_len)) < 0) {
    floor_call_fail (r, call,
        "the model sent an audio delta without valid base64");
    return;
  }
  if (size == 0)
    return;
  if (!r->frame_media && call->carry_len == 0 && size % FRAME_BYTES == 0)
    send_media_and_mark (r, call, b64, b64_len);
  else
    relay_decoded (r, call, b64, b64_len, FALSE);
}

static void
on_model_speech_started (Relay * r, Call * call)
{
  static const Part clear_start = PART_LIT ("{\"event\":\"clear\","
      "\"streamSid\":\"");
  Part clear[] = {
    clear_start,
    {call->stream_sid, call->stream_sid_len},
    PART_LIT ("\"}"),
  };

  /* Twilio still holds audio: a mark not echoed yet */
  if (call->marks_echoed < call->marks_sent) {
    floor_conn_send_text (r, call->caller, clear, G_N_ELEMENTS (clear));
    /* the cleared marks come back, played or not */
    call->marks_echoed = call->marks_sent;
  }
  memcpy (call->discard_id, call->response_id, sizeof (call->discard_id));
  call->carry_len = 0;
}

static void
on_model_ready (Relay * r, Call * call)
{
  static const Part update = PART_LIT (SESSION_UPDATE);
  gsize at = 0;

  floor_conn_send_text (r, call->model, &update, 1);
  call->model_ready = TRUE;
  while (at + 4 <= call->held->len && call->model && !call->model->dead) {
    guint32 n;

    memcpy (&n, call->held->data + at, 4);
    send_append (r, call, (const gchar *) call->held->data + at + 4, n);
    at += 4 + n;
  }
  g_byte_array_set_size (call->held, 0);
}

void
floor_call_on_model_text (Relay * r, Call * call, const gchar * text, gsize len)
{
  gsize type_len = 0;
  const gchar *type = FLOOR_JSON_FIND (text, len, "\"type\":\"", &type_len);

  if (type == NULL)
    return;
  if (FLOOR_STR_IS (type, type_len, "response.output_audio.delta")
      || FLOOR_STR_IS (type, type_len, "response.audio.delta"))
    on_model_delta (r, call, text, len);
  else if (FLOOR_STR_IS (type, type_len, "input_audio_buffer.speech_started"))
    on_model_speech_started (r, call);
  else if (FLOOR_STR_IS (type, type_len, "response.output_audio.done")
      || FLOOR_STR_IS (type, type_len, "response.audio.done")) {
    if (call->carry_len)
      relay_decoded (r, call, "", 0, TRUE);
  } else if (FLOOR_STR_IS (type, type_len, "session.created")) {
    if (!call->model_ready)
      on_model_ready (r, call);
  } else if (FLOOR_STR_IS (type, type_len, "error")) {
    gchar *message = g_strndup (text, MIN (len, 300));

    floor_log ("warning", "model-error", call->number, message);
    g_free (message);
  }
}

/* ---- the model's connection --------------------------------------------- */

static void
model_connect (Relay * r, Call * call)
{
  gint fd = socket (r->model_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
      SOCK_CLOEXEC, 0);
  gint one = 1;

  if (fd < 0) {
    floor_call_fail (r, call, "cannot make a socket for the model");
    return;
  }
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof (one));
  if (connect (fd, (struct sockaddr *) &r->model_addr, r->model_addr_len) < 0
      && errno != EINPROGRESS) {
    close (fd);
    floor_call_fail (r, call, "cannot connect to the model");
    return;
  }
  call->model = floor_conn_new (r, CONN_MODEL, fd, EPOLLIN | EPOLLOUT);
  call->model->call = call;
  call->model->state = STATE_CONNECTING;
  call->model->polling_out = TRUE;
}

void
floor_model_on_connected (Relay * r, Conn * c)
{
  gint error = 0;
  socklen_t error_len = sizeof (error);
  guint64 raw[2] = { floor_relay_random (r), floor_relay_random (r) };
  gchar *key, *request;

  if (getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &error, &error_len) < 0
      || error != 0) {
    Call *call = c->call;

    floor_conn_close_now (r, c);
    floor_call_fail (r, call, "cannot connect to the model");
    return;
  }
  key = g_base64_encode ((const guchar *) raw, sizeof (raw));
  floor_ws_accept_for_key (key, strlen (key), c->expected_accept);
  request = g_strdup_printf ("GET %s HTTP/1.1\r\nHost: %s\r\n"
      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
      "Authorization: Bearer %s\r\n\r\n", r->model_target, r->model_host, key,
      r->api_key);
  c->state = STATE_HANDSHAKE;
  c->polling_out = FALSE;
  floor_conn_poll (r, c, EPOLLIN);
  floor_conn_write (r, c, (const guint8 *) request, strlen (request));
  /* the request holds the key: no copy lingers */
  memset (request, 0, strlen (request));
  g_free (request);
  g_free (key);
}

/* Returns the bytes of the HTTP response consumed, 0 if incomplete, -1 on
 * failure (the call is failed). */
gssize
floor_model_on_response (Relay * r, Conn * c)
{
  const gchar *head = (const gchar *) c->in;
  const gchar *end = g_strstr_len (head, c->in_len, "\r\n\r\n");
  const gchar *accept;
  gsize accept_len = 0, head_len;

  if (end == NULL) {
    if (c->in_len > HTTP_HEAD_MAX) {
      floor_call_fail (r, c->call, "the model's HTTP response is too long");
      return -1;
    }
    return 0;
  }
  head_len = end + 4 - head;
  if (head_len < 12 || memcmp (head, "HTTP/1.1 101", 12) != 0) {
    gchar status[4] = { 0, };

    if (head_len >= 12)
      memcpy (status, head + 9, 3);
    floor_log ("error", "model-refused", c->call->number, status);
    floor_call_fail (r, c->call, "the model refused the WebSocket upgrade");
    return -1;
  }
  accept = floor_http_find_header (head, head_len, "Sec-WebSocket-Accept",
      &accept_len);
  if (accept == NULL || accept_len != FLOOR_WS_ACCEPT_LEN
      || memcmp (accept, c->expected_accept, accept_len) != 0) {
    floor_call_fail (r, c->call, "the model's Sec-WebSocket-Accept is wrong");
    return -1;
  }
  c->state = STATE_OPEN;
  return head_len;
}

/* ---- the caller's upgrade ----------------------------------------------- */

/* Returns the bytes of the HTTP request consumed, 0 if incomplete, -1 if
 * the connection was closed. */
gssize
floor_caller_on_request (Relay * r, Conn * c)
{
  static const gchar refused[] = "HTTP/1.1 503 Service Unavailable\r\n"
      "Content-Length: 0\r\nConnection: close\r\n\r\n";
  static const gchar bad[] = "HTTP/1.1 400 Bad Request\r\n"
      "Content-Length: 0\r\nConnection: close\r\n\r\n";
  const gchar *head = (const gchar *) c->in;
  const gchar *end = g_strstr_len (head, c->in_len, "\r\n\r\n");
  const gchar *key;
  gsize key_len = 0, head_len;
  gchar accept[FLOOR_WS_ACCEPT_LEN + 1];
  gchar response[160];
  gint n;

  if (end == NULL) {
    if (c->in_len > HTTP_HEAD_MAX) {
      floor_conn_close_now (r, c);
      return -1;
    }
    return 0;
  }
  head_len = end + 4 - head;
  key = floor_http_find_header (head, head_len, "Sec-WebSocket-Key", &key_len);
  if (head_len < 4 || memcmp (head, "GET ", 4) != 0 || key == NULL
      || !floor_ws_key_is_valid (key, key_len)) {
    floor_conn_write (r, c, (const guint8 *) bad, sizeof (bad) - 1);
    floor_conn_close_now (r, c);
    return -1;
  }
  if (r->n_calls >= r->max_calls) {
    floor_log ("warning", "call-refused", 0, "--max-calls reached");
    floor_conn_write (r, c, (const guint8 *) refused, sizeof (refused) - 1);
    floor_conn_close_now (r, c);
    return -1;
  }
  floor_ws_accept_for_key (key, key_len, accept);
  n = g_snprintf (response, sizeof (response), "HTTP/1.1 101 Switching "
      "Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: %s\r\n\r\n", accept);
  floor_conn_write (r, c, (const guint8 *) response, n);
  if (c->dead)
    return -1;

  call_new (r, c);
  c->state = STATE_OPEN;
  r->n_calls++;
  return head_len;
}

/* ---- the caller's connection -------------------------------------------- */

static void
on_twilio_start (Relay * r, Call * call, const gchar * text, gsize len)
{
  gsize sid_len = 0;
  const gchar *sid = FLOOR_JSON_FIND (text, len, "\"streamSid\":\"", &sid_len);

  if (call->stream_sid_len || call->model)
    return;
  if (sid == NULL || sid_len == 0 || sid_len > SID_MAX
      || memchr (sid, '\\', sid_len)) {
    floor_call_fail (r, call, "Twilio's start has no usable streamSid");
    return;
  }
  memcpy (call->stream_sid, sid, sid_len);
  call->stream_sid[sid_len] = '\0';
  call->stream_sid_len = sid_len;
  if (r->model_delay_ms == 0) {
    model_connect (r, call);
    return;
  }
  /* for the tests: the caller's audio is held until then */
  call->model_due_us = g_get_monotonic_time () +
      (gint64) r->model_delay_ms * 1000;
  g_queue_push_tail_link (&r->waiting_for_model, &call->waiting_link);
  call->waiting_for_model = TRUE;
}

gint
floor_call_model_wait_ms (Relay * r)
{
  Call *first;
  gint64 wait_us;

  if (r->waiting_for_model.head == NULL)
    return -1;
  /* one delay for every call: the queue is in due order */
  first = r->waiting_for_model.head->data;
  wait_us = first->model_due_us - g_get_monotonic_time ();
  /* rounded up, so the loop does not wake just before it is due */
  return wait_us <= 0 ? 0 : (gint) ((wait_us + 999) / 1000);
}

void
floor_call_connect_due (Relay * r)
{
  gint64 now = g_get_monotonic_time ();

  while (r->waiting_for_model.head) {
    Call *call = r->waiting_for_model.head->data;

    if (call->model_due_us > now)
      break;
    call_stop_waiting (r, call);
    if (!call->dead && call->caller && !call->caller->dead)
      model_connect (r, call);
  }
}

static void
on_twilio_stop (Relay * r, Call * call)
{
  /* a model connection not opened yet will not be */
  call_stop_waiting (r, call);
  floor_conn_close_gracefully (r, call->model, 1000);
}

static void
on_twilio_media (Relay * r, Call * call, const gchar * text, gsize len)
{
  gsize payload_len = 0;
  const gchar *payload = FLOOR_JSON_FIND (text, len, "\"payload\":\"",
      &payload_len);
  guint32 n;

  if (payload == NULL || call->stream_sid_len == 0)
    return;
  if (call->model_ready) {
    if (call->model && !call->model->dead)
      send_append (r, call, payload, payload_len);
    return;
  }
  /* the model is not ready yet: held in order, never dropped */
  n = payload_len;
  g_byte_array_append (call->held, (const guint8 *) &n, 4);
  g_byte_array_append (call->held, (const guint8 *) payload, payload_len);
}

static void
on_twilio_mark (Call * call, const gchar * text, gsize len)
{
  gsize name_len = 0;
  const gchar *name = FLOOR_JSON_FIND (text, len, "\"name\":\"", &name_len);
  guint64 number = 0;
  gsize i;

  if (name == NULL || name_len < 2 || name[0] != 'f' || name_len > 21)
    return;
  for (i = 1; i < name_len; i++) {
    if (!g_ascii_isdigit (name[i]))
      return;
    number = number * 10 + (name[i] - '0');
  }
  call->marks_echoed = MAX (call->marks_echoed, number);
}

void
floor_call_on_caller_text (Relay * r, Call * call, const gchar * text,
    gsize len)
{
  gsize event_len = 0;
  const gchar *event = FLOOR_JSON_FIND (text, len, "\"event\":\"", &event_len);

  if (event == NULL)
    return;
  if (FLOOR_STR_IS (event, event_len, "media"))
    on_twilio_media (r, call, text, len);
  else if (FLOOR_STR_IS (event, event_len, "mark"))
    on_twilio_mark (call, text, len);
  else if (FLOOR_STR_IS (event, event_len, "start"))
    on_twilio_start (r, call, text, len);
  else if (FLOOR_STR_IS (event, event_len, "stop"))
    on_twilio_stop (r, call);
}
