// Writes the Portman configuration of the spec-driven contract and fuzz run
// (api/fuzz.sh) from the contract itself: every operation under each root gets
// its contract tests (status 2xx, content type, JSON body, schema), and one
// variation per bad input, each expecting 400 in the contract's error shape:
// Portman's own fuzzing (each required field, header and query parameter
// missing; strings shorter than minLength and longer than maxLength; numbers
// below minimum and above maximum) plus, written here, every field, header and
// query parameter given empty and given the wrong type.
//
// Usage: NODE_PATH=<the fuzz tools' node_modules> node fuzz-config.cjs SPEC > portman-config.json
// The run's values come from the environment: FUZZ_AGENCY_SID, FUZZ_AGENCY_TOKEN,
// FUZZ_BRAND_SID, FUZZ_BRAND_TOKEN, FUZZ_ADVERTISER_ID, FUZZ_BRAND_CONTACT (a user
// of the brand) and, per root (AGENCY,
// BRAND, PASS), FUZZ_<ROOT>_TARGET (a token the run may change) and
// FUZZ_<ROOT>_VICTIM (a token the run deletes).
"use strict";
const { readFileSync } = require("node:fs");
const { parse } = require("yaml");

const specPath = process.argv[2];
if (!specPath) {
  console.error("usage: node fuzz-config.cjs SPEC");
  process.exit(2);
}
const env = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`fuzz-config: ${name} is not set`);
    process.exit(2);
  }
  return v;
};

const spec = parse(readFileSync(specPath, "utf8"));
const resolve = (o) => {
  while (o && o.$ref) {
    o = o.$ref.split("/").slice(1).reduce((at, k) => at[k], spec);
  }
  return o;
};

