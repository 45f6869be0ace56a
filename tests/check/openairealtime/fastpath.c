/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The protocol's fast paths for the per-frame traffic, checked against the
 * plain ones: the input_audio_buffer.append builder against a JSON tree,
 * the strict base64 decoder against GLib, and the response.output_audio.delta
 * scanner against json-glib (fixed cases and randomly damaged events).
 */
#include <gst/check/gstcheck.h>
#include <string.h>

#include "realtimeprotocol.h"
#include "realtimeprotocolprivate.h"

/* The append builder writes the same event as a JSON tree would, for any
 * size and any way the audio is split into pieces. */
GST_START_TEST (test_append_builder)
{
  guint8 data[1000];
  gsize size, split, i;

  for (i = 0; i < sizeof (data); i++)
    data[i] = (guint8) (i * 37 + 11);
  for (size = 0; size < sizeof (data); size = size < 12 ? size + 1 : size * 3) {
    g_autofree gchar *b64 = g_base64_encode (data, size);
    g_autofree gchar *expected =
        g_strdup_printf ("{\"type\":\"input_audio_buffer.append\","
        "\"audio\":\"%s\"}", b64);
    g_autofree gchar *whole = realtime_build_input_audio_append (data, size);
    RealtimeClientEvent *ev;

    fail_unless_equals_string (whole, expected);
    ev = realtime_client_event_parse (whole, -1, NULL);
    fail_unless (ev != NULL);
    fail_unless_equals_int (ev->type, REALTIME_CLIENT_INPUT_AUDIO_APPEND);
    fail_unless_equals_int (g_bytes_get_size (ev->audio), size);
    fail_unless (size == 0
        || memcmp (g_bytes_get_data (ev->audio, NULL), data, size) == 0);
    realtime_client_event_free (ev);

    /* in two and in three pieces, split everywhere for small sizes */
    for (split = 0; split <= size; split += size < 12 ? 1 : size / 5 + 1) {
      RealtimeAppendBuilder builder;
      gchar *pieces;

      realtime_append_builder_init (&builder, size);
      realtime_append_builder_add (&builder, data, split / 2);
      realtime_append_builder_add (&builder, data + split / 2,
          split - split / 2);
      realtime_append_builder_add (&builder, data + split, size - split);
      pieces = realtime_append_builder_finish (&builder);
      fail_unless_equals_string (pieces, expected);
      g_free (pieces);
    }
  }
}

GST_END_TEST;

GST_START_TEST (test_base64_strict_decoder)
{
  const gchar *invalid[] = { "A", "AB", "ABC", "AB=C", "A===", "====",
    "AA==AAAA", "AAA=AAAA", "AB C", "AB\nC", "AB-_", "AAAA=", "\xc3\xa9\xc3\xa9"
  };
  guint8 data[300];
  gsize size, i;

  for (i = 0; i < sizeof (data); i++)
    data[i] = (guint8) g_random_int ();
  /* agrees with GLib's encoder for every length and padding */
  for (size = 0; size < sizeof (data); size++) {
    g_autofree gchar *b64 = g_base64_encode (data, size);
    GBytes *decoded = rtp_base64_decode_strict (b64, strlen (b64));

    fail_unless (decoded != NULL, "valid base64 of %" G_GSIZE_FORMAT
        " bytes rejected", size);
    fail_unless_equals_int (g_bytes_get_size (decoded), size);
    fail_unless (size == 0
        || memcmp (g_bytes_get_data (decoded, NULL), data, size) == 0);
    g_bytes_unref (decoded);
  }
  for (i = 0; i < G_N_ELEMENTS (invalid); i++)
    fail_unless (rtp_base64_decode_strict (invalid[i],
            strlen (invalid[i])) == NULL, "accepted \"%s\"", invalid[i]);
}

GST_END_TEST;

static void
assert_same_event (RealtimeServerEvent * a, RealtimeServerEvent * b,
    const gchar * json)
{
  fail_unless_equals_int (a->type, b->type);
  fail_unless_equals_string (a->type_name, b->type_name);
  fail_unless_equals_string (a->event_id, b->event_id);
  fail_unless_equals_string (a->response_id, b->response_id);
  fail_unless_equals_string (a->item_id, b->item_id);
  fail_unless_equals_string (a->previous_item_id, b->previous_item_id);
  fail_unless_equals_int (a->output_index, b->output_index);
  fail_unless_equals_int (a->content_index, b->content_index);
  fail_unless ((a->audio == NULL && b->audio == NULL) || (a->audio && b->audio
          && g_bytes_equal (a->audio, b->audio)), "audio differs: %s", json);
}

/* For every text the fast delta parser accepts, the json-glib parser gives
 * the same event; what it refuses still parses (or fails) as before. */
