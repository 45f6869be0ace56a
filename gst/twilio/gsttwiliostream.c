/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsttwiliostream.h"

struct _GstTwilioStream
{
  gchar *name;
  gint ref_count;
};

/* Lookup and unref share one lock so that nobody finds an entry whose count
 * has just reached zero (the inter plugin's reasoning). */
static GMutex registry_lock;
static GList *registry;

GstTwilioStream *
gst_twilio_stream_get (const gchar * name)
{
  GstTwilioStream *stream = NULL;
  GList *l;

  g_mutex_lock (&registry_lock);
  for (l = registry; l; l = l->next) {
    GstTwilioStream *s = l->data;
    if (g_str_equal (s->name, name)) {
      stream = s;
      stream->ref_count++;
      break;
    }
  }
  if (!stream) {
    stream = g_new0 (GstTwilioStream, 1);
    stream->name = g_strdup (name);
    stream->ref_count = 1;
    registry = g_list_prepend (registry, stream);
  }
  g_mutex_unlock (&registry_lock);

  return stream;
}

void
gst_twilio_stream_unref (GstTwilioStream * stream)
{
  g_mutex_lock (&registry_lock);
  if (--stream->ref_count == 0) {
    registry = g_list_remove (registry, stream);
    g_free (stream->name);
    g_free (stream);
  }
  g_mutex_unlock (&registry_lock);
}

const gchar *
gst_twilio_stream_get_name (GstTwilioStream * stream)
{
  return stream->name;
}
