#!/usr/bin/env python3
# Validates the client events printed by dump-client-events against the GA
# Realtime schema, strictly: every object member must be declared by the
# schema branch that matches (the API rejects undeclared parameters).
#   check-schema.py SCHEMA.json DUMP-PROGRAM
import json
import subprocess
import sys

try:
    import jsonschema
except ImportError:
    print("python3-jsonschema not installed, skipping")
    sys.exit(77)

schema_path, dump = sys.argv[1], sys.argv[2]
try:
    open(schema_path).close()
except OSError:
    print("schema %s not available, skipping" % schema_path)
    sys.exit(77)
root = json.load(open(schema_path))
defs = root["$defs"]
client = root["x-events"]["ga"]["client"]


def resolve(schema):
    while isinstance(schema, dict) and "$ref" in schema:
        schema = defs[schema["$ref"].split("/")[-1]]
    return schema


def validates(instance, schema):
    full = dict(schema)
    full["$defs"] = defs
    return jsonschema.Draft202012Validator(full).is_valid(instance)


def undeclared(instance, schema, path):
    """Members of instance that no matching schema branch declares."""
    schema = resolve(schema)
    if not isinstance(schema, dict):
        return []
    if "anyOf" in schema:
        best = None
        for branch in schema["anyOf"]:
            if validates(instance, resolve(branch)):
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


out = subprocess.run([dump], check=True, capture_output=True, text=True).stdout
failures = 0
count = 0
for line in out.splitlines():
    event = json.loads(line)
    count += 1
    name = client.get(event["type"])
    if name is None:
        print("FAIL not a GA client event: %s" % line)
        failures += 1
        continue
    schema = defs[name]
    if not validates(event, schema):
        errors = jsonschema.Draft202012Validator(
            dict(schema, **{"$defs": defs})).iter_errors(event)
        print("FAIL %s: %s" % (line, [e.message for e in errors]))
        failures += 1
        continue
    problems = undeclared(event, schema, event["type"])
    if problems:
        print("FAIL %s: %s" % (line, problems))
        failures += 1
    else:
        print("ok   %s" % event["type"])
print("%d events, %d failures" % (count, failures))
sys.exit(1 if failures or count < 10 else 0)
