// bench/cedar/bench.mjs
// The Cedar side of bench/policy_vs_cedar.sh (issue 4): the policies and
// requests of bench/bench_policy.c, translated to Cedar and decided by
// @cedar-policy/cedar-wasm (version pinned in package.json).
//
// The generator replays bench_policy.c's xorshift64 stream call for call, so
// scope N here holds the same N policies (same actions, resources, effects and
// conditions) and the same 4096 requests as ward's scope N. Translation:
//   actor {id, meta}            principal User::"<id>" {tenant, role}
//   action "process.send"       action == Action::"process.send"
//   action "process.spawn*"     action in [the 3 process.spawn actions]
//   action "process.*", "*"     action (every action of the bench is process.*)
//   resource "{tK:processes|*"  resource in Processes::"tK"  (the request's
//                               Process entity has that parent)
//   resource "tK:workerW"       resource == Process::"tK:workerW"
//   resource "*"                resource
//   actor.meta.tenant eq        principal.tenant == "tK"
//   actor.meta.role in [a, o]   ["admin", "ops"].contains(principal.role)
//   topic matches ^orders[.]    context.topic like "orders.*"
//   meta.pid exists             context has pid
//   effect allow / deny         permit / forbid (Cedar: forbid overrides,
//                               default deny, as in ward)
//
// Modes: "cedar" = statefulIsAuthorized on a policy set parsed once with
// preparsePolicySet (the fastest Cedar offers); "cedar-parse" = isAuthorized,
// which takes the policy set in the call and parses it every time. Cedar has
// no decision cache, so there is no cached mode.
//
// Usage: node bench/cedar/bench.mjs [SIZE...]   (default 1 100 1000 10000)
// Output: the columns of bench_policy, one line per size and mode.

import {
  isAuthorized,
  preparsePolicySet,
  statefulIsAuthorized,
  getCedarVersion,
} from "@cedar-policy/cedar-wasm/nodejs";

const M64 = (1n << 64n) - 1n;
let g = 88172645463325252n;
function rnd(n) {
  g ^= (g << 13n) & M64;
  g ^= g >> 7n;
  g ^= (g << 17n) & M64;
  return Number(g % BigInt(n));
}

const ACTIONS = [
  "process.send",
  "process.spawn",
  "process.spawn.linked",
  "process.spawn.monitored",
  "process.link",
  "process.unlink",
  "process.monitor",
  "process.terminate",
  "process.cancel",
  "process.host",
  "process.registry.register",
  "process.exec",
];
const NACT = ACTIONS.length;
const NREQ = 4096;
const WARD_ITERS = 2000000; // bench_policy's uncached iterations

const ntenants = (n) => (Math.floor(n / 10) > 0 ? Math.floor(n / 10) : 1);
const q = (s) => JSON.stringify(s);
const act = (a) => `Action::${q(a)}`;

// One policy in Cedar text, drawing from the stream exactly as gen_policy.
function genPolicy(i, n) {
  const t = i % ntenants(n);
  let action, resource, wild = false;
  let r = rnd(100);
  if (r < 80) action = `action == ${act(ACTIONS[rnd(NACT)])}`;
  else if (r < 92)
    action = `action in [${ACTIONS.filter((a) => a.startsWith("process.spawn"))
      .map(act)
      .join(", ")}]`;
  else action = "action"; // "process.*" (r < 99) or "*": every action here
  r = rnd(100);
  if (r < 50) resource = `resource in Processes::${q(`tenant${t}`)}`;
  else if (r < 95)
    resource = `resource == Process::${q(`tenant${t}:worker${rnd(8)}`)}`;
  else {
    resource = "resource";
    wild = true;
  }
  const effect = rnd(5) === 0 ? "forbid" : "permit";
  let when = "";
  if (i % 2 === 1 || wild) {
    const c = [`principal.tenant == ${q(`tenant${t}`)}`];
    switch (rnd(3)) {
      case 0:
        c.push(`["admin", "ops"].contains(principal.role)`);
        break;
      case 1:
        c.push(`context.topic like "orders.*"`);
        break;
      default:
        c.push(`context has pid`);
        break;
    }
    when = ` when { ${c.join(" && ")} }`;
  }
  return `${effect}(principal, ${action}, ${resource})${when};`;
}

