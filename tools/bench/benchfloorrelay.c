/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * realtime-bridge-floor: a MEASURING INSTRUMENT, not a product.
 *
 * The least work a correct Twilio <-> OpenAI Realtime bridge must do per
 * call in passthrough (mu-law end to end), so that realtime-bridge-bench
 * (--launcher realtime-bridge-floor) can measure what any bridge costs on
 * this machine at the very least: the kernel's TCP and wake-up work for
 * every 20 ms frame, plus a few hundred bytes of copying. Whatever a real
 * bridge (ours, Node, ...) costs above this row is its own overhead.
 *
 * Deliberately minimal: ONE thread, one level-triggered epoll loop,
 * non-blocking sockets, plain recv/send (one send per outgoing message;
 * the rest is queued until EPOLLOUT), WebSocket framing by hand
 * (benchfloorws.c), JSON fields found by string scanning (compact JSON as
 * Twilio and OpenAI send it), outgoing JSON built with memcpy. GLib only
 * off the media path (options, the handshake's SHA-1 and base64).
 *
 * It takes the launcher's command line (--address, --port, --realtime-url,
 * --pipeline passthrough, --max-calls; any other option is ignored), prints
 * the launcher's `listening` JSON line and otherwise only a line per failed
 * or refused call.
 *
 * Knobs the benchmark cannot pass on the command line (it passes only the
 * launcher's options), read from the environment:
 * - REALTIME_BRIDGE_FLOOR_FRAME_MEDIA=1: as --frame-media, the model's
 *   audio sent as the launcher sends it (see benchfloorcall.c).
 * - REALTIME_BRIDGE_FLOOR_MODEL_DELAY_MS=N, for the tests: open the model
 *   connection this long after `start` (a deadline in the epoll loop, never
 *   a sleep), so that N ms of the caller's audio must be held until the
 *   model's session is ready and then sent in order. 0 (the default) opens
 *   it at once, as the launcher does.
 *
 * Two layers (benchfloorrelay.h): this file, the connections and the loop
 * (sockets, queued writes, WebSocket frames, the epoll loop, options and
 * main), and benchfloorcall.c, the calls (both WebSocket handshakes, what a
 * call does with Twilio's and the model's events).
 */
/* accept4 */
#define _GNU_SOURCE

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "benchfloorrelay.h"
#include "benchfloorws.h"

/* a whole frame and then some more bytes behind it */
#define IN_BUFFER_MAX (MAX_PAYLOAD + FLOOR_WS_MAX_HEADER + 65536)
#define IN_BUFFER_MIN 16384
/* a peer that takes no more than this is stalled: the call ends */
#define OUT_QUEUE_MAX (8 * 1024 * 1024)
/* how long a close handshake may take before the socket is just closed */
#define CLOSE_GRACE_US (3 * G_USEC_PER_SEC)
#define MAX_EVENTS 256
/* REALTIME_BRIDGE_FLOOR_MODEL_DELAY_MS at most */
#define MODEL_DELAY_MAX_MS 60000

/* Where outgoing frames are built: one send each. */
static guint8 scratch[FLOOR_WS_MAX_HEADER + MAX_PAYLOAD + 4096];

/* ---- log ---------------------------------------------------------------- */

void
floor_log (const gchar * level, const gchar * event, guint call,
    const gchar * message)
{
  gchar *escaped = g_strescape (message ? message : "", NULL);

  printf ("{\"level\":\"%s\",\"event\":\"%s\",\"call\":%u,\"message\":\"%s\"}"
      "\n", level, event, call, escaped);
  fflush (stdout);
  g_free (escaped);
}

/* ---- connections -------------------------------------------------------- */

guint64
floor_relay_random (Relay * r)
{
  /* xorshift64*: mask keys and handshake keys need not be cryptographic
   * on loopback, only fresh */
  r->rng ^= r->rng >> 12;
  r->rng ^= r->rng << 25;
  r->rng ^= r->rng >> 27;
  return r->rng * G_GUINT64_CONSTANT (2685821657736338717);
}

Conn *
floor_conn_new (Relay * r, ConnKind kind, gint fd, guint32 events)
{
  Conn *c = g_new0 (Conn, 1);
  struct epoll_event ev = { 0, };

  c->kind = kind;
  c->fd = fd;
  c->next = r->conns;
  if (r->conns)
    r->conns->prev = c;
  r->conns = c;
  ev.events = events;
  ev.data.ptr = c;
  if (epoll_ctl (r->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
    g_error ("epoll_ctl: %s", g_strerror (errno));
  return c;
}

void
floor_conn_poll (Relay * r, Conn * c, guint32 events)
{
  struct epoll_event ev = { 0, };

  ev.events = events;
  ev.data.ptr = c;
  epoll_ctl (r->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void
call_maybe_free (Relay * r, Call * call)
{
  if (call->dead || call->caller || call->model)
    return;
  call->dead = TRUE;
  call->next_dead = r->dead_calls;
  r->dead_calls = call;
  r->n_calls--;
}

/* Closes the socket now; the memory goes after this batch of events. */
void
floor_conn_close_now (Relay * r, Conn * c)
{
  Call *call = c->call;

  if (c->dead)
    return;
  c->dead = TRUE;
  if (c->state == STATE_CLOSING)
    r->n_closing--;
  epoll_ctl (r->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
  close (c->fd);
  if (c->prev)
    c->prev->next = c->next;
  else
    r->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  c->next_dead = r->dead_conns;
  r->dead_conns = c;
  if (call) {
    if (call->caller == c)
      call->caller = NULL;
    if (call->model == c)
      call->model = NULL;
    c->call = NULL;
    call_maybe_free (r, call);
  }
}

static void
free_dead (Relay * r)
{
  while (r->dead_conns) {
    Conn *c = r->dead_conns;

    r->dead_conns = c->next_dead;
    g_free (c->in);
    g_free (c->out);
    g_free (c);
  }
  while (r->dead_calls) {
    Call *call = r->dead_calls;

    r->dead_calls = call->next_dead;
    floor_call_free (r, call);
  }
}

/* Ends @c's call (or just @c, before it has one) after a failed write. */
static void
conn_fail (Relay * r, Conn * c, const gchar * why)
{
  Call *call = c->call;

  floor_conn_close_now (r, c);
  if (call)
    floor_call_fail (r, call, why);
}

/* Sends @len bytes, or queues what the socket does not take now. */
void
floor_conn_write (Relay * r, Conn * c, const guint8 * data, gsize len)
{
  if (c->dead)
    return;
  if (c->out_len == 0) {
    ssize_t n = send (c->fd, data, len, MSG_NOSIGNAL);

    if (n == (ssize_t) len)
      return;
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        conn_fail (r, c, "a peer went away (send failed)");
        return;
      }
      n = 0;
    }
    data += n;
    len -= n;
  }
  if (c->out_len + len > OUT_QUEUE_MAX) {
    conn_fail (r, c, "a peer stalled (send queue full)");
    return;
  }
  if (c->out_len + len > c->out_cap) {
    c->out_cap = MAX (c->out_cap * 2, c->out_len + len);
    c->out = g_realloc (c->out, c->out_cap);
  }
  memcpy (c->out + c->out_len, data, len);
  c->out_len += len;
  if (!c->polling_out) {
    c->polling_out = TRUE;
    floor_conn_poll (r, c, EPOLLIN | EPOLLOUT);
  }
}

static void
conn_flush (Relay * r, Conn * c)
{
  ssize_t n = send (c->fd, c->out, c->out_len, MSG_NOSIGNAL);

  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      conn_fail (r, c, "a peer went away (send failed)");
    return;
  }
  memmove (c->out, c->out + n, c->out_len - n);
  c->out_len -= n;
  if (c->out_len == 0) {
    c->polling_out = FALSE;
    floor_conn_poll (r, c, EPOLLIN);
  }
}

/* One WebSocket frame of the concatenated @parts, masked towards the
 * model (we are its client), built in one buffer and sent at once. */
static void
conn_send_frame (Relay * r, Conn * c, guint opcode, const Part * parts,
    guint n_parts)
{
  gsize len = 0, header, at;
  guint i;
  guint64 key = 0;
  gboolean masked;

  if (c == NULL || c->dead)
    return;
  masked = c->kind == CONN_MODEL;
  for (i = 0; i < n_parts; i++)
    len += parts[i].len;
  if (len > sizeof (scratch) - FLOOR_WS_MAX_HEADER) {
    Call *call = c->call;

    /* only a near-limit delta rebuilt as one media can be this large */
    floor_conn_close_now (r, c);
    if (call)
      floor_call_fail (r, call, "an outgoing message would be too large");
    return;
  }
  if (masked)
    key = floor_relay_random (r);
  header = floor_ws_write_header (scratch, opcode, len,
      masked ? (const guint8 *) &key : NULL);
  at = header;
  for (i = 0; i < n_parts; i++) {
    memcpy (scratch + at, parts[i].data, parts[i].len);
    at += parts[i].len;
  }
  if (masked)
    floor_ws_mask (scratch + header, len, (const guint8 *) &key);
  floor_conn_write (r, c, scratch, at);
}

void
floor_conn_send_text (Relay * r, Conn * c, const Part * parts, guint n_parts)
{
  conn_send_frame (r, c, FLOOR_WS_OP_TEXT, parts, n_parts);
}

/* Sends our close frame and waits (a while) for the peer's. */
void
floor_conn_close_gracefully (Relay * r, Conn * c, guint16 code)
{
  guint8 payload[2] = { code >> 8, code & 0xff };
  Part part = { payload, 2 };

  if (c == NULL || c->dead || c->state == STATE_CLOSING)
    return;
  if (c->state != STATE_OPEN) {
    floor_conn_close_now (r, c);
    return;
  }
  conn_send_frame (r, c, FLOOR_WS_OP_CLOSE, &part, 1);
  if (c->dead)
    return;
  c->state = STATE_CLOSING;
  c->closing_since = g_get_monotonic_time ();
  r->n_closing++;
}

/* ---- frames ------------------------------------------------------------- */

/* The peer's close: ours back, then the other side of the call closes. */
static void
on_close_frame (Relay * r, Conn * c, const guint8 * payload, gsize len)
{
  Call *call = c->call;

  if (c->state != STATE_CLOSING) {
    Part part = { payload, MIN (len, 2) };

    conn_send_frame (r, c, FLOOR_WS_OP_CLOSE, &part, 1);
  }
  floor_conn_close_now (r, c);
  if (call == NULL)
    return;
  if (c->kind == CONN_CALLER)
    floor_conn_close_gracefully (r, call->model, 1000);
  else
    floor_conn_close_gracefully (r, call->caller, 1000);
}

static void
on_frame (Relay * r, Conn * c, const FloorWsFrame * f, guint8 * payload)
{
  Call *call = c->call;

  switch (f->opcode) {
    case FLOOR_WS_OP_TEXT:
      if (c->state != STATE_OPEN || call == NULL)
        break;
      if (c->kind == CONN_CALLER)
        floor_call_on_caller_text (r, call, (const gchar *) payload,
            f->payload_len);
      else
        floor_call_on_model_text (r, call, (const gchar *) payload,
            f->payload_len);
      break;
    case FLOOR_WS_OP_PING:{
      Part part = { payload, f->payload_len };

      conn_send_frame (r, c, FLOOR_WS_OP_PONG, &part, 1);
      break;
    }
    case FLOOR_WS_OP_CLOSE:
      on_close_frame (r, c, payload, f->payload_len);
      break;
    default:
      /* binary messages and pongs */
      break;
  }
}

/* Every complete frame in the buffer; returns the bytes consumed. */
static gsize
parse_frames (Relay * r, Conn * c, gsize at)
{
  while (!c->dead && at < c->in_len) {
    FloorWsFrame f;
    FloorWsParse result = floor_ws_parse_frame (c->in + at, c->in_len - at,
        MAX_PAYLOAD, &f);
    guint8 *payload;

    if (result == FLOOR_WS_FRAME_INCOMPLETE)
      break;
    /* clients mask, servers do not; no fragmented messages here */
    if (result == FLOOR_WS_FRAME_INVALID
        || f.masked != (c->kind == CONN_CALLER) || !f.fin
        || f.opcode == FLOOR_WS_OP_CONTINUATION) {
      Call *call = c->call;

      floor_conn_close_now (r, c);
      if (call)
        floor_call_fail (r, call, c->kind == CONN_CALLER ? "the caller sent a "
            "malformed or fragmented WebSocket frame" : "the model sent a "
            "malformed or fragmented WebSocket frame");
      break;
    }
    payload = c->in + at + f.header_len;
    if (f.masked)
      floor_ws_mask (payload, f.payload_len, f.mask);
    at += f.header_len + f.payload_len;
    on_frame (r, c, &f, payload);
  }
  return at;
}

static void
on_eof (Relay * r, Conn * c)
{
  Call *call = c->call;
  gboolean expected = c->state == STATE_CLOSING;

  floor_conn_close_now (r, c);
  if (call == NULL)
    return;
  if (c->kind == CONN_CALLER) {
    floor_conn_close_gracefully (r, call->model, 1000);
  } else if (!expected) {
    floor_call_fail (r, call, "the model's connection ended without a close");
  }
}

static void
on_readable (Relay * r, Conn * c)
{
  ssize_t n;
  gsize used = 0;
  gssize head;

  if (c->in_cap - c->in_len < 4096) {
    if (c->in_cap >= IN_BUFFER_MAX) {
      Call *call = c->call;

      floor_conn_close_now (r, c);
      if (call)
        floor_call_fail (r, call, "a message is too large");
      return;
    }
    c->in_cap = MIN (MAX (c->in_cap * 2, IN_BUFFER_MIN), IN_BUFFER_MAX);
    c->in = g_realloc (c->in, c->in_cap);
  }
  n = recv (c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
      return;
    on_eof (r, c);
    return;
  }
  if (n == 0) {
    on_eof (r, c);
    return;
  }
  c->in_len += n;

  if (c->state == STATE_HANDSHAKE) {
    head = c->kind == CONN_CALLER ? floor_caller_on_request (r, c) :
        floor_model_on_response (r, c);
    if (head <= 0)
      return;
    used = head;
  }
  used = parse_frames (r, c, used);
  if (c->dead)
    return;
  /* usually every byte was whole frames */
  if (used < c->in_len)
    memmove (c->in, c->in + used, c->in_len - used);
  c->in_len -= used;
}

static void
on_accept (Relay * r, Conn * listener)
{
  guint i;

  for (i = 0; i < 16; i++) {
    gint fd = accept4 (listener->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    gint one = 1;
    Conn *c;

    if (fd < 0)
      return;
    setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof (one));
    c = floor_conn_new (r, CONN_CALLER, fd, EPOLLIN);
    c->state = STATE_HANDSHAKE;
  }
}

/* Closes the sockets whose close handshake took too long. */
static void
sweep_closing (Relay * r)
{
  gint64 now = g_get_monotonic_time ();
  Conn *c, *next;

  if (r->n_closing == 0 || now < r->next_sweep_us)
    return;
  r->next_sweep_us = now + G_USEC_PER_SEC;
  for (c = r->conns; c; c = next) {
    next = c->next;
    if (c->state == STATE_CLOSING && now - c->closing_since > CLOSE_GRACE_US)
      floor_conn_close_now (r, c);
  }
}

static void
run (Relay * r)
{
  struct epoll_event events[MAX_EVENTS];

  while (!r->quit) {
    gint timeout = r->n_closing ? 1000 : -1;
    gint model_wait = floor_call_model_wait_ms (r);
    gint n, i;

    /* a call waiting to open its model connection (the tests' delay) */
    if (model_wait >= 0 && (timeout < 0 || model_wait < timeout))
      timeout = model_wait;
    n = epoll_wait (r->epoll_fd, events, MAX_EVENTS, timeout);

    if (n < 0) {
      if (errno == EINTR)
        continue;
      g_error ("epoll_wait: %s", g_strerror (errno));
    }
    for (i = 0; i < n; i++) {
      Conn *c = events[i].data.ptr;
      guint32 ev = events[i].events;

      if (c->dead)
        continue;
      switch (c->kind) {
        case CONN_LISTENER:
          on_accept (r, c);
          break;
        case CONN_SIGNAL:
          r->quit = TRUE;
          break;
        case CONN_CALLER:
        case CONN_MODEL:
          if (ev & EPOLLOUT) {
            if (c->state == STATE_CONNECTING)
              floor_model_on_connected (r, c);
            else
              conn_flush (r, c);
          }
          if (!c->dead && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
              && c->state != STATE_CONNECTING)
            on_readable (r, c);
          break;
      }
    }
    free_dead (r);
    floor_call_connect_due (r);
    sweep_closing (r);
  }
}

/* ---- setup -------------------------------------------------------------- */

static gboolean
resolve_model (Relay * r, const gchar * url, GError ** error)
{
  GUri *uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, error);
  const gchar *path, *query;
  struct addrinfo hints = { 0, }, *found = NULL;
  gchar port[8];
  gint port_number, rc;

  if (uri == NULL)
    return FALSE;
  if (g_strcmp0 (g_uri_get_scheme (uri), "ws") != 0
      || g_uri_get_host (uri) == NULL) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--realtime-url must be ws://HOST[:PORT]/PATH (no TLS here)");
    g_uri_unref (uri);
    return FALSE;
  }
  port_number = g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : 80;
  g_snprintf (port, sizeof (port), "%d", port_number);
  path = *g_uri_get_path (uri) ? g_uri_get_path (uri) : "/";
  query = g_uri_get_query (uri);
  /* the launcher names the model the same way when the URL does not */
  if (query == NULL)
    r->model_target = g_strdup_printf ("%s?model=gpt-realtime", path);
  else if (!g_str_has_prefix (query, "model=") && !strstr (query, "&model="))
    r->model_target = g_strdup_printf ("%s?%s&model=gpt-realtime", path, query);
  else
    r->model_target = g_strdup_printf ("%s?%s", path, query);
  r->model_host = g_strdup_printf ("%s:%d", g_uri_get_host (uri), port_number);

  hints.ai_socktype = SOCK_STREAM;
  rc = getaddrinfo (g_uri_get_host (uri), port, &hints, &found);
  if (rc != 0 || found == NULL) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
        "cannot resolve %s: %s", g_uri_get_host (uri), gai_strerror (rc));
    g_uri_unref (uri);
    return FALSE;
  }
  memcpy (&r->model_addr, found->ai_addr, found->ai_addrlen);
  r->model_addr_len = found->ai_addrlen;
  freeaddrinfo (found);
  g_uri_unref (uri);
  return TRUE;
}

