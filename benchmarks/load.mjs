#!/usr/bin/env node
// A bounded HTTP load from a second process, for the service's load test and benchmark.
//
//   node load.mjs URL BODIES.jsonl CLIENTS REQUESTS_PER_CLIENT [EXPECTED.jsonl]
//
// CLIENTS loops run at once, each sending REQUESTS_PER_CLIENT POSTs to URL, one after another
// (keep-alive), taking request bodies from BODIES round-robin. It stops by itself after
// CLIENTS × REQUESTS_PER_CLIENT requests and prints one JSON object: the count, the seconds,
// requests per second, p50/p99/max latency in ms, the statuses seen, and — when EXPECTED is
// given (one response body per line of BODIES) — how many responses differed from it byte for
// byte. A token comes from ERRORRULES_TOKEN. Node's own http module, nothing to install: its
// keep-alive agent sends a request's head and body in one write, where fetch's two writes meet
// the server's delayed ACK and add milliseconds that are the client's, not the service's.
import { readFile } from "node:fs/promises";
import http from "node:http";

const [url, bodiesFile, clientsArg, perClientArg, expectedFile] = process.argv.slice(2);
if (!url || !bodiesFile || !clientsArg || !perClientArg) {
  console.error("usage: node load.mjs URL BODIES.jsonl CLIENTS REQUESTS_PER_CLIENT [EXPECTED]");
  process.exit(2);
}
const clients = Number(clientsArg);
const perClient = Number(perClientArg);
const split = (text) => text.split("\n").filter((l) => l.trim() !== "");
const bodies = split(await readFile(bodiesFile, "utf8"));
const expected = expectedFile ? split(await readFile(expectedFile, "utf8")) : null;
const headers = { "content-type": "application/json" };
if (process.env.ERRORRULES_TOKEN) headers.authorization = `Bearer ${process.env.ERRORRULES_TOKEN}`;
const target = new URL(url);
const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
const payloads = bodies.map((b) => Buffer.from(b, "utf8"));

function post(body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: "POST",
        agent,
        headers: { ...headers, "content-length": body.length },
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const latencies = new Float64Array(clients * perClient);
const statuses = {};
let differed = 0;
let failed = 0;
let next = 0;

async function client(c) {
  for (let i = 0; i < perClient; i += 1) {
    const n = c * perClient + i;
    const which = n % bodies.length;
    const start = performance.now();
    try {
      const { status, text } = await post(payloads[which]);
      latencies[next++] = performance.now() - start;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (expected && text !== expected[which]) differed += 1;
    } catch (err) {
      failed += 1;
      latencies[next++] = performance.now() - start;
    }
  }
}

const t0 = performance.now();
await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
const seconds = (performance.now() - t0) / 1000;
agent.destroy();
const sorted = Array.from(latencies.subarray(0, next)).sort((a, b) => a - b);
const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
console.log(
  JSON.stringify({
    requests: next,
    clients,
    seconds: Number(seconds.toFixed(3)),
    rps: Number((next / seconds).toFixed(1)),
    p50_ms: Number(at(0.5).toFixed(3)),
    p99_ms: Number(at(0.99).toFixed(3)),
    max_ms: Number(sorted[sorted.length - 1].toFixed(3)),
    statuses,
    failed,
    differed: expected ? differed : null,
  }),
);
