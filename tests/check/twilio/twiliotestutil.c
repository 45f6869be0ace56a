/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Helpers shared by the twilio element tests.
 */
#include <gst/check/gstcheck.h>
#include <string.h>

#include "twiliotestutil.h"

gchar *
start_json (const gchar * encoding, gint rate)
{
  return g_strdup_printf ("{\"event\":\"start\",\"sequenceNumber\":\"1\","
      "\"start\":{\"accountSid\":\"" AC "\",\"streamSid\":\"" MZ "\","
      "\"callSid\":\"" CA "\",\"tracks\":[\"inbound\"],\"mediaFormat\":"
      "{\"encoding\":\"%s\",\"sampleRate\":%d,\"channels\":1},"
      "\"customParameters\":{\"token\":\"abc\",\"caller\":\"+1555\"}},"
      "\"streamSid\":\"" MZ "\"}", encoding, rate);
}

void
send_media (FakeTwilio * fake, guint seq, guint chunk, guint ts, guint8 fill,
    gsize len)
{
  guint8 *data = g_malloc (len);
  gchar *json;

  memset (data, fill, len);
  json = twilio_build_inbound_media (seq, MZ, "inbound", chunk, ts, data, len);
  fake_twilio_send (fake, json);
  g_free (json);
  g_free (data);
}

/* Pops bus messages until an element message named @name (or an error)
 * arrives. */
GstMessage *
wait_message (GstBus * bus, const gchar * name)
{
  gint64 deadline = g_get_monotonic_time () + DEADLINE * G_TIME_SPAN_SECOND;

  while (g_get_monotonic_time () < deadline) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, GST_SECOND,
        GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR | GST_MESSAGE_EOS);

    if (msg == NULL)
      continue;
    if (name == NULL && GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ELEMENT)
      return msg;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT
        && name && gst_message_has_name (msg, name))
      return msg;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR && name) {
      GError *err = NULL;
      gst_message_parse_error (msg, &err, NULL);
      fail ("error while waiting for %s: %s", name, err->message);
    }
    gst_message_unref (msg);
  }
  fail ("no %s message within %d s", name ? name : "error/eos", DEADLINE);
  return NULL;
}

GstHarness *
make_src_harness (const gchar * stream, GstBus * bus, gint * port)
{
  GstElement *src = gst_element_factory_make ("twiliosrc", NULL);
  GstHarness *h;

  g_object_set (src, "port", 0, "address", "127.0.0.1", "stream", stream, NULL);
  gst_element_set_bus (src, bus);
  h = gst_harness_new_with_element (src, NULL, "src");
  gst_object_unref (src);
  gst_harness_play (h);
  g_object_get (h->element, "current-port", port, NULL);
  fail_unless (*port > 0);
  return h;
}

/* Reads messages from the fake until one of @event arrives; media payload
 * sizes are checked and counted on the way. */
TwilioMessage *
pop_until (FakeTwilio * fake, TwilioEvent event, gsize * media_bytes)
{
  for (;;) {
    gchar *text = fake_twilio_pop (fake, DEADLINE);
    TwilioMessage *m;
    GError *error = NULL;

    fail_unless (text != NULL, "nothing received from the sink");
    m = twilio_message_parse (text, -1,
        TWILIO_PARSE_TO_TWILIO | TWILIO_PARSE_STRICT, &error);
    fail_unless (m != NULL, "invalid message %s: %s", text,
        error ? error->message : "");
    g_free (text);
    fail_unless_equals_string (m->stream_sid, MZ);
    if (m->event == TWILIO_EVENT_MEDIA) {
      /* One 20 ms frame per message, whatever the mark interval. */
      fail_unless_equals_int (g_bytes_get_size (m->payload), 160);
      if (media_bytes)
        *media_bytes += g_bytes_get_size (m->payload);
    }
    if (m->event == event)
      return m;
    twilio_message_free (m);
  }
}
