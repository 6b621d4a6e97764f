// Reads a Prism proxy log and the contract it checked against, and reports the
// run: requests, violations, and the contract's operations no request touched.
// Exits 1 when there is any violation, untouched operation or request outside
// the contract.
//
// Usage: NODE_PATH=<the tools' node_modules> node report.cjs api/openapi.yaml prism.log
"use strict";
const { readFileSync } = require("node:fs");
const { parse } = require("yaml");

const [specPath, logPath] = process.argv.slice(2);
if (!specPath || !logPath) {
  console.error("usage: node report.cjs SPEC PRISM_LOG");
  process.exit(2);
}

// YAML 1.2, as every JavaScript tool reads it: a merge key would be a plain key here.
const spec = parse(readFileSync(specPath, "utf8"), { maxAliasCount: -1 });
const methods = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];
const ops = [];
for (const [path, item] of Object.entries(spec.paths ?? {})) {
  const literal = path.replace(/\{[^}]+\}/g, "").length;
  const re = new RegExp("^" + path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+") + "$");
  for (const m of methods) {
    if (item[m]) ops.push({ method: m, path, re, literal, hits: 0, id: item[m].operationId });
  }
}
// The most literal template wins: ApiTokens/Current before ApiTokens/{Sid}.
ops.sort((a, b) => b.literal - a.literal);

// Prism's log lines, colours stripped:
//   [HTTP SERVER] get /Agencies/IR…/ApiTokens ℹ  info      Request received
//   [VALIDATOR] ✖  error     Violation: response.body …
const lines = readFileSync(logPath, "utf8").replace(/\x1b\[[0-9;]*m/g, "").split("\n");
let requests = 0;
const outside = [];
const violations = [];
let current = "";
for (const line of lines) {
  const req = line.match(/\[HTTP SERVER\] (\w+) (\S+) .*Request received/);
  if (req) {
    requests++;
    const [, method, url] = req;
    const path = url.split("?")[0];
    current = `${method.toUpperCase()} ${path}`;
    const op = ops.find((o) => o.method === method.toLowerCase() && o.re.test(path));
    if (op) op.hits++;
    else outside.push(current);
    continue;
  }
  const v = line.match(/Violation: (.*)$/);
  if (v) violations.push(`${current}: ${v[1]}`);
}

for (const v of violations) console.log(`violation: ${v}`);
for (const o of outside) console.log(`outside the contract: ${o}`);
const untouched = ops.filter((o) => o.hits === 0);
for (const o of untouched) console.log(`untouched: ${o.method.toUpperCase()} ${o.path} (${o.id})`);
console.log(
  `prism: ${requests} requests, ${violations.length} violations; ` +
    `${ops.length - untouched.length} of ${ops.length} operations touched`,
);
process.exit(violations.length || untouched.length || outside.length ? 1 : 0);
