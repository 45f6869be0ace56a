/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Audio decode, μ-law and WAV writing for realtime-bridge-call.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/app/app.h>

#include "callsimaudio.h"

#define SAMPLE_RATE 8000
#define WAV_HEADER_BYTES 44

static GstFlowReturn
on_new_sample (GstAppSink * sink, gpointer user_data)
{
  GByteArray *out = user_data;
  GstSample *sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buffer;
  GstMapInfo map;

  if (sample == NULL)
    return GST_FLOW_EOS;
  buffer = gst_sample_get_buffer (sample);
  if (buffer && gst_buffer_map (buffer, &map, GST_MAP_READ)) {
    g_byte_array_append (out, map.data, map.size);
    gst_buffer_unmap (buffer, &map);
  }
  gst_sample_unref (sample);
  return GST_FLOW_OK;
}

GBytes *
callsim_audio_decode (const gchar * location, GError ** error)
{
  GstAppSinkCallbacks callbacks = { NULL, NULL, on_new_sample, };
  g_autofree gchar *uri = NULL;
  GstElement *pipeline, *decoder, *sink;
  GByteArray *out;
  GstBus *bus;
  GstMessage *msg;
  GError *local = NULL;

  if (gst_uri_is_valid (location))
    uri = g_strdup (location);
  else if (!(uri = gst_filename_to_uri (location, &local))) {
    g_propagate_prefixed_error (error, local, "%s: ", location);
    return NULL;
  }

  pipeline = gst_parse_launch ("uridecodebin name=decoder ! audioconvert "
      "! audioresample ! audio/x-raw,rate=8000,channels=1 ! mulawenc "
      "! appsink name=sink sync=false", &local);
  if (pipeline == NULL) {
    g_propagate_prefixed_error (error, local,
        "cannot build the decoding pipeline (are gst-plugins-base and "
        "gst-plugins-good installed?): ");
    return NULL;
  }
  decoder = gst_bin_get_by_name (GST_BIN (pipeline), "decoder");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  g_object_set (decoder, "uri", uri, NULL);
  out = g_byte_array_new ();
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &callbacks, out, NULL);
  gst_object_unref (decoder);
  gst_object_unref (sink);

  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  gst_element_set_state (pipeline, GST_STATE_NULL);

  if (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    g_autofree gchar *debug = NULL;

    gst_message_parse_error (msg, &local, &debug);
    g_set_error (error, local->domain, local->code, "cannot decode %s: %s",
        location, local->message);
    g_clear_error (&local);
    g_byte_array_unref (out);
    out = NULL;
  } else if (out->len == 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "%s holds no audio", location);
    g_byte_array_unref (out);
    out = NULL;
  }
  if (msg)
    gst_message_unref (msg);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  return out ? g_byte_array_free_to_bytes (out) : NULL;
}

/* ITU-T G.711 μ-law, with the usual bias of 0x84. */
gint16
callsim_mulaw_to_linear (guint8 mulaw)
{
  gint value, exponent, mantissa;

  mulaw = ~mulaw;
  exponent = (mulaw >> 4) & 0x07;
  mantissa = mulaw & 0x0F;
  value = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return (mulaw & 0x80) ? -value : value;
}

guint8
callsim_linear_to_mulaw (gint16 linear)
{
  gint sample = linear, sign = 0, exponent, mantissa;

  if (sample < 0) {
    sample = -sample;
    sign = 0x80;
  }
  sample = MIN (sample, 32635) + 0x84;
  for (exponent = 7; exponent > 0; exponent--)
    if (sample & (0x4000 >> (7 - exponent)))
      break;
  mantissa = (sample >> (exponent + 3)) & 0x0F;
  return ~(sign | (exponent << 4) | mantissa) & 0xFF;
}

struct _CallsimWavWriter
{
  FILE *file;
  gchar *path;
  guint64 data_bytes;
};

static void
put_le32 (guint8 * p, guint32 v)
{
  p[0] = v & 0xFF;
  p[1] = (v >> 8) & 0xFF;
  p[2] = (v >> 16) & 0xFF;
  p[3] = (v >> 24) & 0xFF;
}

static void
put_le16 (guint8 * p, guint16 v)
{
  p[0] = v & 0xFF;
  p[1] = (v >> 8) & 0xFF;
}

static void
fill_header (guint8 * h, guint32 data_bytes)
{
  memcpy (h, "RIFF", 4);
  put_le32 (h + 4, 36 + data_bytes);
  memcpy (h + 8, "WAVEfmt ", 8);
  put_le32 (h + 16, 16);
  put_le16 (h + 20, 1);         /* PCM */
  put_le16 (h + 22, 1);         /* mono */
  put_le32 (h + 24, SAMPLE_RATE);
  put_le32 (h + 28, SAMPLE_RATE * 2);
  put_le16 (h + 32, 2);
  put_le16 (h + 34, 16);
  memcpy (h + 36, "data", 4);
  put_le32 (h + 40, data_bytes);
}

static void
set_io_error (GError ** error, const gchar * what, const gchar * path)
{
  int saved = errno;

  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
      "cannot %s %s: %s", what, path, g_strerror (saved));
}

CallsimWavWriter *
callsim_wav_writer_new (const gchar * path, GError ** error)
{
  guint8 header[WAV_HEADER_BYTES];
  CallsimWavWriter *writer;
  FILE *file = g_fopen (path, "wb");

  if (file == NULL) {
    set_io_error (error, "create", path);
    return NULL;
  }
  fill_header (header, 0);
  if (fwrite (header, 1, sizeof header, file) != sizeof header) {
    set_io_error (error, "write", path);
    fclose (file);
    return NULL;
  }
  writer = g_new0 (CallsimWavWriter, 1);
  writer->file = file;
  writer->path = g_strdup (path);
  return writer;
}

gboolean
callsim_wav_writer_write_mulaw (CallsimWavWriter * writer,
    const guint8 * mulaw, gsize len, GError ** error)
{
  guint8 pcm[512];
  gsize done = 0;

  while (done < len) {
    gsize i, n = MIN (len - done, sizeof pcm / 2);

    for (i = 0; i < n; i++)
      put_le16 (pcm + 2 * i, (guint16) callsim_mulaw_to_linear (mulaw[done +
                  i]));
    if (fwrite (pcm, 2, n, writer->file) != n) {
      set_io_error (error, "write", writer->path);
      return FALSE;
    }
    done += n;
  }
  writer->data_bytes += 2 * len;
  return TRUE;
}

gboolean
callsim_wav_writer_close (CallsimWavWriter * writer, GError ** error)
{
  guint8 header[WAV_HEADER_BYTES];
  gboolean ok = TRUE;

  fill_header (header, (guint32) MIN (writer->data_bytes, G_MAXUINT32 - 36));
  if (fseek (writer->file, 0, SEEK_SET) != 0
      || fwrite (header, 1, sizeof header, writer->file) != sizeof header) {
    set_io_error (error, "write", writer->path);
    ok = FALSE;
  }
  if (fclose (writer->file) != 0 && ok) {
    set_io_error (error, "close", writer->path);
    ok = FALSE;
  }
  g_free (writer->path);
  g_free (writer);
  return ok;
}
