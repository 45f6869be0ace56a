/* gst-realtime-bridge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Unit tests of the launcher's pure code: configuration precedence, .env,
 * URL derivation, TwiML escaping, form bodies and X-Twilio-Signature (as
 * the webhook checks it, repeated parameters included), bearer tokens,
 * metrics text, log events and redaction.
 */
#include <gst/check/gstcheck.h>
#include <string.h>
#include <stdio.h>

#include "bridge-config.h"
#include "bridge-webhook.h"
#include "twiliosignature.h"
#include "bridge-metrics.h"
#include "bridge-log.h"

/* ---- configuration ------------------------------------------------------- */

static BridgeConfig *
resolve (BridgeCliOptions * cli, const gchar * const *env,
    const gchar * dotenv_text, GError ** error)
{
  g_auto (GStrv) envp = NULL;
  g_autoptr (GHashTable) dotenv = NULL;
  guint i;

  for (i = 0; env && env[i]; i += 2)
    envp = g_environ_setenv (envp, env[i], env[i + 1], TRUE);
  if (dotenv_text) {
    dotenv = bridge_dotenv_parse (dotenv_text, error);
    fail_unless (dotenv != NULL);
  }
  return bridge_config_resolve (cli, envp, dotenv, error);
}

GST_START_TEST (test_config_defaults)
{
  BridgeCliOptions cli;
  g_autoptr (GError) error = NULL;
  g_autoptr (BridgeConfig) c = NULL;

  bridge_cli_options_init (&cli);
  c = resolve (&cli, NULL, NULL, &error);
  fail_unless (c != NULL);
  fail_unless_equals_int (c->port, 8080);
  fail_unless_equals_int (c->max_calls, 10);
  fail_unless_equals_string (c->model, "gpt-realtime");
  fail_unless_equals_string (c->pipeline_name, "transcode");
  fail_unless_equals_string (c->pipeline, BRIDGE_PIPELINE_TRANSCODE);
  fail_unless_equals_int (c->model_mode, BRIDGE_MODEL_LOCAL);
  fail_unless (c->realtime_url == NULL);
  fail_unless (c->api_key == NULL);
  fail_unless_equals_int (c->log_format, BRIDGE_LOG_JSON);
}

GST_END_TEST;

/* Call loops and loop-driven calls: defaults, environment, command line,
 * range; the presets mark every 60 ms. */
GST_START_TEST (test_config_call_loops)
{
  BridgeCliOptions cli;
  g_autoptr (GError) error = NULL;
  BridgeConfig *c;
  const gchar *env[] = { "CALL_LOOPS", "3", "THREADED_CALLS", "yes", NULL };
  const gchar *bad[] = { "CALL_LOOPS", "-2", NULL };

  bridge_cli_options_init (&cli);
  c = resolve (&cli, NULL, NULL, &error);
  fail_unless (c != NULL);
  fail_unless_equals_int (c->call_loops, 0);
  fail_unless (!c->threaded_calls);
  fail_unless (strstr (c->pipeline, "twiliosink mark-interval=60") != NULL);
  bridge_config_free (c);

  c = resolve (&cli, env, NULL, &error);
  fail_unless (c != NULL);
  fail_unless_equals_int (c->call_loops, 3);
  fail_unless (c->threaded_calls);
  bridge_config_free (c);

  cli.call_loops = 1;
  c = resolve (&cli, env, "CALL_LOOPS=5\n", &error);
  fail_unless (c != NULL);
  fail_unless_equals_int (c->call_loops, 1);
  bridge_config_free (c);

  bridge_cli_options_init (&cli);
  c = resolve (&cli, bad, NULL, &error);
  fail_unless (c == NULL);
  fail_unless (strstr (error->message, "CALL_LOOPS") != NULL, "%s",
      error->message);
  g_clear_error (&error);

  cli.pipeline = g_strdup ("passthrough");
  cli.record_dir = g_strdup ("/tmp/rec");
  c = resolve (&cli, NULL, NULL, &error);
  fail_unless (c != NULL);
  fail_unless (strstr (c->pipeline, "twiliosink mark-interval=60") != NULL,
      "%s", c->pipeline);
  bridge_config_free (c);
  bridge_cli_options_clear (&cli);
}

GST_END_TEST;

