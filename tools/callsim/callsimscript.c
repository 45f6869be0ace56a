/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Option values of realtime-bridge-call; see callsimscript.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "callsimscript.h"

G_DEFINE_QUARK (callsim - script - error - quark, callsim_script_error);

#define REPLY_PREFIX "reply+"
/* Longer than any call this tool is meant to place (about 11 days). */
#define MAX_MS G_GINT64_CONSTANT (999999999)

static gboolean
parse_ms (const gchar * text, gint64 * ms)
{
  guint64 value;

  if (!g_ascii_string_to_unsigned (text, 10, 0, MAX_MS, &value, NULL))
    return FALSE;
  *ms = (gint64) value;
  return TRUE;
}

gboolean
callsim_time_spec_parse (const gchar * text, CallsimTimeSpec * spec,
    GError ** error)
{
  CallsimTimeSpec parsed = { CALLSIM_TIME_STREAM, 0 };
  const gchar *number = text;

  if (g_str_has_prefix (text, REPLY_PREFIX)) {
    parsed.base = CALLSIM_TIME_REPLY;
    number = text + strlen (REPLY_PREFIX);
  }
  if (!parse_ms (number, &parsed.ms)) {
    g_set_error (error, CALLSIM_SCRIPT_ERROR, CALLSIM_SCRIPT_ERROR_INVALID,
        "invalid time \"%s\": expected MS or reply+MS (milliseconds)", text);
    return FALSE;
  }
  *spec = parsed;
  return TRUE;
}

const gchar *
callsim_time_spec_to_string (const CallsimTimeSpec * spec, gchar * buf,
    gsize size)
{
  g_snprintf (buf, size, "%s%" G_GINT64_FORMAT,
      spec->base == CALLSIM_TIME_REPLY ? REPLY_PREFIX : "", spec->ms);
  return buf;
}

gboolean
callsim_dtmf_parse (const gchar * text, CallsimDtmf * dtmf, GError ** error)
{
  const gchar *at = strchr (text, '@');

  if (at == NULL || at - text != 1 || strchr ("0123456789*#ABCD", text[0])
      == NULL || text[0] == '\0') {
    g_set_error (error, CALLSIM_SCRIPT_ERROR, CALLSIM_SCRIPT_ERROR_INVALID,
        "invalid DTMF \"%s\": expected DIGIT@TIME with DIGIT one of "
        "0-9 * # A-D", text);
    return FALSE;
  }
  if (!callsim_time_spec_parse (at + 1, &dtmf->at, error)) {
    g_prefix_error (error, "DTMF \"%s\": ", text);
    return FALSE;
  }
  dtmf->digit[0] = text[0];
  dtmf->digit[1] = '\0';
  return TRUE;
}

gboolean
callsim_param_parse (const gchar * text, gchar ** name, gchar ** value,
    GError ** error)
{
  const gchar *eq = strchr (text, '=');

  if (eq == NULL || eq == text) {
    g_set_error (error, CALLSIM_SCRIPT_ERROR, CALLSIM_SCRIPT_ERROR_INVALID,
        "invalid parameter \"%s\": expected NAME=VALUE", text);
    return FALSE;
  }
  *name = g_strndup (text, eq - text);
  *value = g_strdup (eq + 1);
  return TRUE;
}

gchar *
callsim_make_sid (const gchar * prefix)
{
  GString *sid = g_string_new (prefix);
  guint i;

  for (i = 0; i < 4; i++)
    g_string_append_printf (sid, "%08x", g_random_int ());
  return g_string_free (sid, FALSE);
}

gchar *
callsim_path_for_call (const gchar * path, guint index)
{
  const gchar *base = strrchr (path, '/');
  const gchar *dot;

  base = base ? base + 1 : path;
  dot = strrchr (base, '.');
  if (dot == NULL || dot == base)
    return g_strdup_printf ("%s-%u", path, index);
  return g_strdup_printf ("%.*s-%u%s", (int) (dot - path), path, index, dot);
}
