/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstopenairealtimesession.h"

struct _GstOpenAIRealtimeSession
{
  gchar *name;
  gint ref_count;
};

/* Lookup and unref share one lock so that nobody finds an entry whose count
 * has just reached zero (the inter plugin's reasoning). */
static GMutex registry_lock;
static GList *registry;

GstOpenAIRealtimeSession *
gst_openai_realtime_session_get (const gchar * name)
{
  GstOpenAIRealtimeSession *session = NULL;
  GList *l;

  g_mutex_lock (&registry_lock);
  for (l = registry; l; l = l->next) {
    GstOpenAIRealtimeSession *s = l->data;
    if (g_str_equal (s->name, name)) {
      session = s;
      session->ref_count++;
      break;
    }
  }
  if (!session) {
    session = g_new0 (GstOpenAIRealtimeSession, 1);
    session->name = g_strdup (name);
    session->ref_count = 1;
    registry = g_list_prepend (registry, session);
  }
  g_mutex_unlock (&registry_lock);

  return session;
}

void
gst_openai_realtime_session_unref (GstOpenAIRealtimeSession * session)
{
  g_mutex_lock (&registry_lock);
  if (--session->ref_count == 0) {
    registry = g_list_remove (registry, session);
    g_free (session->name);
    g_free (session);
  }
  g_mutex_unlock (&registry_lock);
}

const gchar *
gst_openai_realtime_session_get_name (GstOpenAIRealtimeSession * session)
{
  return session->name;
}
