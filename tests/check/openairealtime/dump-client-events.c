/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Prints every client event the openairealtime elements can build, one JSON
 * text per line, with every configuration option set; check-schema.py
 * validates them strictly against the GA schema.
 */
#include <stdio.h>

#include "realtimeprotocol.h"

static void
print_and_free (gchar * json)
{
  g_assert (json != NULL);
  printf ("%s\n", json);
  g_free (json);
}

int
main (int argc, char **argv)
{
  RealtimeSessionConfig *config = realtime_session_config_new ();
  const guint8 audio[] = { 0xff, 0x7f, 0x00 };

  print_and_free (realtime_build_session_update (config, NULL));

  config->instructions = g_strdup ("Be brief.");
  config->voice = g_strdup ("marin");
  config->input_format = REALTIME_AUDIO_FORMAT_PCMU;
  config->output_format = REALTIME_AUDIO_FORMAT_PCMA;
  config->vad_threshold = 0.5;
  config->prefix_padding_ms = 300;
  config->silence_duration_ms = 500;
  config->idle_timeout_ms = 6000;
  config->transcription_model = g_strdup ("gpt-4o-mini-transcribe");
  config->noise_reduction = REALTIME_NOISE_REDUCTION_NEAR_FIELD;
  config->tools_json = g_strdup ("[{\"type\":\"function\",\"name\":\"hangup\","
      "\"description\":\"End the call\",\"parameters\":{\"type\":\"object\","
      "\"properties\":{}}}]");
  print_and_free (realtime_build_session_update (config, NULL));

  config->turn_detection = REALTIME_TURN_DETECTION_SEMANTIC_VAD;
  config->noise_reduction = REALTIME_NOISE_REDUCTION_FAR_FIELD;
  print_and_free (realtime_build_session_update (config, NULL));

  config->turn_detection = REALTIME_TURN_DETECTION_NONE;
  print_and_free (realtime_build_session_update (config, NULL));

  print_and_free (realtime_build_input_audio_append (audio, sizeof (audio)));
  print_and_free (realtime_build_input_audio_commit ());
  print_and_free (realtime_build_input_audio_clear ());
  print_and_free (realtime_build_item_create_message ("user", "hello"));
  print_and_free (realtime_build_item_create_message ("assistant", "hi"));
  print_and_free (realtime_build_item_create_message ("system", "context"));
  print_and_free (realtime_build_item_create_function_call ("call_1", "f",
          "{}"));
  print_and_free (realtime_build_item_create_function_call_output ("call_1",
          "{\"ok\":true}"));
  print_and_free (realtime_build_item_truncate ("item_1", 0, 1500));
  print_and_free (realtime_build_item_delete ("item_1"));
  print_and_free (realtime_build_response_create (NULL));
  print_and_free (realtime_build_response_create ("Greet the caller."));
  print_and_free (realtime_build_response_cancel (NULL));
  print_and_free (realtime_build_response_cancel ("resp_1"));

  realtime_session_config_free (config);
  return 0;
}
