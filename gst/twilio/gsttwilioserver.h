/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * twiliosrc's standalone WebSocket server: a loop thread with its own
 * GMainContext that listens, checks X-Twilio-Signature before the upgrade
 * (403 otherwise), and hands each accepted WebSocket to its owner (the
 * stream object) on that thread.
 *
 * The server keeps every WebSocket it accepted until it is closed, so that
 * freeing the server closes them with a complete close handshake (bounded
 * by a deadline) before the thread ends.
 */
#ifndef __GST_TWILIO_SERVER_H__
#define __GST_TWILIO_SERVER_H__

#include <gst/gst.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _GstTwilioServer GstTwilioServer;

/* Both are called on the server's loop thread, never after
 * gst_twilio_server_free () has begun to shut the server down. */
typedef void (*GstTwilioServerConnectionFunc) (SoupWebsocketConnection *
    connection, GMainContext * context, gpointer user_data);
typedef void (*GstTwilioServerRefusedFunc) (const gchar * details,
    gpointer user_data);

typedef struct
{
  const gchar *address;         /* NULL: 0.0.0.0 */
  gint port;                    /* 0: any free port */
  const gchar *path;            /* NULL or "": "/" */
  const gchar *auth_token;      /* NULL or "": no signature check */
  const gchar *public_url;      /* NULL: wss:// + Host + path */
} GstTwilioServerConfig;

/* Starts the thread and blocks until the server listens (or failed). */
GstTwilioServer *gst_twilio_server_new (const GstTwilioServerConfig * config,
    GstTwilioServerConnectionFunc on_connection,
    GstTwilioServerRefusedFunc on_refused, gpointer user_data,
    GError ** error);

gint gst_twilio_server_get_port (GstTwilioServer * server);

/* Stops listening, closes the WebSockets still open (1000), waits for
 * their close handshakes (at most GST_TWILIO_SERVER_CLOSE_TIMEOUT_MS), and
 * joins the thread. Must not be called on the server's thread. */
void gst_twilio_server_free (GstTwilioServer * server);

#define GST_TWILIO_SERVER_CLOSE_TIMEOUT_MS 2000

G_END_DECLS

#endif /* __GST_TWILIO_SERVER_H__ */