GST_START_TEST (test_config_precedence)
{
  const gchar *env[] = { "PORT", "9001", "OPENAI_REALTIME_MODEL", "env-model",
    "VOICE", "env-voice", NULL
  };
  const gchar *dotenv = "# comment\nPORT=9002\nVOICE=dotenv-voice\n"
      "GREETING=\"Hello \\\"there\\\"\"\nexport MAX_CALLS=3 # inline\n"
      "INSTRUCTIONS='literal \\n text'\n";
  BridgeCliOptions cli;
  g_autoptr (GError) error = NULL;
  g_autoptr (BridgeConfig) c = NULL;

  bridge_cli_options_init (&cli);
  cli.port = 9000;
  c = resolve (&cli, env, dotenv, &error);
  fail_unless (c != NULL, "%s", error ? error->message : "");
  /* command line > environment > .env > default */
  fail_unless_equals_int (c->port, 9000);
  fail_unless_equals_string (c->model, "env-model");
  fail_unless_equals_string (c->voice, "env-voice");
  fail_unless_equals_string (c->greeting, "Hello \"there\"");
  fail_unless_equals_int (c->max_calls, 3);
  fail_unless_equals_string (c->instructions, "literal \\n text");
  g_clear_pointer (&c, bridge_config_free);

  bridge_cli_options_init (&cli);
  c = resolve (&cli, env, dotenv, &error);
  fail_unless_equals_int (c->port, 9001);
}

GST_END_TEST;

GST_START_TEST (test_config_errors)
{
  BridgeCliOptions cli;
  g_autoptr (GError) error = NULL;
  BridgeConfig *c;
  const gchar *bad_port[] = { "PORT", "80x", NULL };
  const gchar *token_no_url[] = { "TWILIO_AUTH_TOKEN", "tok-123456", NULL };
  const gchar *bad_turn[] = { "TURN_DETECTION", "sometimes", NULL };
  const gchar *bad_base[] = { "OPENAI_API_KEY", "sk-x", "OPENAI_BASE_URL",
    "ftp://x", NULL
  };

  bridge_cli_options_init (&cli);
  c = resolve (&cli, bad_port, NULL, &error);
  fail_unless (c == NULL);
  fail_unless (strstr (error->message, "PORT") != NULL);
  g_clear_error (&error);

  c = resolve (&cli, token_no_url, NULL, &error);
  fail_unless (c == NULL);
  fail_unless (strstr (error->message, "PUBLIC_URL") != NULL, "%s",
      error->message);
  /* The error names what is missing, never the secret. */
  fail_unless (strstr (error->message, "tok-123456") == NULL);
  g_clear_error (&error);

  c = resolve (&cli, bad_turn, NULL, &error);
  fail_unless (c == NULL);
  fail_unless (strstr (error->message, "sometimes") != NULL);
  g_clear_error (&error);

  c = resolve (&cli, bad_base, NULL, &error);
  fail_unless (c == NULL);
  fail_unless (strstr (error->message, "OPENAI_BASE_URL") != NULL);
  g_clear_error (&error);

  fail_unless (bridge_dotenv_parse ("JUST TEXT\n", &error) == NULL);
  fail_unless (strstr (error->message, "line 1") != NULL);
  g_clear_error (&error);
  fail_unless (bridge_dotenv_parse ("A=\"open\n", &error) == NULL);
  g_clear_error (&error);
  fail_unless (bridge_dotenv_parse ("1A=x\n", &error) == NULL);
}

GST_END_TEST;

GST_START_TEST (test_config_model_mode)
{
  BridgeCliOptions cli;
  g_autoptr (GError) error = NULL;
  g_autoptr (BridgeConfig) c = NULL;
  const gchar *openai[] = { "OPENAI_API_KEY", "sk-secret", NULL };
  const gchar *base[] = { "OPENAI_API_KEY", "sk-secret", "OPENAI_BASE_URL",
    "https://proxy.example.com/v1/", NULL
  };

  bridge_cli_options_init (&cli);
  c = resolve (&cli, openai, NULL, &error);
  fail_unless_equals_int (c->model_mode, BRIDGE_MODEL_OPENAI);
  fail_unless_equals_string (c->realtime_url,
      "wss://api.openai.com/v1/realtime");
  fail_unless_equals_string (c->api_key, "sk-secret");
  g_clear_pointer (&c, bridge_config_free);

  c = resolve (&cli, base, NULL, &error);
  fail_unless_equals_string (c->realtime_url,
      "wss://proxy.example.com/v1/realtime");
  g_clear_pointer (&c, bridge_config_free);

  cli.realtime_url = g_strdup ("ws://127.0.0.1:9/v1/realtime");
  c = resolve (&cli, base, NULL, &error);
  fail_unless_equals_int (c->model_mode, BRIDGE_MODEL_CUSTOM_URL);
  fail_unless_equals_string (c->realtime_url, "ws://127.0.0.1:9/v1/realtime");
  bridge_cli_options_clear (&cli);
}

