/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The floor relay (realtime-bridge-floor, tools/bench/benchfloorrelay.c):
 * its WebSocket and string-scanning helpers, and a benchmark run with it in
 * place of the launcher: one call that must go through whole (every burst
 * and every answer heard, no audio short, the session matched) and a relay
 * that exits cleanly; once more with the model's connection opened late,
 * so that the relay holds the caller's audio. No speed is asserted (only
 * that the delay asked for was kept).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <json-glib/json-glib.h>

#include "benchfloorws.h"

/* ---- helpers ------------------------------------------------------------ */

GST_START_TEST (test_accept_key)
{
  gchar accept[FLOOR_WS_ACCEPT_LEN + 1];
  /* RFC 6455 section 1.3's example */
  const gchar *key = "dGhlIHNhbXBsZSBub25jZQ==";

  fail_unless (floor_ws_key_is_valid (key, strlen (key)));
  floor_ws_accept_for_key (key, strlen (key), accept);
  fail_unless_equals_string (accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  fail_if (floor_ws_key_is_valid ("short==", 7));
  fail_if (floor_ws_key_is_valid ("dGhlIHNhbXBsZSBub25jZQ=x", 24));
  fail_if (floor_ws_key_is_valid ("dGhlIHNhbXBsZSBub25j\"Q==", 24));
}

GST_END_TEST;

GST_START_TEST (test_frames)
{
  guint8 buf[FLOOR_WS_MAX_HEADER + 300];
  guint8 mask[4] = { 0x12, 0x34, 0x56, 0x78 };
  guint8 text[300];
  FloorWsFrame f;
  gsize header, i;

  for (i = 0; i < sizeof (text); i++)
    text[i] = 'a' + i % 26;
  /* a masked 300-byte text frame: 16-bit length */
  header = floor_ws_write_header (buf, FLOOR_WS_OP_TEXT, sizeof (text), mask);
  fail_unless_equals_int (header, 8);
  memcpy (buf + header, text, sizeof (text));
  floor_ws_mask (buf + header, sizeof (text), mask);
  fail_if (memcmp (buf + header, text, sizeof (text)) == 0);

  /* every prefix is incomplete, the whole frame parses */
  for (i = 0; i < header + sizeof (text); i++)
    fail_unless_equals_int (floor_ws_parse_frame (buf, i, 1024, &f),
        FLOOR_WS_FRAME_INCOMPLETE);
  fail_unless_equals_int (floor_ws_parse_frame (buf, header + sizeof (text),
          1024, &f), FLOOR_WS_FRAME_OK);
  fail_unless (f.fin && f.masked);
  fail_unless_equals_int (f.opcode, FLOOR_WS_OP_TEXT);
  fail_unless_equals_int (f.header_len, header);
  fail_unless_equals_int (f.payload_len, sizeof (text));
  floor_ws_mask (buf + header, f.payload_len, f.mask);
  fail_unless (memcmp (buf + header, text, sizeof (text)) == 0);

  /* larger than allowed */
  fail_unless_equals_int (floor_ws_parse_frame (buf, header + sizeof (text),
          299, &f), FLOOR_WS_FRAME_INVALID);
  /* reserved bits, unknown opcode, fragmented or long control frames */
  buf[0] = 0xc1;
  fail_unless_equals_int (floor_ws_parse_frame (buf, 20, 1024, &f),
      FLOOR_WS_FRAME_INVALID);
  buf[0] = 0x83;
  fail_unless_equals_int (floor_ws_parse_frame (buf, 20, 1024, &f),
      FLOOR_WS_FRAME_INVALID);
  buf[0] = 0x09;
  buf[1] = 0x00;
  fail_unless_equals_int (floor_ws_parse_frame (buf, 2, 1024, &f),
      FLOOR_WS_FRAME_INVALID);
  buf[0] = 0x89;
  buf[1] = 126;
  fail_unless_equals_int (floor_ws_parse_frame (buf, 20, 1024, &f),
      FLOOR_WS_FRAME_INVALID);
  /* a 64-bit length far over the limit is refused, not waited for */
  header = floor_ws_write_header (buf, FLOOR_WS_OP_BINARY, 70000, NULL);
  fail_unless_equals_int (header, 10);
  fail_unless_equals_int (floor_ws_parse_frame (buf, header, 65536, &f),
      FLOOR_WS_FRAME_INVALID);
  fail_unless_equals_int (floor_ws_parse_frame (buf, header, 1 << 20, &f),
      FLOOR_WS_FRAME_INCOMPLETE);
  /* an empty unmasked close */
  header = floor_ws_write_header (buf, FLOOR_WS_OP_CLOSE, 0, NULL);
  fail_unless_equals_int (floor_ws_parse_frame (buf, header, 1024, &f),
      FLOOR_WS_FRAME_OK);
  fail_unless (!f.masked && f.payload_len == 0);
}

GST_END_TEST;

GST_START_TEST (test_scanning)
{
  const gchar *head = "GET /call HTTP/1.1\r\nHost: x\r\n"
      "sec-websocket-key:  abc \r\nUpgrade: websocket\r\n\r\n";
  const gchar *json = "{\"event\":\"media\",\"media\":{\"payload\":\"AAAA\"},"
      "\"streamSid\":\"MZ1\"}";
  const gchar *value;
  gsize len = 0;

  value = floor_http_find_header (head, strlen (head), "Sec-WebSocket-Key",
      &len);
  fail_unless (value && len == 3 && memcmp (value, "abc", 3) == 0);
  fail_unless (floor_http_find_header (head, strlen (head), "Origin",
          &len) == NULL);
  /* the request line is not a header */
  fail_unless (floor_http_find_header (head, strlen (head), "GET /call HTTP",
          &len) == NULL);

  value = FLOOR_JSON_FIND (json, strlen (json), "\"event\":\"", &len);
  fail_unless (value && FLOOR_STR_IS (value, len, "media"));
  value = FLOOR_JSON_FIND (json, strlen (json), "\"payload\":\"", &len);
  fail_unless (value && FLOOR_STR_IS (value, len, "AAAA"));
  fail_unless (FLOOR_JSON_FIND (json, strlen (json), "\"type\":\"",
          &len) == NULL);
  /* unterminated */
  fail_unless (FLOOR_JSON_FIND (json, 40, "\"payload\":\"", &len) == NULL);

  fail_unless_equals_int (floor_base64_decoded_size ("AAAA", 4), 3);
  fail_unless_equals_int (floor_base64_decoded_size ("AAA=", 4), 2);
  fail_unless_equals_int (floor_base64_decoded_size ("AA==", 4), 1);
  fail_unless_equals_int (floor_base64_decoded_size ("AAA", 3), -1);
}

GST_END_TEST;

/* ---- a benchmark run through the relay ---------------------------------- */

static JsonObject *
member_object (JsonObject * o, const gchar * name)
{
  fail_unless (json_object_has_member (o, name), "no \"%s\"", name);
  return json_object_get_object_member (o, name);
}

/* One benchmark step of one call through the relay, measured in a 4 s
 * window from @settle_ms on; @model_delay_ms: the relay opens the model
 * connection that long after `start` (REALTIME_BRIDGE_FLOOR_MODEL_DELAY_MS),
 * holding the caller's audio. */
static void
run_bench_through_floor (gboolean frame_media, guint model_delay_ms,
    guint settle_ms)
{
  const gchar *program = g_getenv ("REALTIME_BRIDGE_BENCH");
  const gchar *floor_relay = g_getenv ("REALTIME_BRIDGE_FLOOR");
  gchar *dir = g_dir_make_tmp ("bench-floor-XXXXXX", NULL);
  gchar *json_path = g_build_filename (dir, "bench.json", NULL);
  gchar *log_path = g_build_filename (dir, "launcher-passthrough-1.log", NULL);
  gchar *settle = g_strdup_printf ("%u", settle_ms);
  gchar *argv[] = {
    (gchar *) program, (gchar *) "--steps", (gchar *) "1",
    (gchar *) "--pipelines", (gchar *) "passthrough",
    (gchar *) "--launcher", (gchar *) floor_relay,
    (gchar *) "--window", (gchar *) "4000", (gchar *) "--settle", settle,
    (gchar *) "--baseline", (gchar *) "500",
    (gchar *) "--json", json_path, (gchar *) "--keep-logs", dir, NULL
  };
  gchar *delay = g_strdup_printf ("%u", model_delay_ms);
  gchar *delay_field = g_strdup_printf ("\"model-delay-ms\":%u",
      model_delay_ms);
  gchar **envp = g_environ_setenv (g_get_environ (),
      "REALTIME_BRIDGE_FLOOR_FRAME_MEDIA", frame_media ? "1" : "0", TRUE);
  gchar *out = NULL, *err = NULL, *log = NULL;
  gint status = -1;
  GError *error = NULL;
  JsonParser *parser = json_parser_new ();
  JsonObject *root, *step, *calls, *audio, *launcher;

  envp = g_environ_setenv (envp, "REALTIME_BRIDGE_FLOOR_MODEL_DELAY_MS",
      delay, TRUE);
  fail_unless (program != NULL, "REALTIME_BRIDGE_BENCH is not set");
  fail_unless (floor_relay != NULL, "REALTIME_BRIDGE_FLOOR is not set");
  fail_unless (g_spawn_sync (NULL, argv, envp, G_SPAWN_DEFAULT, NULL, NULL,
          &out, &err, &status, &error), "%s", error ? error->message : "");
  fail_unless (g_spawn_check_wait_status (status, NULL),
      "the benchmark failed:\n%s\n%s", out, err);

  fail_unless (json_parser_load_from_file (parser, json_path, &error),
      "%s", error ? error->message : "");
  root = json_node_get_object (json_parser_get_root (parser));
  fail_unless_equals_int (json_array_get_length
      (json_object_get_array_member (root, "steps")), 1);
  step = json_array_get_object_element (json_object_get_array_member (root,
          "steps"), 0);
  calls = member_object (step, "calls_result");
  audio = member_object (step, "audio");
  launcher = member_object (step, "launcher");

  fail_unless (json_object_get_boolean_member (step, "ok"), "%s", out);
  fail_unless_equals_int (json_object_get_int_member (calls, "ok"), 1);
  fail_unless_equals_int (json_object_get_int_member (calls, "unmatched"), 0);
  fail_unless_equals_int (json_object_get_int_member (step, "bursts_lost"), 0);
  fail_unless_equals_int (json_object_get_int_member (step,
          "responses_lost"), 0);
  fail_unless_equals_int (json_object_get_int_member (member_object (step,
              "setup"), "n"), 1);
  /* `start` sent -> session.update received: the delay was kept, so the
   * caller's audio of that long was held (that it then arrived whole and
   * in order: the session matched by its code above, every byte below) */
  fail_unless (json_object_get_double_member (member_object (step, "setup"),
          "p50_ms") >= model_delay_ms, "setup %.1f ms < the %u ms delay",
      json_object_get_double_member (member_object (step, "setup"),
          "p50_ms"), model_delay_ms);
  /* bursts every 2 s: the 4 s window holds some, and their answers */
  fail_unless (json_object_get_int_member (member_object (step,
              "caller_to_model"), "n") > 0);
  fail_unless (json_object_get_int_member (member_object (step,
              "model_to_caller"), "n") > 0);
  /* passthrough: every byte each way, not just within the tolerance */
  fail_unless (json_object_get_double_member (audio, "caller_sent_ms") > 0);
  fail_unless_equals_float (json_object_get_double_member (audio,
          "model_received_ms"), json_object_get_double_member (audio,
          "caller_sent_ms"));
  fail_unless (json_object_get_double_member (audio, "model_sent_ms") > 0);
  /* (at most a frame of silence more per answer, were a tail padded) */
  fail_unless (json_object_get_double_member (audio, "caller_received_ms")
      >= json_object_get_double_member (audio, "model_sent_ms"));
  /* the relay ran to the end, said nothing bad and exited cleanly (also
   * under the sanitizers: a leak makes the exit status non-zero) */
  fail_if (json_object_get_boolean_member (launcher, "died"));
  fail_unless_equals_int (json_object_get_int_member (launcher, "errors"), 0);
  fail_unless_equals_int (json_object_get_int_member (launcher,
          "calls_failed"), 0);
  fail_unless_equals_int (json_object_get_int_member (launcher,
          "exit_status"), 0);
  fail_unless (g_file_get_contents (log_path, &log, NULL, NULL));
  fail_unless (strstr (log, frame_media ? "\"frame-media\":true" :
          "\"frame-media\":false") != NULL, "%s", log);
  fail_unless (strstr (log, delay_field) != NULL, "%s", log);

  g_object_unref (parser);
  g_unlink (json_path);
  g_unlink (log_path);
  g_rmdir (dir);
  g_strfreev (envp);
  g_free (delay_field);
  g_free (delay);
  g_free (settle);
  g_free (log_path);
  g_free (json_path);
  g_free (dir);
  g_free (log);
  g_free (out);
  g_free (err);
}

GST_START_TEST (test_one_call)
{
  run_bench_through_floor (FALSE, 0, 500);
}

GST_END_TEST;

GST_START_TEST (test_one_call_frame_media)
{
  run_bench_through_floor (TRUE, 0, 500);
}

GST_END_TEST;

/* The model is otherwise ready about 1 ms after `start`: here the relay
 * holds the caller's audio for 800 ms and must then send all of it, in
 * order, before what follows. The benchmark's caller sends frame k
 * 170 + 20 k ms after `start` (its stream begins at timestamp 150) and says
 * its call code in frames 10 to 23, i.e. 370 to 630 ms after `start`: all
 * of the code is held, so the model decodes the call's number (and the
 * session is matched) only if the held frames arrive whole and in order.
 *
 * The window starts at 1.5 s, not 0.5 s: the held audio reaches the model
 * at once, so its VAD sees the code's two utterances (marker, then the
 * last bits 220 ms later) in the same instant and its answer to the first
 * is interrupted before any of it is sent; in the window, that answer
 * would count as lost although the relay lost nothing (the model does the
 * same with any bridge that holds audio). From 1.5 s on the window holds
 * the bursts said live, from 2 s of audio on, and their answers. The setup
 * time (`start` to session.update, >= the delay) is not part of a step's
 * verdict. */
GST_START_TEST (test_one_call_model_late)
{
  run_bench_through_floor (FALSE, 800, 1500);
}

GST_END_TEST;

static Suite *
bench_floor_smoke_suite (void)
{
  Suite *s = suite_create ("bench_floor_smoke");
  TCase *tc = tcase_create ("general");

  /* three short benchmark runs of one call */
  tcase_set_timeout (tc, 150);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_accept_key);
  tcase_add_test (tc, test_frames);
  tcase_add_test (tc, test_scanning);
  tcase_add_test (tc, test_one_call);
  tcase_add_test (tc, test_one_call_frame_media);
  tcase_add_test (tc, test_one_call_model_late);
  return s;
}

GST_CHECK_MAIN (bench_floor_smoke);
