/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * realtime-bridge-floor's two layers (private to the program):
 * - benchfloorrelay.c, the connections and the loop: sockets, writes and
 *   queued output, WebSocket frames, the epoll run loop, options and main;
 * - benchfloorcall.c, the calls: the caller's upgrade, what a call does with
 *   Twilio's and the model's events, the model's connection and handshake,
 *   held caller audio.
 * Everything runs on the one loop thread.
 */
#pragma once

#include <sys/socket.h>

#include <glib.h>

#include "benchfloorws.h"

G_BEGIN_DECLS

/* the largest WebSocket message taken from either side */
#define MAX_PAYLOAD (1024 * 1024)
#define HTTP_HEAD_MAX 8192
#define FRAME_BYTES 160
#define SID_MAX 64
#define ID_MAX 64

typedef enum
{
  CONN_LISTENER,
  CONN_SIGNAL,
  CONN_CALLER,
  CONN_MODEL,
} ConnKind;

typedef enum
{
  STATE_CONNECTING,             /* model: TCP connect in progress */
  STATE_HANDSHAKE,              /* waiting for the HTTP request/response */
  STATE_OPEN,
  STATE_CLOSING,                /* our close frame sent, waiting for theirs */
} ConnState;

typedef struct _Call Call;
typedef struct _Conn Conn;

struct _Conn
{
  ConnKind kind;
  ConnState state;
  gint fd;
  Call *call;
  guint8 *in;
  gsize in_len, in_cap;
  guint8 *out;                  /* bytes a short send left behind */
  gsize out_len, out_cap;
  gboolean polling_out;
  gint64 closing_since;
  gchar expected_accept[FLOOR_WS_ACCEPT_LEN + 1];
  Conn *prev, *next;            /* every live connection */
  gboolean dead;
  Conn *next_dead;
};

struct _Call
{
  guint number;
  Conn *caller, *model;
  gchar stream_sid[SID_MAX + 1];
  gsize stream_sid_len;
  gboolean model_ready;
  GByteArray *held;             /* (guint32 length, payload) of each media */
  guint64 marks_sent, marks_echoed;
  gchar response_id[ID_MAX + 1];
  gchar discard_id[ID_MAX + 1];
  guint8 carry[FRAME_BYTES];
  gsize carry_len;
  /* REALTIME_BRIDGE_FLOOR_MODEL_DELAY_MS: in Relay.waiting_for_model
   * until model_due_us */
  gboolean waiting_for_model;
  GList waiting_link;
  gint64 model_due_us;
  gboolean dead;
  Call *next_dead;
};

typedef struct
{
  gint epoll_fd;
  Conn *conns;
  Conn *dead_conns;
  Call *dead_calls;
  guint n_calls, max_calls, calls_total;
  guint n_closing;
  gint64 next_sweep_us;
  gboolean quit;
  gboolean frame_media;
  guint model_delay_ms;
  GQueue waiting_for_model;     /* Call, the earliest due first */
  guint64 rng;

  struct sockaddr_storage model_addr;
  socklen_t model_addr_len;
  gchar *model_host;            /* Host header */
  gchar *model_target;          /* path and query */
  gchar *api_key;
} Relay;

/* One piece of an outgoing message. */
typedef struct
{
  const void *data;
  gsize len;
} Part;

#define PART_LIT(lit) { (lit), sizeof (lit) - 1 }

/* ---- benchfloorrelay.c: connections ---- */

/* One JSON line on stdout, as the launcher logs. */
void floor_log (const gchar * level, const gchar * event, guint call,
    const gchar * message);
/* Fresh (not cryptographic) random bits for mask and handshake keys. */
guint64 floor_relay_random (Relay * r);
Conn *floor_conn_new (Relay * r, ConnKind kind, gint fd, guint32 events);
void floor_conn_poll (Relay * r, Conn * c, guint32 events);
/* Closes the socket now; the memory goes after this batch of events. */
void floor_conn_close_now (Relay * r, Conn * c);
/* Sends @len bytes, or queues what the socket does not take now. */
void floor_conn_write (Relay * r, Conn * c, const guint8 * data, gsize len);
/* One text message of the concatenated @parts (masked towards the model). */
void floor_conn_send_text (Relay * r, Conn * c, const Part * parts,
    guint n_parts);
/* Sends our close frame and waits (a while) for the peer's. */
void floor_conn_close_gracefully (Relay * r, Conn * c, guint16 code);

/* ---- benchfloorcall.c: calls ---- */

/* The caller's HTTP upgrade: a call begins (or 400, or 503 beyond
 * --max-calls). Returns the bytes of the request consumed, 0 if incomplete,
 * -1 if the connection was closed. */
gssize floor_caller_on_request (Relay * r, Conn * c);
void floor_call_free (Relay * r, Call * call);
/* Logs @why, drops the model's connection and closes the caller's (1011). */
void floor_call_fail (Relay * r, Call * call, const gchar * why);
void floor_call_on_caller_text (Relay * r, Call * call, const gchar * text,
    gsize len);
void floor_call_on_model_text (Relay * r, Call * call, const gchar * text,
    gsize len);
/* The model's TCP connect finished: sends the WebSocket upgrade. */
void floor_model_on_connected (Relay * r, Conn * c);
/* Returns the bytes of the model's HTTP response consumed, 0 if incomplete,
 * -1 on failure (the call is failed). */
gssize floor_model_on_response (Relay * r, Conn * c);
/* Milliseconds until a waiting call's model connection is due (rounded up),
 * or -1 if no call waits. */
gint floor_call_model_wait_ms (Relay * r);
/* Opens the model connection of every waiting call that is due. */
void floor_call_connect_due (Relay * r);

G_END_DECLS
