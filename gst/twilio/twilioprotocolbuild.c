/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Twilio Media Streams messages: building the exact JSON text with
 * json-glib (key orders of Twilio's documented examples). Parsing and the
 * shared parts are in twilioprotocol.c; see twilioprotocol.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <json-glib/json-glib.h>

#include "twilioprotocol.h"
#include "twilioprotocolprivate.h"

static void
add_string (JsonBuilder * b, const gchar * key, const gchar * value)
{
  json_builder_set_member_name (b, key);
  json_builder_add_string_value (b, value ? value : "");
}

static void
add_counter (JsonBuilder * b, const gchar * key, guint64 value)
{
  gchar text[24];

  g_snprintf (text, sizeof (text), "%" G_GUINT64_FORMAT, value);
  add_string (b, key, text);
}

static void
add_payload (JsonBuilder * b, GBytes * payload)
{
  gsize size = 0;
  const guint8 *data = payload ? g_bytes_get_data (payload, &size) : NULL;
  gchar *text = size ? g_base64_encode (data, size) : g_strdup ("");

  add_string (b, "payload", text);
  g_free (text);
}

static gchar *
builder_to_string (JsonBuilder * b)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);

  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

static void
build_start_body (JsonBuilder * b, const TwilioMessage * m)
{
  guint i;

  json_builder_set_member_name (b, "start");
  json_builder_begin_object (b);
  add_string (b, "accountSid", m->account_sid);
  add_string (b, "streamSid", m->stream_sid);
  add_string (b, "callSid", m->call_sid);
  json_builder_set_member_name (b, "tracks");
  json_builder_begin_array (b);
  if (m->tracks) {
    for (i = 0; m->tracks[i]; i++)
      json_builder_add_string_value (b, m->tracks[i]);
  } else {
    json_builder_add_string_value (b, "inbound");
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "mediaFormat");
  json_builder_begin_object (b);
  add_string (b, "encoding", m->has_media_format ? m->encoding :
      TWILIO_ENCODING_MULAW);
  json_builder_set_member_name (b, "sampleRate");
  json_builder_add_int_value (b, m->has_media_format ? m->sample_rate :
      TWILIO_SAMPLE_RATE);
  json_builder_set_member_name (b, "channels");
  json_builder_add_int_value (b, m->has_media_format ? m->channels : 1);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "customParameters");
  json_builder_begin_object (b);
  if (m->custom_parameter_names && m->custom_parameter_values) {
    for (i = 0; m->custom_parameter_names[i] && m->custom_parameter_values[i];
        i++)
      add_string (b, m->custom_parameter_names[i],
          m->custom_parameter_values[i]);
  }
  json_builder_end_object (b);
  json_builder_end_object (b);
}

gchar *
twilio_message_to_json (const TwilioMessage * m)
{
  g_autoptr (JsonBuilder) b = NULL;
  gboolean from_twilio;

  g_return_val_if_fail (m != NULL, NULL);
  if (m->event == TWILIO_EVENT_UNKNOWN || m->event > TWILIO_EVENT_CLEAR)
    return NULL;

  b = json_builder_new ();
  from_twilio = m->has_sequence_number;
  json_builder_begin_object (b);
  add_string (b, "event", twilio_event_to_string (m->event));

  /* Key orders follow Twilio's documented examples for each message. */
  switch (m->event) {
    case TWILIO_EVENT_CONNECTED:
      add_string (b, "protocol", m->protocol ? m->protocol : "Call");
      add_string (b, "version", m->version ? m->version : "1.0.0");
      break;
    case TWILIO_EVENT_START:
      add_counter (b, "sequenceNumber", m->sequence_number);
      build_start_body (b, m);
      add_string (b, "streamSid", m->stream_sid);
      break;
    case TWILIO_EVENT_MEDIA:
      if (from_twilio) {
        add_counter (b, "sequenceNumber", m->sequence_number);
        json_builder_set_member_name (b, "media");
        json_builder_begin_object (b);
        add_string (b, "track", m->track ? m->track : "inbound");
        add_counter (b, "chunk", m->chunk);
        add_counter (b, "timestamp", m->timestamp_ms);
        add_payload (b, m->payload);
        json_builder_end_object (b);
        add_string (b, "streamSid", m->stream_sid);
      } else {
        add_string (b, "streamSid", m->stream_sid);
        json_builder_set_member_name (b, "media");
        json_builder_begin_object (b);
        add_payload (b, m->payload);
        json_builder_end_object (b);
      }
      break;
    case TWILIO_EVENT_DTMF:
      add_string (b, "streamSid", m->stream_sid);
      add_counter (b, "sequenceNumber", m->sequence_number);
      json_builder_set_member_name (b, "dtmf");
      json_builder_begin_object (b);
      add_string (b, "track", m->track ? m->track : "inbound_track");
      add_string (b, "digit", m->digit);
      json_builder_end_object (b);
      break;
    case TWILIO_EVENT_MARK:
      if (from_twilio)
        add_counter (b, "sequenceNumber", m->sequence_number);
      add_string (b, "streamSid", m->stream_sid);
      json_builder_set_member_name (b, "mark");
      json_builder_begin_object (b);
      add_string (b, "name", m->mark_name);
      json_builder_end_object (b);
      break;
    case TWILIO_EVENT_STOP:
      add_counter (b, "sequenceNumber", m->sequence_number);
      json_builder_set_member_name (b, "stop");
      json_builder_begin_object (b);
      add_string (b, "accountSid", m->account_sid);
      add_string (b, "callSid", m->call_sid);
      json_builder_end_object (b);
      add_string (b, "streamSid", m->stream_sid);
      break;
    case TWILIO_EVENT_CLEAR:
      add_string (b, "streamSid", m->stream_sid);
      break;
    case TWILIO_EVENT_UNKNOWN:
      break;
  }
  json_builder_end_object (b);
  return builder_to_string (b);
}

