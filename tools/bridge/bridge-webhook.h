/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Pure Twilio HTTP helpers of the launcher: TwiML answers, the URLs Twilio
 * signs, X-Twilio-Signature validation, bearer tokens. No I/O.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Escapes & < > " ' for XML text and attribute values. */
gchar *bridge_xml_escape (const gchar * text);

/* <Response><Connect><Stream url=...><Parameter .../>...</Stream></Connect>
 * </Response>. @params: NULL-terminated name, value, name, value, ...;
 * pairs with a NULL or empty value are left out. */
gchar *bridge_twiml_connect_stream (const gchar * stream_url,
    const gchar * const *params);

/* <Response><Say>message</Say><Hangup/></Response> */
gchar *bridge_twiml_say_hangup (const gchar * message);

/* @public_url: normalised base (scheme://host[:port][/prefix]); @path: the
 * request path ("/twiml"); @query: raw query string or NULL. */
gchar *bridge_public_http_url (const gchar * public_url, const gchar * path,
    const gchar * query);
/* The same with https -> wss, http -> ws. */
gchar *bridge_public_ws_url (const gchar * public_url, const gchar * path);

/* base64 (HMAC-SHA1 (token, url + sorted(name + value)...)). @params may be
 * NULL (a GET or a WebSocket upgrade). */
gchar *bridge_twilio_signature (const gchar * auth_token, const gchar * url,
    GHashTable * params);

/* Tries the documented URL variants: as given, port removed, default port
 * added, trailing slash toggled. Constant-time comparison. */
gboolean bridge_twilio_signature_valid (const gchar * auth_token,
    const gchar * url, GHashTable * params, const gchar * signature);

/* Constant-time string equality (for tokens). NULL never matches. */
gboolean bridge_secure_equal (const gchar * a, const gchar * b);

/* TRUE when @authorization is "Bearer <token>" or @query_token equals
 * @token. */
gboolean bridge_bearer_token_valid (const gchar * token,
    const gchar * authorization, const gchar * query_token);

G_END_DECLS