GST_START_TEST (test_audio_delta_fast_path)
{
  const gchar *accepted[] = {
    "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
        "\"item_id\":\"i\",\"delta\":\"AQID\"}",
    " {\n \"event_id\" : \"event_1\" , \"type\":\"response.output_audio.delta\""
        ",\"response_id\":\"resp_1\",\"item_id\":\"item_1\",\"output_index\":3,"
        "\"content_index\":-2,\"delta\":\"\",\"future\":12}\r\n",
    "{\"delta\":\"AQI=\",\"item_id\":\"i\",\"response_id\":\"r\","
        "\"type\":\"response.output_audio.delta\",\"previous_item_id\":\"p\"}",
  };
  const gchar *refused[] = {
    /* escapes, nested values, literals, non-ASCII: the full parser decides */
    "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\\u0041\","
        "\"item_id\":\"i\",\"delta\":\"AQID\"}",
    "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
        "\"item_id\":\"i\",\"delta\":\"AQID\",\"x\":{\"y\":1}}",
    "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
        "\"item_id\":\"i\",\"delta\":\"AQID\",\"previous_item_id\":null}",
    "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\xc3\xa9\","
        "\"item_id\":\"i\",\"delta\":\"AQID\"}",
    "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
        "\"item_id\":\"i\",\"delta\":\"AQID\",\"output_index\":1.0}",
    /* duplicates, other events, errors */
    "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
        "\"item_id\":\"i\",\"delta\":\"AQID\",\"delta\":\"AAAA\"}",
    "{\"type\":\"response.output_audio.done\",\"response_id\":\"r\","
        "\"item_id\":\"i\"}",
    "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
        "\"item_id\":\"i\",\"delta\":\"AQI\"}",
    "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
        "\"delta\":\"AQID\"}",
    "{\"type\":\"response.output_audio.delta\",\"response_id\":7,"
        "\"item_id\":\"i\",\"delta\":\"AQID\"}",
    "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
        "\"item_id\":\"i\",\"delta\":\"AQID\"} x",
    "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
        "\"item_id\":\"i\",\"delta\":\"AQID\",}",
    "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
        "\"item_id\":\"i\",\"delta\":\"AQID\"",
  };
  guint8 audio[480];
  gchar *base;
  gsize i, base_len;
  GRand *rand = g_rand_new_with_seed (4);
  guint fast_count = 0;

  for (i = 0; i < G_N_ELEMENTS (accepted); i++) {
    RealtimeServerEvent *fast = rtp_parse_audio_delta_fast (accepted[i],
        strlen (accepted[i]));
    RealtimeServerEvent *tree = rtp_server_event_parse_tree (accepted[i], -1,
        NULL);

    fail_unless (fast != NULL, "fast path refused %s", accepted[i]);
    fail_unless (tree != NULL);
    assert_same_event (fast, tree, accepted[i]);
    realtime_server_event_free (fast);
    realtime_server_event_free (tree);
  }
  for (i = 0; i < G_N_ELEMENTS (refused); i++) {
    g_autoptr (GError) fast_error = NULL;
    g_autoptr (GError) tree_error = NULL;
    RealtimeServerEvent *public, *tree;

    fail_unless (rtp_parse_audio_delta_fast (refused[i],
            strlen (refused[i])) == NULL, "fast path took %s", refused[i]);
    /* the public parser answers exactly as the json-glib one */
    public = realtime_server_event_parse (refused[i], -1, &fast_error);
    tree = rtp_server_event_parse_tree (refused[i], -1, &tree_error);
    fail_unless ((public == NULL) == (tree == NULL));
    if (public)
      assert_same_event (public, tree, refused[i]);
    else
      fail_unless_equals_string (fast_error->message, tree_error->message);
    realtime_server_event_free (public);
    realtime_server_event_free (tree);
  }

  /* random damage to a real delta never makes the paths disagree */
  for (i = 0; i < sizeof (audio); i++)
    audio[i] = (guint8) g_rand_int (rand);
  base = realtime_build_output_audio_delta ("resp_1", "item_1", audio,
      sizeof (audio));
  base_len = strlen (base);
  for (i = 0; i < 3000; i++) {
    gchar *text = g_strdup (base);
    gsize len = base_len;
    guint edits = g_rand_int_range (rand, 1, 4), e;
    RealtimeServerEvent *fast, *tree;

    for (e = 0; e < edits && len > 0; e++) {
      gsize at = g_rand_int_range (rand, 0, len);
      const gchar interesting[] = "\"{}[],:0 =\\Aa-.e\x80";

      if (g_rand_int_range (rand, 0, 8) == 0)
        len = at;               /* truncate */
      else
        text[at] = interesting[g_rand_int_range (rand, 0,
                sizeof (interesting) - 1)];
    }
    fast = rtp_parse_audio_delta_fast (text, len);
    tree = rtp_server_event_parse_tree (text, len, NULL);
    if (fast) {
      fast_count++;
      fail_unless (tree != NULL, "only the fast path accepts %.*s", (int) len,
          text);
      assert_same_event (fast, tree, text);
    }
    realtime_server_event_free (fast);
    realtime_server_event_free (tree);
    g_free (text);
  }
  /* most damage is refused, but some lands where it changes nothing */
  fail_unless (fast_count > 0);
  g_free (base);
  g_rand_free (rand);
}

GST_END_TEST;

static Suite *
realtimefastpath_suite (void)
{
  Suite *s = suite_create ("realtimefastpath");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_append_builder);
  tcase_add_test (tc, test_base64_strict_decoder);
  tcase_add_test (tc, test_audio_delta_fast_path);
  return s;
}

GST_CHECK_MAIN (realtimefastpath);
