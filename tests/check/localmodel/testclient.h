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

#include "localmodel.h"

G_BEGIN_DECLS

/* generous: every wait ends on an event, this only bounds a failure */
#define TEST_WAIT_MS 10000

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
/* The same events as the text frames that carried them (gchar*). */
GPtrArray *test_client_raw_history (TestClient * c);
/* Index in the history of the first event of @type from @from, or -1. */
gint test_client_find (TestClient * c, const gchar * type, guint from);

/* Waits for the connection to close; returns the close code (1006 when the
 * TCP connection dropped without a close frame) or -1 on timeout. */
gint test_client_wait_closed (TestClient * c, guint timeout_ms);

/* ---- helpers for the tests ---- */

/* obj.a.b.c via a dotted path, NULL if absent */
JsonNode *test_node_at (JsonObject * obj, const gchar * dotted);
/* fails the test if absent */
gint64 test_int_at (JsonObject * obj, const gchar * dotted);
/* NULL if absent or not a value */
const gchar *test_string_at (JsonObject * obj, const gchar * dotted);

/* response.output[0].content[0].transcript of response.done */
const gchar *test_response_transcript (JsonObject * done);

/* 8 kHz samples (gint16): silence, a sine burst at 0.3 of full scale,
 * silence */
GArray *test_burst_8k (guint lead_ms, guint tone_ms, guint tail_ms,
    gdouble freq);
/* G.711 mu-law (or A-law) bytes of 8 kHz samples */
GByteArray *test_encode_8k (GArray * samples, gboolean alaw);
/* test_burst_8k () as mu-law */
GByteArray *test_ulaw_burst (guint lead_ms, guint tone_ms, guint tail_ms,
    gdouble freq);

/* ---- the model ---- */

/* local_model_new () or fail */
LocalModel *test_model_start (LocalModelOptions * opts);
/* connects with a key and takes session.created and conversation.created */
TestClient *test_model_connect (LocalModel * model);
/* session.update of both formats (+ @extra members), waits for updated */
void test_session_update (TestClient * c, const gchar * format_json,
    const gchar * extra);
/* collects the output audio up to response.done (returned) */
JsonObject *test_collect_response (TestClient * c, GByteArray * audio);
/* the next error event has this code */
void test_expect_error (TestClient * c, const gchar * code);

G_END_DECLS

#endif
