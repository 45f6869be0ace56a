/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every element of this build is cycled through the state changes, alone and
 * in several orders, with no network peer: it must idle or fail cleanly,
 * never hang, and never emit a critical.
 */
#include <gst/check/gstcheck.h>

static const gchar *elements[] = {
  "twiliosrc", "twiliosink", "openairealtimesrc", "openairealtimesink",
};

/* No peer exists: the Twilio server binds an ephemeral loopback port and the
 * model URL points to a closed loopback port. */
static void
configure_offline (GstElement * element)
{
  GObjectClass *klass = G_OBJECT_GET_CLASS (element);

  if (g_object_class_find_property (klass, "port"))
    g_object_set (element, "port", 0, NULL);
  if (g_object_class_find_property (klass, "address"))
    g_object_set (element, "address", "127.0.0.1", NULL);
  if (g_object_class_find_property (klass, "url"))
    g_object_set (element, "url", "ws://127.0.0.1:9/v1/realtime", NULL);
  if (g_object_class_find_property (klass, "api-key"))
    g_object_set (element, "api-key", "sk-states-test-not-a-real-key", NULL);
}

static GstElement *
make_element (const gchar * name)
{
  GstElement *element = gst_element_factory_make (name, NULL);

  fail_unless (element != NULL, "could not create %s", name);
  configure_offline (element);
  return element;
}

static void
set_state_checked (GstElement * element, GstState state)
{
  GstStateChangeReturn ret = gst_element_set_state (element, state);

  fail_if (ret == GST_STATE_CHANGE_FAILURE, "%s: change to %s failed",
      GST_ELEMENT_NAME (element), gst_element_state_get_name (state));
}

GST_START_TEST (test_state_changes_up_and_down_seq)
{
  guint i, round;

  for (i = 0; i < G_N_ELEMENTS (elements); i++) {
    GstElement *element = make_element (elements[i]);

    for (round = 0; round < 3; round++) {
      set_state_checked (element, GST_STATE_READY);
      set_state_checked (element, GST_STATE_PAUSED);
      set_state_checked (element, GST_STATE_PLAYING);
      set_state_checked (element, GST_STATE_PAUSED);
      set_state_checked (element, GST_STATE_READY);
      set_state_checked (element, GST_STATE_NULL);
    }
    gst_object_unref (element);
  }
}

GST_END_TEST;

GST_START_TEST (test_state_changes_up_and_down_jumps)
{
  guint i, round;

  for (i = 0; i < G_N_ELEMENTS (elements); i++) {
    GstElement *element = make_element (elements[i]);

    for (round = 0; round < 3; round++) {
      set_state_checked (element, GST_STATE_PLAYING);
      set_state_checked (element, GST_STATE_NULL);
      set_state_checked (element, GST_STATE_PAUSED);
      set_state_checked (element, GST_STATE_READY);
      set_state_checked (element, GST_STATE_PLAYING);
      set_state_checked (element, GST_STATE_READY);
      set_state_checked (element, GST_STATE_NULL);
    }
    gst_object_unref (element);
  }
}

GST_END_TEST;

/* Source and sink of one plugin share a session/stream object by name: both
 * together, started and stopped in either order. */
GST_START_TEST (test_state_changes_shared_pairs)
{
  const gchar *pairs[][2] = {
    {"twiliosrc", "twiliosink"},
    {"openairealtimesrc", "openairealtimesink"},
  };
  guint i, round;

  for (i = 0; i < G_N_ELEMENTS (pairs); i++) {
    GstElement *a = make_element (pairs[i][0]);
    GstElement *b = make_element (pairs[i][1]);

    for (round = 0; round < 3; round++) {
      GstElement *first = (round % 2) ? b : a;
      GstElement *second = (round % 2) ? a : b;

      set_state_checked (first, GST_STATE_PLAYING);
      set_state_checked (second, GST_STATE_PLAYING);
      set_state_checked (first, GST_STATE_NULL);
      set_state_checked (second, GST_STATE_NULL);
    }
    gst_object_unref (a);
    gst_object_unref (b);
  }
}

GST_END_TEST;

static Suite *
states_suite (void)
{
  Suite *s = suite_create ("states");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_state_changes_up_and_down_seq);
  tcase_add_test (tc, test_state_changes_up_and_down_jumps);
  tcase_add_test (tc, test_state_changes_shared_pairs);
  return s;
}

GST_CHECK_MAIN (states);
