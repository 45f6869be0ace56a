/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A fake OpenAI Realtime server for the tests: a libsoup WebSocket server on
 * 127.0.0.1, port 0, in its own thread with its own GMainContext. It records
 * every client event (in order, over all connections) and answers the
 * handshake; the test scripts everything else.
 */
#ifndef __FAKE_REALTIME_H__
#define __FAKE_REALTIME_H__

#include <glib.h>

#include "realtimeprotocol.h"

G_BEGIN_DECLS

typedef struct _FakeRealtime FakeRealtime;

typedef enum
{
  FAKE_REALTIME_NORMAL,
  FAKE_REALTIME_REJECT_401,     /* refuse the upgrade with HTTP 401 */
  FAKE_REALTIME_HOLD_UPDATED,   /* session.updated only after fake_realtime_release_updated() */
} FakeRealtimeMode;

FakeRealtime *fake_realtime_new (FakeRealtimeMode mode);
void fake_realtime_free (FakeRealtime * server);
/* ws://127.0.0.1:PORT/v1/realtime */
const gchar *fake_realtime_get_url (FakeRealtime * server);

void fake_realtime_release_updated (FakeRealtime * server);
/* Sends a text frame to the current connection (any thread). */
void fake_realtime_send (FakeRealtime * server, gchar * json);
/* Drops the current connection without a close frame. */
void fake_realtime_drop (FakeRealtime * server);

/* Waits (deadline in seconds) for the @nth (0-based) client event of @type;
 * returns a new parsed copy or NULL on timeout. */
RealtimeClientEvent *fake_realtime_wait_event (FakeRealtime * server,
    const gchar * type, guint nth, gdouble timeout_s);
/* All event type names received so far, in order (free with g_strfreev). */
gchar **fake_realtime_get_types (FakeRealtime * server);
guint fake_realtime_count (FakeRealtime * server, const gchar * type);
/* All audio of input_audio_buffer.append events, concatenated. */
GBytes *fake_realtime_get_audio (FakeRealtime * server);
/* Waits until at least @size bytes of audio arrived; returns all audio
 * received by then (possibly less than @size on timeout). */
GBytes *fake_realtime_wait_audio (FakeRealtime * server, gsize size,
    gdouble timeout_s);
/* Index of the @nth event of @type among all received events, -1 if none. */
gint fake_realtime_index_of (FakeRealtime * server, const gchar * type,
    guint nth);
/* Waits until @n connections were accepted. */
gboolean fake_realtime_wait_connections (FakeRealtime * server, guint n,
    gdouble timeout_s);
/* The Authorization header of the last upgrade request. */
gchar *fake_realtime_get_authorization (FakeRealtime * server);

G_END_DECLS

#endif
