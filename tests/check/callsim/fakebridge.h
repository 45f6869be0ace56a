/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A fake bridge for the call simulator's tests: a libsoup WebSocket server
 * on 127.0.0.1, port 0, in its own thread with its own GMainContext. It
 * records everything the simulator sends (with arrival times) and runs a
 * per-test script on the server thread to answer.
 */
#ifndef __FAKE_BRIDGE_H__
#define __FAKE_BRIDGE_H__

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _FakeBridge FakeBridge;
typedef struct _FakeConn FakeConn;

/* One received frame. */
typedef struct
{
  gchar *text;                  /* NULL for a binary frame */
  gint64 arrival_us;
} FakeFrame;

struct _FakeConn
{
  FakeBridge *bridge;
  SoupWebsocketConnection *ws;
  gchar *user_agent;
  gchar *signature;             /* X-Twilio-Signature or NULL */
  gboolean has_extensions;      /* Sec-WebSocket-Extensions offered */
  gboolean has_protocol;        /* Sec-WebSocket-Protocol offered */
  gchar *stream_sid;            /* from start */
  GPtrArray *frames;            /* FakeFrame, under the bridge's lock */
  gboolean closed;
  gushort close_code;
  GHashTable *marks_sent;       /* name -> gint64 * monotonic us */
  gpointer script_data;         /* the script's own state, g_free'd */
};

/* Runs on the server thread for each text frame that is a JSON object, with
 * its "event" (may be NULL); @message is NULL for other frames. */
typedef void (*FakeScriptFunc) (FakeConn * conn, const gchar * event,
    JsonObject * message);

FakeBridge *fake_bridge_new (FakeScriptFunc script);
/* Reject upgrades whose X-Twilio-Signature is not HMAC-SHA1(@token,
 * @signed_url) with 403. */
void fake_bridge_require_signature (FakeBridge * bridge, const gchar * token,
    const gchar * signed_url);
void fake_bridge_free (FakeBridge * bridge);
guint fake_bridge_get_port (FakeBridge * bridge);
gchar *fake_bridge_get_url (FakeBridge * bridge);
/* Connections accepted so far (owned by the bridge). Read after the
 * simulator has exited. */
GPtrArray *fake_bridge_get_connections (FakeBridge * bridge);
guint fake_bridge_get_rejected (FakeBridge * bridge);

/* Helpers for scripts (server thread only). */
void fake_conn_send_text (FakeConn * conn, const gchar * text);
void fake_conn_send_media (FakeConn * conn, const guint8 * mulaw, gsize len);
void fake_conn_send_mark (FakeConn * conn, const gchar * name);
void fake_conn_send_clear (FakeConn * conn);
/* Calls @func (@conn) on the server thread after @ms. */
void fake_conn_after (FakeConn * conn, guint ms, void (*func) (FakeConn *));
/* Monotonic time when @conn sent the mark @name (0 if never). */
gint64 fake_conn_mark_sent_us (FakeConn * conn, const gchar * name);

gchar *fake_signature (const gchar * token, const gchar * url);

G_END_DECLS

#endif