gchar *
twilio_build_media_slow (const gchar * stream_sid, const guint8 * data,
    gsize len)
{
  TwilioMessage m = { 0, };
  gchar *json;

  m.event = TWILIO_EVENT_MEDIA;
  m.stream_sid = (gchar *) stream_sid;
  m.payload = g_bytes_new_static (data, len);
  json = twilio_message_to_json (&m);
  g_bytes_unref (m.payload);
  return json;
}

gchar *
twilio_build_mark_slow (const gchar * stream_sid, const gchar * name)
{
  TwilioMessage m = { 0, };

  m.event = TWILIO_EVENT_MARK;
  m.stream_sid = (gchar *) stream_sid;
  m.mark_name = (gchar *) name;
  return twilio_message_to_json (&m);
}

gchar *
twilio_build_clear (const gchar * stream_sid)
{
  TwilioMessage m = { 0, };

  m.event = TWILIO_EVENT_CLEAR;
  m.stream_sid = (gchar *) stream_sid;
  return twilio_message_to_json (&m);
}

gchar *
twilio_build_connected (void)
{
  TwilioMessage m = { 0, };

  m.event = TWILIO_EVENT_CONNECTED;
  return twilio_message_to_json (&m);
}

gchar *
twilio_build_start (guint64 sequence_number, const gchar * account_sid,
    const gchar * stream_sid, const gchar * call_sid,
    const gchar * const *tracks, const gchar * const *custom_names,
    const gchar * const *custom_values)
{
  TwilioMessage m = { 0, };

  m.event = TWILIO_EVENT_START;
  m.has_sequence_number = TRUE;
  m.sequence_number = sequence_number;
  m.account_sid = (gchar *) account_sid;
  m.stream_sid = (gchar *) stream_sid;
  m.call_sid = (gchar *) call_sid;
  m.tracks = (gchar **) tracks;
  m.custom_parameter_names = (gchar **) custom_names;
  m.custom_parameter_values = (gchar **) custom_values;
  return twilio_message_to_json (&m);
}

gchar *
twilio_build_inbound_media_slow (guint64 sequence_number,
    const gchar * stream_sid, const gchar * track, guint64 chunk,
    guint64 timestamp_ms, const guint8 * data, gsize len)
{
  TwilioMessage m = { 0, };
  gchar *json;

  m.event = TWILIO_EVENT_MEDIA;
  m.has_sequence_number = TRUE;
  m.sequence_number = sequence_number;
  m.stream_sid = (gchar *) stream_sid;
  m.track = (gchar *) track;
  m.has_chunk = TRUE;
  m.chunk = chunk;
  m.has_timestamp = TRUE;
  m.timestamp_ms = timestamp_ms;
  m.payload = g_bytes_new_static (data, len);
  json = twilio_message_to_json (&m);
  g_bytes_unref (m.payload);
  return json;
}

gchar *
twilio_build_dtmf (guint64 sequence_number, const gchar * stream_sid,
    const gchar * digit)
{
  TwilioMessage m = { 0, };

  m.event = TWILIO_EVENT_DTMF;
  m.has_sequence_number = TRUE;
  m.sequence_number = sequence_number;
  m.stream_sid = (gchar *) stream_sid;
  m.digit = (gchar *) digit;
  return twilio_message_to_json (&m);
}

gchar *
twilio_build_mark_echo_slow (guint64 sequence_number, const gchar * stream_sid,
    const gchar * name)
{
  TwilioMessage m = { 0, };

  m.event = TWILIO_EVENT_MARK;
  m.has_sequence_number = TRUE;
  m.sequence_number = sequence_number;
  m.stream_sid = (gchar *) stream_sid;
  m.mark_name = (gchar *) name;
  return twilio_message_to_json (&m);
}

gchar *
twilio_build_stop (guint64 sequence_number, const gchar * stream_sid,
    const gchar * account_sid, const gchar * call_sid)
{
  TwilioMessage m = { 0, };

  m.event = TWILIO_EVENT_STOP;
  m.has_sequence_number = TRUE;
  m.sequence_number = sequence_number;
  m.stream_sid = (gchar *) stream_sid;
  m.account_sid = (gchar *) account_sid;
  m.call_sid = (gchar *) call_sid;
  return twilio_message_to_json (&m);
}