GST_END_TEST;

GST_START_TEST (test_urls)
{
  g_autoptr (GError) error = NULL;
  gchar *s;

  s = bridge_realtime_url_from_base_url ("http://127.0.0.1:8000/v1", &error);
  fail_unless_equals_string (s, "ws://127.0.0.1:8000/v1/realtime");
  g_free (s);
  s = bridge_realtime_url_from_base_url ("https://h/v1/realtime", &error);
  fail_unless_equals_string (s, "wss://h/v1/realtime");
  g_free (s);
  fail_unless (bridge_realtime_url_from_base_url ("https://", &error) == NULL);
  g_clear_error (&error);

  s = bridge_normalize_public_url ("bridge.example.com/", &error);
  fail_unless_equals_string (s, "https://bridge.example.com");
  g_free (s);
  s = bridge_normalize_public_url ("https://h.example.com:8443/prefix//",
      &error);
  fail_unless_equals_string (s, "https://h.example.com:8443/prefix");
  g_free (s);
  fail_unless (bridge_normalize_public_url ("ftp://x", &error) == NULL);
  g_clear_error (&error);
  fail_unless (bridge_normalize_public_url ("https://x/?a=b", &error) == NULL);
  g_clear_error (&error);

  s = bridge_public_ws_url ("https://h.example.com/p", "/call");
  fail_unless_equals_string (s, "wss://h.example.com/p/call");
  g_free (s);
  s = bridge_public_ws_url ("http://127.0.0.1:5", "/call");
  fail_unless_equals_string (s, "ws://127.0.0.1:5/call");
  g_free (s);
  s = bridge_public_http_url ("https://h", "/twiml", "a=1&b=2");
  fail_unless_equals_string (s, "https://h/twiml?a=1&b=2");
  g_free (s);
}

GST_END_TEST;

GST_START_TEST (test_pipeline_expansion)
{
  BridgeCliOptions cli;
  g_autoptr (GError) error = NULL;
  g_autoptr (BridgeConfig) c = NULL;
  g_autofree gchar *expanded = NULL;

  bridge_cli_options_init (&cli);
  cli.pipeline = g_strdup ("passthrough");
  cli.record_dir = g_strdup ("/tmp/rec dir");
  c = resolve (&cli, NULL, NULL, &error);
  bridge_cli_options_clear (&cli);
  fail_unless (c != NULL);
  fail_unless_equals_string (c->pipeline_name, "passthrough");
  expanded = bridge_config_expand_pipeline (c, "call-7");
  fail_unless (strstr (expanded,
          "location=\"/tmp/rec dir/call-7-caller.wav\"") != NULL, "%s",
      expanded);
  fail_unless (strstr (expanded, "call-7-assistant.wav") != NULL);
  fail_unless (strstr (expanded, "{") == NULL);
  g_clear_pointer (&c, bridge_config_free);

  /* A custom template must receive the call. */
  bridge_cli_options_init (&cli);
  cli.pipeline = g_strdup ("fakesrc ! fakesink");
  c = resolve (&cli, NULL, NULL, &error);
  bridge_cli_options_clear (&cli);
  fail_unless (c == NULL);
  fail_unless (strstr (error->message, "twiliosrc") != NULL);
}

GST_END_TEST;

/* ---- TwiML --------------------------------------------------------------- */

GST_START_TEST (test_twiml_escaping)
{
  const gchar *params[] = { "CallSid", "CA1", "From", "+1<555>&\"'",
    "To", "", NULL
  };
  g_autofree gchar *twiml =
      bridge_twiml_connect_stream ("wss://h/call?x=1&y=2", params);
  g_autofree gchar *say = bridge_twiml_say_hangup ("busy <now> & later");

  fail_unless_equals_string (twiml,
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Connect>"
      "<Stream url=\"wss://h/call?x=1&amp;y=2\">"
      "<Parameter name=\"CallSid\" value=\"CA1\"/>"
      "<Parameter name=\"From\" value=\"+1&lt;555&gt;&amp;&quot;&apos;\"/>"
      "</Stream></Connect></Response>");
  fail_unless_equals_string (say,
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>"
      "<Say>busy &lt;now&gt; &amp; later</Say><Hangup/></Response>");
}

