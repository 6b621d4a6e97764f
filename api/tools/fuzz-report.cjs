// Runs the collection Portman wrote for the contract and fuzz run (api/fuzz.sh)
// with Newman, and sums it up: how many requests ran, how many failed a check,
// and each failure (the request's name, the status it got, the checks that
// failed). Exits 1 when any request failed.
//
// Usage: NODE_PATH=<the fuzz tools' node_modules> node fuzz-report.cjs collection.json
"use strict";
const newman = require("newman");

const path = process.argv[2];
if (!path) {
  console.error("usage: node fuzz-report.cjs COLLECTION");
  process.exit(2);
}
newman.run({ collection: require(require("node:path").resolve(path)), reporters: [] }, (err, summary) => {
  if (err) {
    console.error(`fuzz: newman: ${err.message}`);
    process.exit(1);
  }
  let failed = 0;
  for (const exec of summary.run.executions) {
    const checks = (exec.assertions || []).filter((a) => a.error).map((a) => a.assertion);
    if (exec.requestError) checks.push(String(exec.requestError.message || exec.requestError));
    if (checks.length === 0) continue;
    failed++;
    const code = exec.response ? exec.response.code : "no answer";
    console.log(`FAIL ${exec.item.name} (${exec.request.method} ${exec.request.url.getPathWithQuery()}) → ${code}: ${checks.join("; ")}`);
  }
  const s = summary.run.stats;
  console.log(`fuzz: ${s.requests.total} requests, ${failed} failed; ${s.assertions.total} checks, ${s.assertions.failed} failed`);
  process.exit(failed > 0 || s.requests.failed > 0 ? 1 : 0);
});
