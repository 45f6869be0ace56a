/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One call: its pipeline (from the template), its bus watch, its summary.
 * Main thread only; state changes that may block run in GStreamer's
 * thread pool so that one stuck call never stalls the others.
 */
#pragma once

#include "bridge-app.h"

G_BEGIN_DECLS

/* Builds and starts the pipeline for an accepted Twilio media WebSocket and
 * registers the call in app->calls. */
BridgeCall *bridge_call_start (BridgeApp * app,
    SoupWebsocketConnection * conn, GError ** error);

/* Ends the call now: pipeline to NULL, socket closed, summary logged. */
void bridge_call_abort (BridgeCall * call, const gchar * reason);

const gchar *bridge_call_get_id (BridgeCall * call);

void bridge_call_free (BridgeCall * call);

G_END_DECLS