GST_END_TEST;

/* ---- form bodies and signatures ----------------------------------------- */

static const gchar *
param_name (GArray * form, guint i)
{
  return g_array_index (form, TwilioParam, i).name;
}

static const gchar *
param_value (GArray * form, guint i)
{
  return g_array_index (form, TwilioParam, i).value;
}

GST_START_TEST (test_form_decode)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) form =
      bridge_form_decode ("To=%2B1666&A=x+y&&Flag&A=%C3%A9&Empty=", &error);
  g_autoptr (GArray) empty = bridge_form_decode ("", NULL);
  g_autoptr (GArray) none = bridge_form_decode (NULL, NULL);

  fail_unless (form != NULL, "%s", error ? error->message : "");
  /* Order kept, repeated names kept, '+' is a space, no '=' is "". */
  fail_unless_equals_int (form->len, 5);
  fail_unless_equals_string (param_name (form, 0), "To");
  fail_unless_equals_string (param_value (form, 0), "+1666");
  fail_unless_equals_string (param_value (form, 1), "x y");
  fail_unless_equals_string (param_name (form, 2), "Flag");
  fail_unless_equals_string (param_value (form, 2), "");
  fail_unless_equals_string (param_name (form, 3), "A");
  fail_unless_equals_string (param_value (form, 3), "\xc3\xa9");
  fail_unless_equals_string (param_value (form, 4), "");
  fail_unless_equals_string (bridge_form_lookup (form, "A"), "x y");
  fail_unless (bridge_form_lookup (form, "a") == NULL);
  fail_unless_equals_int (empty->len, 0);
  fail_unless_equals_int (none->len, 0);

  /* Malformed escapes, an escaped NUL and bytes that are not UTF-8. */
  fail_unless (bridge_form_decode ("A=%zz", &error) == NULL);
  g_clear_error (&error);
  fail_unless (bridge_form_decode ("A=%00", &error) == NULL);
  g_clear_error (&error);
  fail_unless (bridge_form_decode ("A=%ff%fe", &error) == NULL);
  fail_unless (error != NULL && strstr (error->message, "field 1") != NULL);
}

GST_END_TEST;

static gchar *
hmac_b64 (const gchar * key, const gchar * data)
{
  g_autoptr (GHmac) h = g_hmac_new (G_CHECKSUM_SHA1, (const guchar *) key,
      strlen (key));
  guint8 digest[20];
  gsize len = sizeof (digest);

  g_hmac_update (h, (const guchar *) data, strlen (data));
  g_hmac_get_digest (h, digest, &len);
  return g_base64_encode (digest, len);
}

/* Twilio's worked example (docs "Validating requests"), through the form
 * decoder as the webhook sees it. */
GST_START_TEST (test_signature_docs_vector)
{
  const gchar *url = "https://example.com/myapp.php?foo=1&bar=2";
  g_autoptr (GArray) form = bridge_form_decode ("CallSid=CA1234567890ABCDE&"
      "Caller=%2B14158675310&Digits=1234&From=%2B14158675310&"
      "To=%2B18005551212", NULL);
  g_autoptr (GArray) shuffled = bridge_form_decode ("To=%2B18005551212&"
      "Digits=1234&From=%2B14158675310&Caller=%2B14158675310&"
      "CallSid=CA1234567890ABCDE", NULL);
  g_autoptr (GArray) tampered = bridge_form_decode ("CallSid=CA1234567890ABCDE&"
      "Caller=%2B14158675310&Digits=1235&From=%2B14158675310&"
      "To=%2B18005551212", NULL);
  const gchar *sig = "L/OH5YylLD5NRKLltdqwSvS0BnU=";

  fail_unless (bridge_webhook_signature_valid ("12345", sig, url, form));
  fail_unless (bridge_webhook_signature_valid ("12345", sig, url, shuffled));
  /* Port variant: a signature without port validates with :443. */
  fail_unless (bridge_webhook_signature_valid ("12345", sig,
          "https://example.com:443/myapp.php?foo=1&bar=2", form));
  fail_unless (!bridge_webhook_signature_valid ("12345",
          "L/OH5YylLD5NRKLltdqwSvS0BnX=", url, form));
  fail_unless (!bridge_webhook_signature_valid ("54321", sig, url, form));
  fail_unless (!bridge_webhook_signature_valid ("12345", "", url, form));
  fail_unless (!bridge_webhook_signature_valid ("12345", NULL, url, form));
  fail_unless (!bridge_webhook_signature_valid (NULL, sig, url, form));
  fail_unless (!bridge_webhook_signature_valid ("12345", sig, NULL, form));
  /* The scheme is part of what is signed; so is every parameter. */
  fail_unless (!bridge_webhook_signature_valid ("12345", sig,
          "http://example.com/myapp.php?foo=1&bar=2", form));
  fail_unless (!bridge_webhook_signature_valid ("12345", sig, url, tampered));
  fail_unless (!bridge_webhook_signature_valid ("12345", sig, url, NULL));
}

