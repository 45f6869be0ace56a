/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One call: its pipeline (from the template), its bus watch, its summary.
 * Everything of a call runs on its call loop (bridge-app.h); state changes
 * that may block run in GStreamer's thread pool so that one stuck call
 * never stalls the others on that loop.
 */
#pragma once

#include "bridge-app.h"

G_BEGIN_DECLS

/* On @loop's thread: builds and starts the pipeline for an accepted Twilio
 * media WebSocket (made on @loop's context) and registers the call in
 * app->calls under the reserved @number. On failure the reservation is
 * cancelled and NULL returned. */
BridgeCall *bridge_call_start (BridgeApp * app, BridgeCallLoop * loop,
    GMainContext * context, guint number, SoupWebsocketConnection * conn,
    GError ** error);

/* On the call's loop: ends the call now (pipeline to NULL, socket closed,
 * summary logged). */
void bridge_call_abort (BridgeCall * call, const gchar * reason);

const gchar *bridge_call_get_id (BridgeCall * call);
GMainContext *bridge_call_get_context (BridgeCall * call);

void bridge_call_free (BridgeCall * call);

G_END_DECLS
