/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Audio for realtime-bridge-call: any file GStreamer can decode, as μ-law
 * 8 kHz mono; μ-law to linear; a WAV writer for what the caller heard.
 */
#ifndef __CALLSIM_AUDIO_H__
#define __CALLSIM_AUDIO_H__

#include <glib.h>

G_BEGIN_DECLS

/* Decodes @location (a file name or a URI) with a GStreamer pipeline
 * (uridecodebin ! audioconvert ! audioresample ! mulawenc) into μ-law
 * 8000 Hz mono bytes. gst_init() must have been called. */
GBytes *callsim_audio_decode (const gchar * location, GError ** error);

gint16 callsim_mulaw_to_linear (guint8 mulaw);
guint8 callsim_linear_to_mulaw (gint16 linear);

/* A 16-bit PCM, 8000 Hz, mono WAV file, written as it goes; the header's
 * sizes are filled in by close. */
typedef struct _CallsimWavWriter CallsimWavWriter;

CallsimWavWriter *callsim_wav_writer_new (const gchar * path, GError ** error);
/* Appends μ-law bytes, converted to linear PCM. */
gboolean callsim_wav_writer_write_mulaw (CallsimWavWriter * writer,
    const guint8 * mulaw, gsize len, GError ** error);
/* Finishes the file and frees @writer (also on error). */
gboolean callsim_wav_writer_close (CallsimWavWriter * writer, GError ** error);

G_END_DECLS

#endif