GST_END_TEST;

/* A repeated name is signed the way Twilio's SDKs do it: every value, in
 * value order after the name order, an identical pair once. */
GST_START_TEST (test_signature_repeated_params)
{
  const gchar *url = "https://h.example.com/twiml";
  g_autofree gchar *sig = hmac_b64 ("tok", "https://h.example.com/twiml"
      "CallSidCA1StatusCallbackEventansweredStatusCallbackEventinitiated");
  g_autoptr (GArray) form = bridge_form_decode ("StatusCallbackEvent="
      "initiated&CallSid=CA1&StatusCallbackEvent=answered", NULL);
  g_autoptr (GArray) doubled = bridge_form_decode ("StatusCallbackEvent="
      "initiated&CallSid=CA1&StatusCallbackEvent=answered&"
      "StatusCallbackEvent=initiated", NULL);
  g_autoptr (GArray) last_only = bridge_form_decode ("CallSid=CA1&"
      "StatusCallbackEvent=answered", NULL);

  fail_unless (bridge_webhook_signature_valid ("tok", sig, url, form));
  fail_unless (bridge_webhook_signature_valid ("tok", sig, url, doubled));
  /* What a name -> value table keeps (the last value) is not what Twilio
   * signed. */
  fail_unless (!bridge_webhook_signature_valid ("tok", sig, url, last_only));
}

GST_END_TEST;

GST_START_TEST (test_signature_websocket_variants)
{
  /* Twilio signs the wss URL with no parameters; the docs suggest also
   * trying it with a trailing slash. */
  g_autofree gchar *plain = hmac_b64 ("tok", "wss://h.example.com/call");
  g_autofree gchar *slash = hmac_b64 ("tok", "wss://h.example.com/call/");
  g_autofree gchar *port = hmac_b64 ("tok", "wss://h.example.com:443/call");
  g_autofree gchar *ws_url = bridge_public_ws_url ("https://h.example.com",
      "/call");

  fail_unless_equals_string (ws_url, "wss://h.example.com/call");
  fail_unless (bridge_webhook_signature_valid ("tok", plain, ws_url, NULL));
  fail_unless (bridge_webhook_signature_valid ("tok", slash, ws_url, NULL));
  fail_unless (bridge_webhook_signature_valid ("tok", port, ws_url, NULL));
  fail_unless (!bridge_webhook_signature_valid ("tok", plain,
          "wss://h.example.com/other", NULL));
  fail_unless (!bridge_webhook_signature_valid ("tok", plain,
          "https://h.example.com/call", NULL));
}

GST_END_TEST;

GST_START_TEST (test_bearer)
{
  fail_unless (bridge_bearer_token_valid (NULL, NULL, NULL));
  fail_unless (bridge_bearer_token_valid ("s3cret", "Bearer s3cret", NULL));
  fail_unless (bridge_bearer_token_valid ("s3cret", "bearer  s3cret", NULL));
  fail_unless (bridge_bearer_token_valid ("s3cret", NULL, "s3cret"));
  fail_unless (!bridge_bearer_token_valid ("s3cret", "Bearer s3cre", NULL));
  fail_unless (!bridge_bearer_token_valid ("s3cret", "Bearer s3crett", NULL));
  fail_unless (!bridge_bearer_token_valid ("s3cret", "Basic s3cret", NULL));
  fail_unless (!bridge_bearer_token_valid ("s3cret", NULL, NULL));
  fail_unless (!bridge_bearer_token_valid ("s3cret", NULL, ""));
}

