/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Pure Twilio HTTP helpers of the launcher: TwiML answers, the URLs Twilio
 * signs, form bodies as Twilio signs them, bearer tokens. No I/O.
 * X-Twilio-Signature itself is twiliosignature.h (twilio_protocol_dep).
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

/* An application/x-www-form-urlencoded body as name/value pairs in the
 * order received, repeated names kept: Twilio signs every pair (its SDKs
 * sort by name, then value, and count an identical pair once, which
 * twilio_signature_validate () does). '+' is a space; a pair without '='
 * has an empty value. Returns NULL (and sets @error) on a bad %-escape or
 * a name or value that is not UTF-8. The array owns its strings. */
GArray *bridge_form_decode (const gchar * body, GError ** error);

/* The first value of @name in a decoded form, or NULL. */
const gchar *bridge_form_lookup (GArray * form, const gchar * name);

/* X-Twilio-Signature of a request to @path?@query as Twilio reached it at
 * @public_url (see bridge_public_http_url), over @form (NULL: a GET or an
 * upgrade). The documented URL variants are tried by
 * twilio_signature_validate () (twiliosignature.h). */
gboolean bridge_webhook_signature_valid (const gchar * auth_token,
    const gchar * signature, const gchar * signed_url, GArray * form);

/* Constant-time string equality (for tokens). NULL never matches. */
gboolean bridge_secure_equal (const gchar * a, const gchar * b);

/* TRUE when @authorization is "Bearer <token>" or @query_token equals
 * @token. */
gboolean bridge_bearer_token_valid (const gchar * token,
    const gchar * authorization, const gchar * query_token);

G_END_DECLS
