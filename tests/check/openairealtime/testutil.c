/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Helpers shared by the openairealtime element tests (see testutil.h).
 */
#include <string.h>

#include "testutil.h"

GstElement *
make_element (const gchar * factory, FakeRealtime * server,
    const gchar * session)
{
  GstElement *element = gst_element_factory_make (factory, NULL);

  fail_unless (element != NULL);
  g_object_set (element, "url", fake_realtime_get_url (server),
      "api-key", TEST_KEY, "session", session, NULL);
  return element;
}

/* A sink harness fed with @caps; the element posts to @bus. Properties
 * (NULL-terminated name/value pairs) are set before it starts, since the
 * session takes its configuration at start. */
GstHarness *
sink_harness_with (FakeRealtime * server, const gchar * session,
    const gchar * caps, GstBus * bus, const gchar * first_property, ...)
{
  GstElement *sink = make_element ("openairealtimesink", server, session);
  GstHarness *h;
  va_list args;

  va_start (args, first_property);
  if (first_property)
    g_object_set_valist (G_OBJECT (sink), first_property, args);
  va_end (args);
  gst_element_set_bus (sink, bus);
  h = gst_harness_new_with_element (sink, "sink", NULL);
  gst_harness_set_src_caps_str (h, caps);
  gst_object_unref (sink);
  return h;
}

GstHarness *
sink_harness (FakeRealtime * server, const gchar * session,
    const gchar * caps, GstBus * bus)
{
  return sink_harness_with (server, session, caps, bus, NULL);
}

GstHarness *
src_harness (FakeRealtime * server, const gchar * session,
    const gchar * caps, GstBus * bus)
{
  GstElement *src = make_element ("openairealtimesrc", server, session);
  GstHarness *h;

  gst_element_set_bus (src, bus);
  h = gst_harness_new_with_element (src, NULL, "src");
  gst_harness_set_sink_caps_str (h, caps);
  gst_harness_play (h);
  gst_object_unref (src);
  return h;
}

GstBuffer *
silence_buffer (gsize size)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, size, NULL);

  gst_buffer_memset (buf, 0, 0, size);
  return buf;
}

void
push_pattern (GstHarness * h, guint n, gsize size, guint8 * counter)
{
  guint i;

  for (i = 0; i < n; i++) {
    GstBuffer *buf = gst_buffer_new_allocate (NULL, size, NULL);
    GstMapInfo map;
    gsize j;

    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    for (j = 0; j < size; j++)
      map.data[j] = (*counter)++;
    gst_buffer_unmap (buf, &map);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  }
}

/* Waits for an element message named @name; returns a copy of its
 * structure or NULL. Other messages are skipped. */
GstStructure *
wait_message (GstBus * bus, const gchar * name, gdouble timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_TIME_SPAN_SECOND;

  for (;;) {
    gint64 left = deadline - g_get_monotonic_time ();
    GstMessage *msg;
    GstStructure *s = NULL;

    if (left <= 0)
      return NULL;
    msg = gst_bus_timed_pop_filtered (bus, left * GST_USECOND,
        GST_MESSAGE_ELEMENT);
    if (msg == NULL)
      return NULL;
    if (gst_message_has_name (msg, name))
      s = gst_structure_copy (gst_message_get_structure (msg));
    gst_message_unref (msg);
    if (s)
      return s;
  }
}

GError *
wait_error (GstBus * bus, gdouble timeout_s, gchar ** debug)
{
  GstMessage *msg = gst_bus_timed_pop_filtered (bus,
      timeout_s * GST_SECOND, GST_MESSAGE_ERROR);
  GError *error = NULL;

  if (msg == NULL)
    return NULL;
  gst_message_parse_error (msg, &error, debug);
  gst_message_unref (msg);
  return error;
}

void
release_harness (GstHarness * h)
{
  gst_harness_teardown (h);
}

/* Messages left on the bus hold their source element, which holds the bus. */
void
release_bus (GstBus * bus)
{
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
}

/* gst_harness_pull() waits on the harness' queue (up to 60 s). The
 * silence the source pushes so that sinks preroll (flagged GAP) is skipped. */
GstBuffer *
pull_buffer (GstHarness * h)
{
  for (;;) {
    GstBuffer *buf = gst_harness_pull (h);

    if (buf == NULL || !GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP))
      return buf;
    gst_buffer_unref (buf);
  }
}