GST_END_TEST;

/* ---- metrics ------------------------------------------------------------- */

GST_START_TEST (test_metrics_render)
{
  g_autoptr (BridgeMetrics) m = bridge_metrics_new ();
  g_autofree gchar *text = NULL;

  bridge_metrics_webhook (m);
  bridge_metrics_call_started (m);
  bridge_metrics_call_started (m);
  bridge_metrics_call_ended (m, 42.0, TRUE);
  bridge_metrics_call_refused (m, "max-calls");
  bridge_metrics_turn_latency (m, 0.25);
  bridge_metrics_turn_latency (m, 4.0);
  bridge_metrics_model_error (m, "rate_limit \"x\"");
  bridge_metrics_tokens (m, 100, 50);
  fail_unless_equals_int (bridge_metrics_active_calls (m), 1);

  text = bridge_metrics_render (m, 12.5);
  fail_unless (strstr (text, "\nbridge_calls_started_total 2\n"));
  fail_unless (strstr (text, "\nbridge_calls_active 1\n"));
  fail_unless (strstr (text, "\nbridge_calls_failed_total 1\n"));
  fail_unless (strstr (text, "bridge_calls_refused_total{reason=\"max-calls\"} "
          "1\n"));
  fail_unless (strstr (text,
          "bridge_call_duration_seconds_bucket{le=\"30\"} 0\n"));
  fail_unless (strstr (text,
          "bridge_call_duration_seconds_bucket{le=\"60\"} 1\n"));
  fail_unless (strstr (text,
          "bridge_turn_latency_seconds_bucket{le=\"0.3\"} 1\n"));
  fail_unless (strstr (text,
          "bridge_turn_latency_seconds_bucket{le=\"5\"} 2\n"));
  fail_unless (strstr (text, "bridge_turn_latency_seconds_count 2\n"));
  fail_unless (strstr (text, "bridge_turn_latency_seconds_sum 4.25\n"));
  fail_unless (strstr (text,
          "bridge_model_errors_total{code=\"rate_limit \\\"x\\\"\"} 1\n"),
      "%s", text);
  fail_unless (strstr (text, "bridge_tokens_total{direction=\"input\"} 100\n"));
  fail_unless (strstr (text, "bridge_tokens_total{direction=\"output\"} 50\n"));
  fail_unless (strstr (text, "# TYPE bridge_call_duration_seconds histogram"));
}

GST_END_TEST;

/* ---- log events ---------------------------------------------------------- */

static gchar *
read_all (FILE * f)
{
  GString *s = g_string_new (NULL);
  gchar buf[512];
  size_t n;

  rewind (f);
  while ((n = fread (buf, 1, sizeof (buf), f)) > 0)
    g_string_append_len (s, buf, n);
  return g_string_free (s, FALSE);
}

static void
collect (const gchar * json, gpointer user_data)
{
  g_ptr_array_add (user_data, g_strdup (json));
}

