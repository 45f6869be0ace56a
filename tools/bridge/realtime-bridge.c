/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * realtime-bridge: answers Twilio's voice webhook and runs one GStreamer
 * pipeline per call between Twilio Media Streams and the OpenAI Realtime API.
 *
 * SKELETON: parses options and checks that the elements are available; it
 * does not serve calls yet.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <gst/gst.h>

static gboolean
ensure_plugins (void)
{
  const gchar *needed[] = { "twiliosrc", "twiliosink", "openairealtimesrc",
    "openairealtimesink"
  };
  guint i;

  /* Installed in a prefix GStreamer does not scan: look where we put them. */
  if (!gst_registry_check_feature_version (gst_registry_get (), "twiliosrc",
          1, 0, 0))
    gst_registry_scan_path (gst_registry_get (), PLUGINDIR);

  for (i = 0; i < G_N_ELEMENTS (needed); i++) {
    GstElementFactory *f = gst_element_factory_find (needed[i]);
    if (!f) {
      g_printerr
          ("realtime-bridge: element '%s' not found (GST_PLUGIN_PATH?)\n",
          needed[i]);
      return FALSE;
    }
    gst_object_unref (f);
  }
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;

  ctx =
      g_option_context_new ("- bridge Twilio calls to the OpenAI Realtime API");
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("realtime-bridge: %s\n", error->message);
    return EXIT_FAILURE;
  }
  if (!ensure_plugins ())
    return EXIT_FAILURE;

  g_print ("realtime-bridge %s: elements found; serving calls is not "
      "implemented yet\n", VERSION);
  return EXIT_SUCCESS;
}