static gint
listen_on (const gchar * address, gint port, guint * bound_port,
    GError ** error)
{
  struct addrinfo hints = { 0, }, *found = NULL;
  gchar port_text[8];
  struct sockaddr_storage bound;
  socklen_t bound_len = sizeof (bound);
  gint fd, one = 1;

  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
  g_snprintf (port_text, sizeof (port_text), "%d", port);
  if (getaddrinfo (address, port_text, &hints, &found) != 0 || found == NULL) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "bad --address %s",
        address);
    return -1;
  }
  fd = socket (found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd >= 0)
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof (one));
  if (fd < 0 || bind (fd, found->ai_addr, found->ai_addrlen) < 0
      || listen (fd, 1024) < 0
      || getsockname (fd, (struct sockaddr *) &bound, &bound_len) < 0) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot listen on "
        "%s:%d: %s", address, port, g_strerror (errno));
    if (fd >= 0)
      close (fd);
    freeaddrinfo (found);
    return -1;
  }
  freeaddrinfo (found);
  *bound_port = ntohs (bound.ss_family == AF_INET6 ?
      ((struct sockaddr_in6 *) &bound)->sin6_port :
      ((struct sockaddr_in *) &bound)->sin_port);
  return fd;
}

gint
main (gint argc, gchar ** argv)
{
  gchar *address = NULL, *realtime_url = NULL, *pipeline = NULL;
  gint port = 0, max_calls = 10;
  Relay r = { 0, };
  GOptionEntry entries[] = {
    {"address", 0, 0, G_OPTION_ARG_STRING, &address,
        "Address to listen on (default 127.0.0.1)", "ADDRESS"},
    {"port", 0, 0, G_OPTION_ARG_INT, &port, "Port (0 = any free port)",
        "PORT"},
    {"realtime-url", 0, 0, G_OPTION_ARG_STRING, &realtime_url,
        "The model's ws:// URL (required)", "URL"},
    {"pipeline", 0, 0, G_OPTION_ARG_STRING, &pipeline,
        "Only 'passthrough' (the default)", "NAME"},
    {"max-calls", 0, 0, G_OPTION_ARG_INT, &max_calls,
        "Concurrent calls; more are refused with 503 (default 10)", "N"},
    {"frame-media", 0, 0, G_OPTION_ARG_NONE, &r.frame_media,
        "Send the model's audio as the launcher does: one media per 20 ms "
          "frame, a mark after every 3 (also "
          "REALTIME_BRIDGE_FLOOR_FRAME_MEDIA=1)", NULL},
    {NULL}
  };
  GOptionContext *context = g_option_context_new ("- the least bridge: a "
      "measuring instrument for realtime-bridge-bench, not a product");
  GError *error = NULL;
  const gchar *delay;
  sigset_t signals;
  gint listen_fd, signal_fd, status = 1;
  guint bound_port = 0;

  /* the launcher's other options are accepted and ignored */
  g_option_context_set_ignore_unknown_options (context, TRUE);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    goto out;
  if (realtime_url == NULL) {
    g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--realtime-url is required");
    goto out;
  }
  if (pipeline && strcmp (pipeline, "passthrough") != 0) {
    g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "only --pipeline passthrough can be relayed without decoding, not "
        "'%s'", pipeline);
    goto out;
  }
  r.api_key = g_strdup (g_getenv ("OPENAI_API_KEY"));
  if (r.api_key == NULL || *r.api_key == '\0') {
    g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "OPENAI_API_KEY is not set");
    goto out;
  }
  /* the benchmark passes only the launcher's options */
  if (g_strcmp0 (g_getenv ("REALTIME_BRIDGE_FLOOR_FRAME_MEDIA"), "1") == 0)
    r.frame_media = TRUE;
  delay = g_getenv ("REALTIME_BRIDGE_FLOOR_MODEL_DELAY_MS");
  if (delay && *delay) {
    guint64 ms = 0;

    if (!g_ascii_string_to_unsigned (delay, 10, 0, MODEL_DELAY_MAX_MS, &ms,
            &error)) {
      g_prefix_error (&error, "REALTIME_BRIDGE_FLOOR_MODEL_DELAY_MS: ");
      goto out;
    }
    r.model_delay_ms = ms;
  }
  r.max_calls = MAX (max_calls, 1);
  r.rng = g_get_monotonic_time () ^ ((guint64) getpid () << 32) ^
      G_GUINT64_CONSTANT (0x9e3779b97f4a7c15);
  if (!resolve_model (&r, realtime_url, &error))
    goto out;

  sigemptyset (&signals);
  sigaddset (&signals, SIGTERM);
  sigaddset (&signals, SIGINT);
  sigprocmask (SIG_BLOCK, &signals, NULL);
  signal (SIGPIPE, SIG_IGN);
  r.epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
  listen_fd = listen_on (address ? address : "127.0.0.1", port, &bound_port,
      &error);
  if (listen_fd < 0)
    goto out;
  floor_conn_new (&r, CONN_LISTENER, listen_fd, EPOLLIN);
  signal_fd = signalfd (-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
  floor_conn_new (&r, CONN_SIGNAL, signal_fd, EPOLLIN);

  printf ("{\"level\":\"info\",\"event\":\"listening\",\"port\":%u,"
      "\"address\":\"%s\",\"program\":\"realtime-bridge-floor\","
      "\"pipeline\":\"passthrough\",\"max-calls\":%u,"
      "\"frame-media\":%s,\"model-delay-ms\":%u}\n", bound_port,
      address ? address : "127.0.0.1", r.max_calls,
      r.frame_media ? "true" : "false", r.model_delay_ms);
  fflush (stdout);

  run (&r);
  while (r.conns)
    floor_conn_close_now (&r, r.conns);
  free_dead (&r);
  status = 0;

out:
  if (error) {
    gchar *escaped = g_strescape (error->message, NULL);

    printf ("{\"level\":\"error\",\"event\":\"failed\",\"message\":\"%s\"}\n",
        escaped);
    fflush (stdout);
    g_printerr ("realtime-bridge-floor: %s\n", error->message);
    g_free (escaped);
    g_error_free (error);
  }
  if (r.epoll_fd > 0)
    close (r.epoll_fd);
  g_free (r.model_host);
  g_free (r.model_target);
  if (r.api_key)
    memset (r.api_key, 0, strlen (r.api_key));
  g_free (r.api_key);
  g_free (address);
  g_free (realtime_url);
  g_free (pipeline);
  g_option_context_free (context);
  return status;
}