// One request, drawing from the stream exactly as gen_req.
function genReq(n) {
  const roles = ["admin", "ops", "user"];
  const topics = ["orders.new", "invoices", "ping"];
  const t = rnd(ntenants(n));
  const actor = `user${rnd(50)}@tenant${t}`;
  const tenant = `tenant${t}`;
  const hex = (v) => "0x" + v.toString(16).padStart(5, "0");
  const pid = `{tenant${t}:processes|${hex(rnd(64))}}`;
  let res, parents;
  if (rnd(2)) {
    res = `{tenant${t}:processes|${hex(rnd(4096))}}`;
    parents = [{ type: "Processes", id: tenant }];
  } else {
    res = `tenant${t}:worker${rnd(10)}`;
    parents = [];
  }
  const role = roles[rnd(3)];
  const topic = topics[rnd(3)];
  const action = ACTIONS[rnd(NACT)];
  const principal = { type: "User", id: actor };
  const resource = { type: "Process", id: res };
  const entities = [
    { uid: principal, attrs: { tenant, role }, parents: [] },
    { uid: resource, attrs: {}, parents },
  ];
  if (parents.length)
    entities.push({ uid: parents[0], attrs: {}, parents: [] });
  return {
    principal,
    action: { type: "Action", id: action },
    resource,
    context: { pid, host: "app:processes", topic },
    entities,
  };
}

function decide(ans) {
  if (ans.type !== "success") {
    console.error(JSON.stringify(ans.errors));
    process.exit(1);
  }
  if (ans.response.diagnostics.errors.length) {
    console.error(JSON.stringify(ans.response.diagnostics.errors));
    process.exit(1);
  }
  return ans.response.decision === "allow";
}

const now = () => Number(process.hrtime.bigint());

// Median of 5 runs of ns per call; each run about 'target' ms.
function measure(call, reqs, target) {
  let iters = 1, sink = 0;
  for (;;) {
    const t0 = now();
    for (let it = 0; it < iters; it++) sink += call(reqs[it % NREQ]) ? 1 : 0;
    const ms = (now() - t0) / 1e6;
    if (ms >= target / 4 || iters >= NREQ * 64) {
      iters = Math.max(1, Math.ceil((iters * target) / Math.max(ms, 0.001)));
      break;
    }
    iters *= 4;
  }
  const runs = [];
  for (let k = 0; k < 5; k++) {
    const t0 = now();
    for (let it = 0; it < iters; it++) sink += call(reqs[it % NREQ]) ? 1 : 0;
    runs.push((now() - t0) / iters);
  }
  runs.sort((a, b) => a - b);
  return { ns: runs[2], sink };
}

const sizes = process.argv.length > 2
  ? process.argv.slice(2).map(Number)
  : [1, 100, 1000, 10000];
const all = [1, 100, 1000, 10000];
const line = (n, mode, ns, allowed, mark = "") =>
  console.log(
    `${String(n).padEnd(9)} ${mode.padEnd(11)} ${ns.toFixed(1).padStart(12)} ` +
      `${(1e9 / ns).toFixed(0).padStart(12)} ${(mark + allowed.toFixed(1)).padStart(7)}%`,
  );

console.log(`# cedar ${getCedarVersion()} (@cedar-policy/cedar-wasm), node ${process.version}`);
console.log(
  `${"policies".padEnd(9)} ${"mode".padEnd(11)} ${"ns/decision".padStart(12)} ` +
    `${"decisions/s".padStart(12)} ${"allowed".padStart(8)}`,
);
// The stream runs through every size in order, as in bench_policy.
for (const n of all) {
  const staticPolicies = {};
  for (let i = 0; i < n; i++) staticPolicies[`bench:p${i}`] = genPolicy(i, n);
  const reqs = [];
  for (let i = 0; i < NREQ; i++) reqs.push(genReq(n));
  if (!sizes.includes(n)) continue;
  const id = `bench${n}`;
  const pp = preparsePolicySet(id, { staticPolicies });
  if (pp.type !== "success") {
    console.error(JSON.stringify(pp.errors));
    process.exit(1);
  }
  const stateful = reqs.map((r) => ({ ...r, preparsedPolicySetId: id }));
  const plain = reqs.map((r) => ({ ...r, policies: { staticPolicies } }));
  // Decisions (both APIs must agree) and the allowed share over the
  // iterations bench_policy's uncached mode runs (it % 4096, it < 2,000,000).
  // At 10,000 policies a Cedar call takes milliseconds, so only the first
  // 512 requests are decided there, and the share (marked ~) is over those.
  const K = n >= 10000 ? 512 : NREQ;
  let allowed = 0, total = 0;
  for (let j = 0; j < K; j++) {
    const d = decide(statefulIsAuthorized(stateful[j]));
    if (j < 8 && d !== decide(isAuthorized(plain[j]))) {
      console.error(`stateful and plain disagree on request ${j}`);
      process.exit(1);
    }
    const occ = Math.floor(WARD_ITERS / NREQ) + (j < WARD_ITERS % NREQ ? 1 : 0);
    total += occ;
    if (d) allowed += occ;
  }
  const share = (100 * allowed) / total;
  const mark = K < NREQ ? "~" : "";
  const a = measure((r) => decide(statefulIsAuthorized(r)), stateful, 300);
  line(n, "cedar", a.ns, share, mark);
  const b = measure((r) => decide(isAuthorized(r)), plain, 300);
  line(n, "cedar-parse", b.ns, share, mark);
}
