/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A Realtime WebSocket client for the local model's tests: every
 * connection lives on one client thread with its own GMainContext; the
 * test thread sends through it and pops received events from a queue.
 */
#ifndef __TEST_CLIENT_H__
#define __TEST_CLIENT_H__

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _TestClient TestClient;

void test_net_start (void);
void test_net_stop (void);

/* Connects to @url?model=@model with "Authorization: Bearer @key" (no
 * header if @key is NULL) and, if @beta, "OpenAI-Beta: realtime=v1".
 * Returns NULL if the upgrade failed; *status gets the HTTP status. */
TestClient *test_client_connect (const gchar * url, const gchar * key,
    gboolean beta, guint * status);
void test_client_free (TestClient * c);

void test_client_send (TestClient * c, const gchar * text);
void test_client_send_binary (TestClient * c, const guint8 * data, gsize size);
void test_client_sendf (TestClient * c, const gchar * format, ...)
    G_GNUC_PRINTF (2, 3);
/* input_audio_buffer.append of @data in chunks of @chunk bytes */
void test_client_append (TestClient * c, const guint8 * data, gsize size,
    gsize chunk);

/* Next event (JSON object), NULL after @timeout_ms or when closed. Every
 * event popped is also kept in the client's history. */
JsonObject *test_client_next (TestClient * c, guint timeout_ms);
/* Pops events until one of @type arrives (returned, not ref'd: owned by the
 * history); fails the test after @timeout_ms. */
JsonObject *test_client_expect (TestClient * c, const gchar * type,
    guint timeout_ms);
/* All events popped so far. */
GPtrArray *test_client_history (TestClient * c);
/* Index in the history of the first event of @type from @from, or -1. */
gint test_client_find (TestClient * c, const gchar * type, guint from);

/* Waits for the connection to close; returns the close code (1006 when the
 * TCP connection dropped without a close frame) or -1 on timeout. */
gint test_client_wait_closed (TestClient * c, guint timeout_ms);

G_END_DECLS

#endif
