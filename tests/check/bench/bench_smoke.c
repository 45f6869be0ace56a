/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Smoke test of realtime-bridge-bench: one call per pipeline with short
 * windows; the program runs, its calls go through the real launcher and it
 * writes the JSON it documents. No timing is asserted.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <json-glib/json-glib.h>

static JsonObject *
member_object (JsonObject * o, const gchar * name)
{
  fail_unless (json_object_has_member (o, name), "no \"%s\"", name);
  return json_object_get_object_member (o, name);
}

GST_START_TEST (test_one_call_per_pipeline)
{
  const gchar *program = g_getenv ("REALTIME_BRIDGE_BENCH");
  gchar *dir = g_dir_make_tmp ("bench-smoke-XXXXXX", NULL);
  gchar *json_path = g_build_filename (dir, "bench.json", NULL);
  gchar *argv[] = {
    (gchar *) program, (gchar *) "--steps", (gchar *) "1",
    (gchar *) "--pipelines", (gchar *) "passthrough,transcode",
    (gchar *) "--window", (gchar *) "1000", (gchar *) "--settle",
    (gchar *) "500", (gchar *) "--baseline", (gchar *) "500",
    (gchar *) "--json", json_path, NULL
  };
  gchar *out = NULL, *err = NULL;
  gint status = -1;
  GError *error = NULL;
  JsonParser *parser = json_parser_new ();
  JsonObject *root;
  JsonArray *steps;
  guint i;

  fail_unless (program != NULL, "REALTIME_BRIDGE_BENCH is not set");
  fail_unless (g_spawn_sync (NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
          &out, &err, &status, &error), "%s", error ? error->message : "");
  fail_unless (g_spawn_check_wait_status (status, NULL),
      "the benchmark failed:\n%s\n%s", out, err);
  fail_unless (strstr (out, "passthrough") && strstr (out, "transcode"),
      "no table:\n%s", out);

  fail_unless (json_parser_load_from_file (parser, json_path, &error),
      "%s", error ? error->message : "");
  root = json_node_get_object (json_parser_get_root (parser));
  fail_unless (json_object_get_int_member (member_object (root, "machine"),
          "nproc") >= 1);
  fail_unless_equals_int (json_object_get_int_member (member_object (root,
              "machine"), "audioresample_default_quality"), 4);
  steps = json_object_get_array_member (root, "steps");
  fail_unless_equals_int (json_array_get_length (steps), 2);
  for (i = 0; i < 2; i++) {
    JsonObject *step = json_array_get_object_element (steps, i);
    JsonObject *calls = member_object (step, "calls_result");

    fail_unless_equals_string (json_object_get_string_member (step,
            "pipeline"), i == 0 ? "passthrough" : "transcode");
    fail_unless_equals_int (json_object_get_int_member (step, "calls"), 1);
    fail_unless (json_object_get_boolean_member (step, "ok"));
    fail_unless_equals_int (json_object_get_int_member (calls, "ok"), 1);
    fail_unless_equals_int (json_object_get_int_member (calls, "unmatched"), 0);
    /* the call was seen at both ends */
    fail_unless_equals_int (json_object_get_int_member (member_object (step,
                "setup"), "n"), 1);
    fail_unless (json_object_get_double_member (member_object (step,
                "audio"), "model_received_ms") > 0);
    fail_unless (json_object_get_double_member (member_object (step,
                "audio"), "caller_received_ms") > 0);
    member_object (step, "launcher_cost");
    if (i == 0)
      fail_unless (json_object_get_null_member (step, "resample_quality"));
    else
      fail_unless_equals_int (json_object_get_int_member (step,
              "resample_quality"), 4);
  }

  g_object_unref (parser);
  g_unlink (json_path);
  g_rmdir (dir);
  g_free (json_path);
  g_free (dir);
  g_free (out);
  g_free (err);
}

GST_END_TEST;

static Suite *
bench_smoke_suite (void)
{
  Suite *s = suite_create ("bench_smoke");
  TCase *tc = tcase_create ("general");

  /* a launcher start and two short calls per pipeline */
  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_one_call_per_pipeline);
  return s;
}

GST_CHECK_MAIN (bench_smoke);