// The three roots, told apart by their path's start.
const roots = [
  { name: "PASS", re: /^\/Agencies\/\{AccountSid\}\/Advertisers\/\{AdvertiserId\}\//, sid: "agencySid", user: "agencySid", pass: "agencyToken" },
  { name: "AGENCY", re: /^\/Agencies\/\{AccountSid\}\//, sid: "agencySid", user: "agencySid", pass: "agencyToken" },
  { name: "BRAND", re: /^\/Advertisers\/\{AccountSid\}\//, sid: "brandSid", user: "brandSid", pass: "brandToken" },
];

// badType answers a value of the wrong JSON type for schema s, or undefined when
// a query string or header cannot carry one (any text is a string).
function badType(s, where) {
  s = resolve(s) || {};
  const type = s.type || (s.enum ? "string" : undefined);
  if (where === "body") {
    switch (type) {
      case "string": return 12345;
      case "integer": case "number": return "not a number";
      case "array": return "not an array";
      case "object": return "not an object";
      case "boolean": return "not a boolean";
    }
    return undefined;
  }
  switch (type) {
    case "integer": case "number": return "not-a-number";
    case "boolean": return "not-a-boolean";
  }
  if (s.enum) return "NOT_ONE_OF_THEM";
  if (s.pattern) return "not matching";
  return undefined;
}

// empty answers the empty value of schema s when the contract refuses it.
function empty(s, where) {
  s = resolve(s) || {};
  if (where === "body" && s.type === "array" && s.minItems >= 1) return [];
  if (s.type === "array" || s.type === "object") return undefined;
  if (where !== "body" || s.minLength >= 1 || s.pattern || s.enum) return "";
  return undefined;
}

const overwrites = [];
const variationTests = [];
const fuzzAll = { enabled: true };
const fuzzing = ["requestBody", "requestQueryParams", "requestHeaders"].map((kind) => ({
  [kind]: [{ requiredFields: fuzzAll, minimumNumberFields: fuzzAll, maximumNumberFields: fuzzAll, minLengthFields: fuzzAll, maxLengthFields: fuzzAll }],
}));
const expect400 = { contractTests: [{ statusCode: { enabled: true, code: 400 } }, { contentType: { enabled: true } }, { jsonBody: { enabled: true } }, { schemaValidation: { enabled: true } }] };

for (const [path, item] of Object.entries(spec.paths)) {
  const root = roots.find((r) => r.re.test(path));
  for (const method of ["get", "post", "put", "patch", "delete"]) {
    const op = item[method];
    if (!op) continue;
    const id = op.operationId;
    const target = /\{Sid\}/.test(path) && method === "delete" && !/\/Scopes$/.test(path) ? "Victim" : "Target";
    const pathVars = [{ key: "AccountSid", value: `{{${root.sid}}}` }];
    if (/\{AdvertiserId\}/.test(path)) pathVars.push({ key: "AdvertiserId", value: "{{advertiserId}}" });
    if (/\{Sid\}/.test(path)) pathVars.push({ key: "Sid", value: `{{${root.name.toLowerCase()}${target}}}` });
    const base = {
      overwriteRequestPathVariables: pathVars,
      overwriteRequestSecurity: { basic: { username: `{{${root.user}}}`, password: `{{${root.pass}}}` } },
    };
    const params = [...(item.parameters || []), ...(op.parameters || [])].map(resolve);
    const headers = [];
    // A fresh Idempotency-Key each request: one reused with another body is 422.
    if (params.some((p) => p.name === "Idempotency-Key")) headers.push({ key: "Idempotency-Key", value: "{{$guid}}" });
    // The example ETag is not the token's: a valid request leaves If-Match out.
    if (params.some((p) => p.name === "If-Match")) headers.push({ key: "If-Match", remove: true });
    if (headers.length) base.overwriteRequestHeaders = headers;
    // The example's primary contact is a user of the demo agency: elsewhere, the root's own.
    const body0 = op.requestBody && resolve(op.requestBody.content["application/json"].schema);
    if (body0 && body0.properties && body0.properties.PrimaryContactId && root.name !== "AGENCY") {
      base.overwriteRequestBody = [{ key: "PrimaryContactId", value: env("FUZZ_BRAND_CONTACT"), overwrite: true }];
    }
    overwrites.push({ openApiOperationId: id, ...base });

    const variations = [{ name: "Fuzzed", overwrites: [base], fuzzing, tests: expect400 }];
    const add = (name, ow) => {
      const o = { ...base, ...ow };
      if (base.overwriteRequestBody && ow.overwriteRequestBody) {
        o.overwriteRequestBody = [...base.overwriteRequestBody.filter((b) => !ow.overwriteRequestBody.some((x) => x.key === b.key)), ...ow.overwriteRequestBody];
      }
      variations.push({ name, overwrites: [o], tests: expect400 });
    };
    for (const p of params) {
      if (p.in === "path") continue;
      if (p.name === "If-Match") continue; // any other ETag is 412, not 400
      const cases = [["empty", empty(p.schema, p.in)], ["wrong type", badType(p.schema, p.in)]];
      for (const [what, value] of cases) {
        if (value === undefined) continue;
        if (p.in === "query") add(`${p.name} ${what}`, { overwriteRequestQueryParams: [{ key: p.name, value, overwrite: true }] });
        if (p.in === "header" && p.name !== "IR-Version") {
          const hs = (base.overwriteRequestHeaders || []).filter((h) => h.key !== p.name);
          add(`${p.name} ${what}`, { overwriteRequestHeaders: [...hs, { key: p.name, value }] });
        }
      }
    }
    const body = op.requestBody && resolve(op.requestBody.content["application/json"].schema);
    for (const [field, s] of Object.entries((body && body.properties) || {})) {
      for (const [what, value] of [["empty", empty(s, "body")], ["wrong type", badType(s, "body")]]) {
        if (value === undefined) continue;
        add(`${field} ${what}`, { overwriteRequestBody: [{ key: field, value, overwrite: true }] });
      }
    }
    variationTests.push({ openApiOperationId: id, openApiResponse: "400", variations });
  }
}

const collectionVariables = {
  agencySid: env("FUZZ_AGENCY_SID"), agencyToken: env("FUZZ_AGENCY_TOKEN"),
  brandSid: env("FUZZ_BRAND_SID"), brandToken: env("FUZZ_BRAND_TOKEN"),
  advertiserId: env("FUZZ_ADVERTISER_ID"),
};
for (const r of roots) {
  for (const t of ["Target", "Victim"]) collectionVariables[r.name.toLowerCase() + t] = env(`FUZZ_${r.name}_${t.toUpperCase()}`);
}

const config = {
  version: 1.0,
  tests: {
    contractTests: [
      { openApiOperation: "*::/*", statusSuccess: { enabled: true } },
      { openApiOperation: "*::/*", contentType: { enabled: true } },
      { openApiOperation: "*::/*", jsonBody: { enabled: true } },
      { openApiOperation: "*::/*", schemaValidation: { enabled: true } },
      { openApiOperation: "*::/*", headersPresent: { enabled: true } },
    ],
    variationTests,
  },
  overwrites,
  // Deletes last, so every other operation finds its token.
  globals: { collectionVariables, orderOfOperations: [] },
};
const ids = Object.values(spec.paths).flatMap((item) => ["get", "post", "put", "patch", "delete"].filter((m) => item[m]).map((m) => item[m].operationId));
config.globals.orderOfOperations = [...ids.filter((id) => !/^delete|^bulkDelete/.test(id)), ...ids.filter((id) => /^delete|^bulkDelete/.test(id))]
  .map((id) => {
    for (const [path, item] of Object.entries(spec.paths)) {
      for (const m of ["get", "post", "put", "patch", "delete"]) if (item[m] && item[m].operationId === id) return `${m.toUpperCase()}::${path}`;
    }
  });
process.stdout.write(JSON.stringify(config, null, 2) + "\n");
