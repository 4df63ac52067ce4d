#!/usr/bin/env node
// Decide incidents over errorrules' HTTP service from JavaScript, with nothing but Node's
// built-in fetch (Node 18+): no package to install.
//
//   node decide.mjs http://127.0.0.1:8080 party-office incidents.jsonl > decisions.jsonl
//
// Each line of the incidents file (JSON Lines) is POSTed to /v1/rulesets/<id>/decide; each
// decision is written as the service sent it — the exact bytes, one per line — so the output
// is byte-identical to `errorrules decide` and to Decision.to_json() in Python. A rejected
// incident is reported on stderr with the problems the service names, and the exit code is 1.
// A token, when the service wants one, comes from ERRORRULES_TOKEN.
import { readFile } from "node:fs/promises";

const [base, ruleset, file] = process.argv.slice(2);
if (!base || !ruleset || !file) {
  console.error("usage: node decide.mjs BASE_URL RULESET_ID INCIDENTS.jsonl");
  process.exit(2);
}
const headers = { "content-type": "application/json" };
if (process.env.ERRORRULES_TOKEN) {
  headers.authorization = `Bearer ${process.env.ERRORRULES_TOKEN}`;
}
const url = `${base.replace(/\/$/, "")}/v1/rulesets/${encodeURIComponent(ruleset)}/decide`;
const lines = (await readFile(file, "utf8")).split("\n").filter((l) => l.trim() !== "");
let rejected = 0;
for (const [n, line] of lines.entries()) {
  // The incident goes inside the request object as it was written: parsing and
  // re-serialising it here could only lose what the service should see (big numbers).
  const response = await fetch(url, {
    method: "POST",
    headers,
    body: `{"incident":${line}}`,
  });
  const text = await response.text();
  if (response.ok) {
    process.stdout.write(text + "\n");
    continue;
  }
  rejected += 1;
  let problem;
  try {
    problem = JSON.parse(text);
  } catch {
    problem = { title: text };
  }
  const where = `${file}:${n + 1}`;
  const found = problem.problems ?? [];
  if (found.length === 0) console.error(`${where}: ${response.status} ${problem.title ?? ""}`);
  for (const p of found) console.error(`${where}: ${p.code}: ${p.message}`);
}
process.exit(rejected ? 1 : 0);
