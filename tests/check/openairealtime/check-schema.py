#!/usr/bin/env python3
# Validates the client events printed by dump-client-events against the GA
# Realtime schema, strictly: every object member must be declared by the
# schema branch that matches (the API rejects undeclared parameters).
# Standard library only: a small JSON Schema (2020-12) validator for the
# keywords the schema uses; an unknown assertion keyword is an error, never
# silently ignored. Known-bad events (beta shapes, missing fields, wrong
# types) must be rejected, so the checker itself is tested.
#   check-schema.py SCHEMA.json DUMP-PROGRAM
import json
import re
import subprocess
import sys

schema_path, dump = sys.argv[1], sys.argv[2]
root = json.load(open(schema_path))
defs = root["$defs"]
client = root["x-events"]["ga"]["client"]

# Keywords that do not assert anything.
ANNOTATIONS = {"description", "title", "examples", "default", "format",
               "$comment", "deprecated", "readOnly", "writeOnly", "$schema",
               "$id"}


class UnsupportedKeyword(Exception):
    pass


def resolve(schema):
    while isinstance(schema, dict) and "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/$defs/"):
            raise UnsupportedKeyword("$ref %s" % ref)
        schema = defs[ref[len("#/$defs/"):]]
    return schema


def type_ok(instance, name):
    if name == "null":
        return instance is None
    if name == "boolean":
        return isinstance(instance, bool)
    if name == "integer":
        return (isinstance(instance, int) and not isinstance(instance, bool)) \
            or (isinstance(instance, float) and instance.is_integer())
    if name == "number":
        return isinstance(instance, (int, float)) and \
            not isinstance(instance, bool)
    if name == "string":
        return isinstance(instance, str)
    if name == "array":
        return isinstance(instance, list)
    if name == "object":
        return isinstance(instance, dict)
    raise UnsupportedKeyword("type %s" % name)


def errors(instance, schema, path):
    """Why @instance does not validate against @schema ([] if it does)."""
    if schema is True:
        return []
    if schema is False:
        return ["%s: not allowed" % path]
    if "$ref" in schema:
        problems = errors(instance, resolve(schema), path)
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        return problems + (errors(instance, rest, path) if rest else [])
    problems = []
    for key, value in schema.items():
        if key in ANNOTATIONS or key.startswith("x-"):
            continue
        if key == "type":
            names = value if isinstance(value, list) else [value]
            if not any(type_ok(instance, n) for n in names):
                return ["%s: %r is not of type %s" % (path, instance, value)]
        elif key == "enum":
            if instance not in value:
                problems.append("%s: %r not in %s" % (path, instance, value))
        elif key == "const":
            if instance != value:
                problems.append("%s: %r is not %r" % (path, instance, value))
        elif key == "properties":
            if isinstance(instance, dict):
                for name, sub in value.items():
                    if name in instance:
                        problems += errors(instance[name], sub,
                                           "%s.%s" % (path, name))
        elif key == "required":
            if isinstance(instance, dict):
                for name in value:
                    if name not in instance:
                        problems.append("%s: missing %s" % (path, name))
        elif key == "additionalProperties":
            if isinstance(instance, dict):
                declared = schema.get("properties", {})
                for name, member in instance.items():
                    if name not in declared:
                        problems += errors(member, value,
                                           "%s.%s" % (path, name))
        elif key == "items":
            if isinstance(instance, list):
                for i, member in enumerate(instance):
                    problems += errors(member, value, "%s[%d]" % (path, i))
        elif key in ("minItems", "maxItems", "minLength", "maxLength"):
            if isinstance(instance, (list, str)):
                n = len(instance)
                if (key.startswith("min") and n < value) or \
                        (key.startswith("max") and n > value):
                    problems.append("%s: length %d violates %s %d"
                                    % (path, n, key, value))
        elif key in ("minimum", "maximum", "exclusiveMinimum",
                     "exclusiveMaximum"):
            if type_ok(instance, "number"):
                bad = {"minimum": instance < value,
                       "maximum": instance > value,
                       "exclusiveMinimum": instance <= value,
                       "exclusiveMaximum": instance >= value}[key]
                if bad:
                    problems.append("%s: %r violates %s %r"
                                    % (path, instance, key, value))
        elif key == "pattern":
            if isinstance(instance, str) and not re.search(value, instance):
                problems.append("%s: %r does not match %s"
                                % (path, instance, value))
        elif key == "anyOf":
            branch_errors = [errors(instance, b, path) for b in value]
            if all(branch_errors):
                problems.append("%s: matches no anyOf branch (%s)"
                                % (path, min(branch_errors, key=len)))
        elif key == "oneOf":
            matching = [b for b in value if not errors(instance, b, path)]
            if len(matching) != 1:
                problems.append("%s: matches %d oneOf branches"
                                % (path, len(matching)))
        elif key == "allOf":
            for branch in value:
                problems += errors(instance, branch, path)
        elif key == "not":
            if not errors(instance, value, path):
                problems.append("%s: matches a 'not' schema" % path)
        else:
            raise UnsupportedKeyword(key)
    return problems


