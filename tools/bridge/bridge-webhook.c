/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * TwiML answers, form bodies and X-Twilio-Signature checks for the
 * launcher. Pure: no I/O.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "bridge-webhook.h"
#include "twiliosignature.h"

#include <string.h>

gchar *
bridge_xml_escape (const gchar * text)
{
  GString *out = g_string_sized_new (strlen (text) + 16);
  const gchar *p;

  for (p = text; *p; p++) {
    switch (*p) {
      case '&':
        g_string_append (out, "&amp;");
        break;
      case '<':
        g_string_append (out, "&lt;");
        break;
      case '>':
        g_string_append (out, "&gt;");
        break;
      case '"':
        g_string_append (out, "&quot;");
        break;
      case '\'':
        g_string_append (out, "&apos;");
        break;
      default:
        /* XML 1.0 forbids most control characters even escaped. */
        if ((guchar) * p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
          g_string_append_c (out, ' ');
        else
          g_string_append_c (out, *p);
        break;
    }
  }
  return g_string_free (out, FALSE);
}

gchar *
bridge_twiml_connect_stream (const gchar * stream_url,
    const gchar * const *params)
{
  GString *out = g_string_new ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
      "<Response><Connect><Stream url=\"");
  g_autofree gchar *url = bridge_xml_escape (stream_url);
  guint i;

  g_string_append (out, url);
  g_string_append (out, "\">");
  for (i = 0; params && params[i] && params[i + 1] != NULL; i += 2) {
    g_autofree gchar *name = NULL;
    g_autofree gchar *value = NULL;

    if (!*params[i + 1])
      continue;
    name = bridge_xml_escape (params[i]);
    value = bridge_xml_escape (params[i + 1]);
    g_string_append_printf (out, "<Parameter name=\"%s\" value=\"%s\"/>",
        name, value);
  }
  g_string_append (out, "</Stream></Connect></Response>");
  return g_string_free (out, FALSE);
}

gchar *
bridge_twiml_say_hangup (const gchar * message)
{
  g_autofree gchar *text = bridge_xml_escape (message);

  return g_strdup_printf ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
      "<Response><Say>%s</Say><Hangup/></Response>", text);
}

gchar *
bridge_public_http_url (const gchar * public_url, const gchar * path,
    const gchar * query)
{
  return g_strconcat (public_url, path, query && *query ? "?" : "",
      query && *query ? query : "", NULL);
}

gchar *
bridge_public_ws_url (const gchar * public_url, const gchar * path)
{
  if (g_str_has_prefix (public_url, "https://"))
    return g_strconcat ("wss://", public_url + 8, path, NULL);
  if (g_str_has_prefix (public_url, "http://"))
    return g_strconcat ("ws://", public_url + 7, path, NULL);
  return g_strconcat (public_url, path, NULL);
}

static void
clear_param (gpointer data)
{
  TwilioParam *param = data;

  g_free ((gchar *) param->name);
  g_free ((gchar *) param->value);
}

/* One side of a pair: '+' is a space, then %-escapes; NULL if malformed. */
static gchar *
form_unescape (const gchar * start, gsize len)
{
  g_autofree gchar *plus = g_strndup (start, len);
  gchar *text, *p;

  for (p = plus; *p; p++)
    if (*p == '+')
      *p = ' ';
  text = g_uri_unescape_string (plus, NULL);
  if (text && !g_utf8_validate (text, -1, NULL))
    g_clear_pointer (&text, g_free);
  return text;
}

GArray *
bridge_form_decode (const gchar * body, GError ** error)
{
  GArray *form = g_array_new (FALSE, FALSE, sizeof (TwilioParam));
  const gchar *pair = body ? body : "";

  g_array_set_clear_func (form, clear_param);
  while (*pair) {
    gsize len = strcspn (pair, "&");
    const gchar *eq = memchr (pair, '=', len);
    gsize name_len = eq ? (gsize) (eq - pair) : len;
    TwilioParam param;

    if (len > 0) {
      param.name = form_unescape (pair, name_len);
      param.value = eq ? form_unescape (eq + 1, len - name_len - 1) :
          g_strdup ("");
      if (!param.name || !param.value) {
        g_set_error (error, G_URI_ERROR, G_URI_ERROR_FAILED,
            "malformed form field %u: bad %%-escape or not UTF-8",
            form->len + 1);
        clear_param (&param);
        g_array_unref (form);
        return NULL;
      }
      g_array_append_val (form, param);
    }
    pair += len;
    if (*pair == '&')
      pair++;
  }
  return form;
}

const gchar *
bridge_form_lookup (GArray * form, const gchar * name)
{
  guint i;

  for (i = 0; form && i < form->len; i++) {
    const TwilioParam *param = &g_array_index (form, TwilioParam, i);

    if (g_str_equal (param->name, name))
      return param->value;
  }
  return NULL;
}

gboolean
bridge_webhook_signature_valid (const gchar * auth_token,
    const gchar * signature, const gchar * signed_url, GArray * form)
{
  return twilio_signature_validate (auth_token, signature, signed_url,
      form ? (const TwilioParam *) form->data : NULL, form ? form->len : 0);
}

gboolean
bridge_secure_equal (const gchar * a, const gchar * b)
{
  gsize la, lb, i;
  guint8 diff;

  if (!a || !b)
    return FALSE;
  la = strlen (a);
  lb = strlen (b);
  diff = la != lb;
  /* Walk the expected string fully whatever the input. */
  for (i = 0; i < la; i++)
    diff |= (guint8) a[i] ^ (guint8) (i < lb ? b[i] : 0);
  return diff == 0;
}

gboolean
bridge_bearer_token_valid (const gchar * token, const gchar * authorization,
    const gchar * query_token)
{
  if (!token)
    return TRUE;
  if (authorization && g_ascii_strncasecmp (authorization, "Bearer ", 7) == 0) {
    const gchar *given = authorization + 7;

    while (*given == ' ')
      given++;
    if (bridge_secure_equal (token, given))
      return TRUE;
  }
  return bridge_secure_equal (token, query_token);
}