GST_START_TEST (test_log_events)
{
  FILE *f = tmpfile ();
  BridgeLog *log = bridge_log_new (BRIDGE_LOG_JSON, FALSE, f);
  g_autoptr (GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  BridgeLogIds ids = { "call-1", "CA9", "MZ9" };
  GstStructure *s;
  JsonObject *fields;
  g_autofree gchar *out = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *obj;
  g_auto (GStrv) lines = NULL;
  const gchar *tracks[] = { "inbound", NULL };
  GstStructure *custom = gst_structure_new ("custom-parameters",
      "From", G_TYPE_STRING, "+1", NULL);

  bridge_log_add_secret (log, "sk-very-secret");
  bridge_log_set_subscriber (log, collect, seen);

  s = gst_structure_new ("twilio-start", "call-sid", G_TYPE_STRING, "CA9",
      "tracks", G_TYPE_STRV, tracks, "sample-rate", G_TYPE_INT, 8000,
      "custom-parameters", GST_TYPE_STRUCTURE, custom,
      "final", G_TYPE_BOOLEAN, TRUE, "latency-ms", G_TYPE_DOUBLE, 12.5,
      "position", G_TYPE_UINT64, (guint64) 5, "event", G_TYPE_STRING, "x",
      NULL);
  gst_structure_free (custom);
  fields = bridge_structure_to_json (s);
  gst_structure_free (s);
  bridge_log_emit (log, "info", &ids, "twilio-start", fields);
  bridge_log_emitv (log, "error", NULL, "oops", "message", G_TYPE_STRING,
      "key sk-very-secret leaked?", NULL);
  bridge_log_emitv (log, "debug", NULL, "hidden", "n", G_TYPE_INT, 1, NULL);

  out = read_all (f);
  fclose (f);
  bridge_log_free (log);

  lines = g_strsplit (g_strchomp (out), "\n", -1);
  fail_unless_equals_int (g_strv_length (lines), 2);
  fail_unless_equals_int (seen->len, 2);
  fail_unless_equals_string (lines[0], g_ptr_array_index (seen, 0));

  fail_unless (json_parser_load_from_data (parser, lines[0], -1, NULL));
  obj = json_node_get_object (json_parser_get_root (parser));
  fail_unless (g_str_has_prefix (lines[0], "{\"time\":"));
  fail_unless_equals_string (json_object_get_string_member (obj, "level"),
      "info");
  fail_unless_equals_string (json_object_get_string_member (obj, "callSid"),
      "CA9");
  fail_unless_equals_string (json_object_get_string_member (obj,
          "streamSid"), "MZ9");
  /* A message field cannot overwrite the fixed keys. */
  fail_unless_equals_string (json_object_get_string_member (obj, "event"),
      "twilio-start");
  fail_unless_equals_int (json_object_get_int_member (obj, "sample-rate"),
      8000);
  fail_unless (json_object_get_boolean_member (obj, "final"));
  fail_unless (json_object_get_double_member (obj, "latency-ms") == 12.5);
  fail_unless_equals_int (json_object_get_int_member (obj, "position"), 5);
  fail_unless_equals_string (json_array_get_string_element
      (json_object_get_array_member (obj, "tracks"), 0), "inbound");
  fail_unless_equals_string (json_object_get_string_member
      (json_object_get_object_member (obj, "custom-parameters"), "From"), "+1");

  fail_unless (strstr (lines[1], "sk-very-secret") == NULL);
  fail_unless (strstr (lines[1], "[redacted]") != NULL);
  fail_unless (strstr (g_ptr_array_index (seen, 1), "sk-very-secret") == NULL);
  fail_unless (strstr (lines[1], "\"callSid\":null") != NULL);
}

GST_END_TEST;

GST_START_TEST (test_log_text)
{
  FILE *f = tmpfile ();
  BridgeLog *log = bridge_log_new (BRIDGE_LOG_TEXT, TRUE, f);
  BridgeLogIds ids = { "call-2", "CA2", NULL };
  g_autofree gchar *out = NULL;

  bridge_log_emitv (log, "debug", &ids, "state-changed", "new-state",
      G_TYPE_STRING, "PLAYING", "turns", G_TYPE_INT, 3, NULL);
  out = read_all (f);
  fclose (f);
  bridge_log_free (log);
  fail_unless (strstr (out, " debug   [CA2] state-changed") != NULL, "%s", out);
  fail_unless (strstr (out, "new-state=\"PLAYING\" turns=3\n") != NULL, "%s",
      out);
}

GST_END_TEST;

static const gchar *
element_message_level (GstElement * src, GstStructure * s)
{
  GstMessage *msg = gst_message_new_element (GST_OBJECT (src), s);
  const gchar *level = bridge_message_log_level (msg);

  gst_message_unref (msg);
  return level;
}

/* The launcher's bus filter drops what this calls debug (without
 * --verbose): the per-mark twilio-mark, the per-word transcript deltas and
 * the elements' state changes, never a milestone or a message the call
 * acts on. */
GST_START_TEST (test_message_levels)
{
  GstElement *pipeline = gst_pipeline_new ("call-1");
  GstElement *child = gst_element_factory_make ("fakesink", "sink");
  GstMessage *msg;
  FILE *f = tmpfile ();
  BridgeLog *quiet = bridge_log_new (BRIDGE_LOG_JSON, FALSE, f);
  BridgeLog *verbose = bridge_log_new (BRIDGE_LOG_JSON, TRUE, f);

  gst_bin_add (GST_BIN (pipeline), child);

  fail_unless_equals_string (element_message_level (child,
          gst_structure_new ("twilio-mark", "name", G_TYPE_STRING, "m1",
              "played", G_TYPE_BOOLEAN, TRUE, NULL)), "debug");
  fail_unless_equals_string (element_message_level (child,
          gst_structure_new_empty ("twilio-start")), "info");
  fail_unless_equals_string (element_message_level (child,
          gst_structure_new ("realtime-transcript", "text", G_TYPE_STRING,
              " Hel", "final", G_TYPE_BOOLEAN, FALSE, NULL)), "debug");
  fail_unless_equals_string (element_message_level (child,
          gst_structure_new ("realtime-transcript", "text", G_TYPE_STRING,
              "Hello.", "final", G_TYPE_BOOLEAN, TRUE, NULL)), "info");
  fail_unless_equals_string (element_message_level (child,
          gst_structure_new_empty ("twilio-stop")), "info");
  fail_unless_equals_string (element_message_level (child,
          gst_structure_new_empty ("twilio-closed")), "info");
  fail_unless_equals_string (element_message_level (child,
          gst_structure_new_empty ("realtime-response-done")), "info");
  fail_unless_equals_string (element_message_level (child,
          gst_structure_new_empty ("realtime-reconnecting")), "warning");
  fail_unless_equals_string (element_message_level (child,
          gst_structure_new ("realtime-error", "fatal", G_TYPE_BOOLEAN, TRUE,
              NULL)), "error");
  fail_unless_equals_string (element_message_level (child,
          gst_structure_new ("realtime-error", "fatal", G_TYPE_BOOLEAN,
              FALSE, NULL)), "warning");
  fail_unless_equals_string (element_message_level (child,
          gst_structure_new_empty ("level")), "debug");

  msg = gst_message_new_state_changed (GST_OBJECT (pipeline),
      GST_STATE_READY, GST_STATE_PAUSED, GST_STATE_PLAYING);
  fail_unless_equals_string (bridge_message_log_level (msg), "info");
  gst_message_unref (msg);
  msg = gst_message_new_state_changed (GST_OBJECT (child),
      GST_STATE_READY, GST_STATE_PAUSED, GST_STATE_PLAYING);
  fail_unless_equals_string (bridge_message_log_level (msg), "debug");
  gst_message_unref (msg);
  msg = gst_message_new_eos (GST_OBJECT (pipeline));
  fail_unless_equals_string (bridge_message_log_level (msg), "info");
  gst_message_unref (msg);
  {
    GError *err = g_error_new_literal (GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_READ, "x");

    msg = gst_message_new_error (GST_OBJECT (child), err, NULL);
    fail_unless_equals_string (bridge_message_log_level (msg), "error");
    gst_message_unref (msg);
    g_error_free (err);
  }
  msg = gst_message_new_stream_status (GST_OBJECT (child),
      GST_STREAM_STATUS_TYPE_CREATE, child);
  fail_unless_equals_string (bridge_message_log_level (msg), "debug");
  gst_message_unref (msg);

  fail_unless (!bridge_log_enabled (quiet, "debug"));
  fail_unless (bridge_log_enabled (quiet, "info"));
  fail_unless (bridge_log_enabled (verbose, "debug"));

  bridge_log_free (quiet);
  bridge_log_free (verbose);
  fclose (f);
  gst_object_unref (pipeline);
}

GST_END_TEST;

static Suite *
bridge_unit_suite (void)
{
  Suite *s = suite_create ("bridge_unit");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_config_defaults);
  tcase_add_test (tc, test_config_precedence);
  tcase_add_test (tc, test_config_call_loops);
  tcase_add_test (tc, test_config_errors);
  tcase_add_test (tc, test_config_model_mode);
  tcase_add_test (tc, test_urls);
  tcase_add_test (tc, test_pipeline_expansion);
  tcase_add_test (tc, test_twiml_escaping);
  tcase_add_test (tc, test_form_decode);
  tcase_add_test (tc, test_signature_docs_vector);
  tcase_add_test (tc, test_signature_repeated_params);
  tcase_add_test (tc, test_signature_websocket_variants);
  tcase_add_test (tc, test_bearer);
  tcase_add_test (tc, test_metrics_render);
  tcase_add_test (tc, test_log_events);
  tcase_add_test (tc, test_log_text);
  tcase_add_test (tc, test_message_levels);
  return s;
}

GST_CHECK_MAIN (bridge_unit);