def undeclared(instance, schema, path):
    """Members of instance that no matching schema branch declares."""
    schema = resolve(schema)
    if not isinstance(schema, dict):
        return []
    if "anyOf" in schema:
        best = None
        for branch in schema["anyOf"]:
            if not errors(instance, branch, path):
                problems = undeclared(instance, branch, path)
                if not problems:
                    return []
                best = problems if best is None else best
        return best if best is not None else ["%s: matches no branch" % path]
    problems = []
    if isinstance(instance, dict) and "properties" in schema:
        for key, value in instance.items():
            if key not in schema["properties"]:
                problems.append("%s.%s: not declared" % (path, key))
            else:
                problems += undeclared(value, schema["properties"][key],
                                       "%s.%s" % (path, key))
    elif isinstance(instance, list) and "items" in schema:
        for i, value in enumerate(instance):
            problems += undeclared(value, schema["items"], "%s[%d]" % (path, i))
    return problems


def check(event):
    """[] if @event is a valid GA client event with no undeclared member."""
    name = client.get(event.get("type"))
    if name is None:
        return ["not a GA client event"]
    schema = defs[name]
    return errors(event, schema, event["type"]) or \
        undeclared(event, schema, event["type"])


# Events the checker must reject: if it accepts one, it checks nothing.
KNOWN_BAD = [
    # beta shapes, shut down in 2026
    {"type": "session.update", "session": {"type": "realtime",
                                           "input_audio_format": "pcm16"}},
    {"type": "session.update", "session": {"modalities": ["audio"]}},
    {"type": "response.audio.delta", "delta": "AAAA"},
    # audio/pcm without its rate
    {"type": "session.update", "session": {"type": "realtime", "audio": {
        "input": {"format": {"type": "audio/pcm"}}}}},
    # an undeclared member
    {"type": "input_audio_buffer.append", "audio": "AAAA", "rate": 24000},
    # missing required members, wrong types
    {"type": "input_audio_buffer.append"},
    {"type": "conversation.item.truncate", "item_id": "item_1",
     "content_index": 0, "audio_end_ms": "1500"},
    {"type": "conversation.item.create",
     "item": {"type": "message", "role": "robot",
              "content": [{"type": "input_text", "text": "hi"}]}},
]

failures = 0
try:
    for bad in KNOWN_BAD:
        if not check(bad):
            print("FAIL the checker accepted a known-bad event: %s"
                  % json.dumps(bad))
            failures += 1

    out = subprocess.run([dump], check=True, capture_output=True,
                         text=True).stdout
    count = 0
    for line in out.splitlines():
        event = json.loads(line)
        count += 1
        problems = check(event)
        if problems:
            print("FAIL %s: %s" % (line, problems))
            failures += 1
        else:
            print("ok   %s" % event["type"])
except UnsupportedKeyword as e:
    print("FAIL the schema uses a keyword this checker does not implement: %s"
          % e)
    sys.exit(1)
print("%d events, %d known-bad events rejected, %d failures"
      % (count, len(KNOWN_BAD), failures))
sys.exit(1 if failures or count < 10 else 0)
