// check.mjs - the work of tests/openapi/check (read that file first).
//
//   node check.mjs --modules DIR --spec doc/openapi.yaml
//                  --routes src/app/routes.c [--recorded FILE.jsonl]
import { readFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { join, resolve as resolvePath } from "node:path";

const args = {};
for (let i = 2; i < process.argv.length; i += 2) {
	args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
}
args.modules = resolvePath(args.modules);
const require = createRequire(join(args.modules, "x.js"));
const YAML = require("yaml");
const Ajv2020 = require("ajv/dist/2020").default;
const addFormats = require("ajv-formats").default;
const { Validator } = await import(pathToFileURL(
	join(args.modules, "@seriousme/openapi-schema-validator/index.js")).href);

const problems = [];
const problem = (section, msg) => problems.push(`[${section}] ${msg}`);
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
// src/http/router.h's levels and the names the spec uses for them.
const LEVELS = {
	SEC_PUBLIC: "public", SEC_WEBHOOK: "webhook",
	SEC_AUTHENTICATED: "authenticated", SEC_AUTHORIZED: "authorized",
	SEC_RESTRICTED: "restricted", SEC_ADMINISTRATIVE: "administrative",
};

// ---- 1. the spec is an OpenAPI 3.1 document ------------------------------
const specText = readFileSync(args.spec, "utf8");
let spec;
try {
	spec = YAML.parse(specText, { uniqueKeys: true });
} catch (e) {
	console.error(`openapi check: ${args.spec}: ${e.message}`);
	process.exit(1);
}
{
	const res = await new Validator().validate(structuredClone(spec));
	if (!res.valid) {
		for (const e of [].concat(res.errors || []).slice(0, 30))
			problem("spec", `not valid OpenAPI ${spec.openapi}: ` +
			    `${e.instancePath || "/"} ${e.message}` +
			    (e.params ? " " + JSON.stringify(e.params) : ""));
	}
	if (!/^3\.1\./.test(String(spec.openapi)))
		problem("spec", `openapi is ${spec.openapi}, want 3.1.x`);
}

// ---- 2. the route table, parsed from the C text --------------------------
function parseRoutes(file) {
	let src = readFileSync(file, "utf8");
	// Comments out, strings kept (a route pattern has no "/*").
	src = src.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/\/\/[^\n]*/g, " ");
	const start = src.search(/gacp_routes\s*\[\s*\]\s*=\s*\{/);
	if (start < 0)
		throw new Error(`${file}: no "gacp_routes[] = {" table`);
	// The table's text: from its "{" to the matching "}".
	let i = src.indexOf("{", start), depth = 0, end = -1;
	for (let j = i; j < src.length; j++) {
		if (src[j] === '"') { j = src.indexOf('"', j + 1); continue; }
		if (src[j] === "{") depth++;
		if (src[j] === "}" && --depth === 0) { end = j; break; }
	}
	const body = src.slice(i + 1, end);
	// Each entry is one "{ ... }" at depth 1; its fields are split on the
	// commas outside string literals ("{id}" is inside one).
	const entries = [];
	let cur = null, field = "", leftover = "";
	for (let j = 0; j < body.length; j++) {
		const c = body[j];
		if (c === '"') {
			const close = body.indexOf('"', j + 1);
			if (cur) field += body.slice(j, close + 1);
			else leftover += body.slice(j, close + 1);
			j = close;
		} else if (c === "{" && !cur) {
			cur = [];
			field = "";
		} else if (c === "}" && cur) {
			cur.push(field.trim());
			entries.push(cur);
			cur = null;
		} else if (c === "," && cur) {
			cur.push(field.trim());
			field = "";
		} else if (cur) {
			field += c;
		} else if (!/[\s,]/.test(c)) {
			leftover += c;
		}
	}
	if (leftover !== "" || cur)
		throw new Error(`${file}: unexpected text in the route table: ${(leftover || field).slice(0, 80)}`);
	return entries.map((f) => {
		if (f.length === 7 && f[6] === "") f.pop();   /* a trailing comma */
		const str = (s) => (s === "NULL" ? null : /^"[^"]*"$/.test(s) ? s.slice(1, -1) : undefined);
		const r = {
			method: (f[0] || "").replace(/^HTTP_/, ""), pattern: str(f[1]),
			handler: f[2], security: f[3], permission: str(f[4]), name: str(f[5]),
			text: "{ " + f.join(", ").replace(/\s+/g, " ") + " }",
		};
		if (f.length !== 6 || !/^HTTP_[A-Z]+$/.test(f[0]) || r.pattern === undefined ||
		    !(f[3] in LEVELS) || r.permission === undefined || r.name === undefined)
			throw new Error(`${file}: cannot read route entry ${r.text}`);
		return r;
	});
}
let routes = [];
try {
	routes = parseRoutes(args.routes);
} catch (e) {
	problem("routes", e.message);
}

const ops = [];   // {method, path, op}
for (const [path, item] of Object.entries(spec.paths || {}))
	for (const m of METHODS)
		if (item && item[m]) ops.push({ method: m.toUpperCase(), path, op: item[m], item });
const key = (m, p) => `${m} ${p}`;
const opByKey = new Map(ops.map((o) => [key(o.method, o.path), o]));
const routeByKey = new Map();
for (const r of routes) {
	const k = key(r.method, r.pattern);
	if (routeByKey.has(k)) problem("routes", `${k} is in the route table twice`);
	routeByKey.set(k, r);
}
for (const r of routes) {
	const k = key(r.method, r.pattern);
	const o = opByKey.get(k);
	if (!o) {
		problem("routes", `${k} (${r.name}) is in src/app/routes.c but not in the spec`);
		continue;
	}
	const want = LEVELS[r.security], got = o.op["x-gacp-security"];
	if (got !== want)
		problem("routes", `${k}: x-gacp-security is ${JSON.stringify(got)}, the route table says ${want} (${r.security})`);
	const gotPerm = o.op["x-gacp-permission"] === undefined ? undefined : o.op["x-gacp-permission"];
	if (gotPerm !== r.permission)
		problem("routes", `${k}: x-gacp-permission is ${JSON.stringify(gotPerm)}, the route table says ${JSON.stringify(r.permission)}`);
	if (o.op.operationId !== r.name)
		problem("routes", `${k}: operationId is ${JSON.stringify(o.op.operationId)}, the route's metrics name is ${JSON.stringify(r.name)}`);
}
for (const o of ops)
	if (!routeByKey.has(key(o.method, o.path)))
		problem("routes", `${key(o.method, o.path)} is in the spec but not in src/app/routes.c`);

// ---- 2b. each operation's own consistency ----------------------------------
const resolve = (obj) => {
	let seen = 0;
	while (obj && obj.$ref && seen++ < 10) {
		const parts = obj.$ref.replace(/^#\//, "").split("/")
			.map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
		obj = parts.reduce((o, p) => (o ? o[p] : undefined), spec);
	}
	return obj;
};
for (const { method, path, op, item } of ops) {
	const k = key(method, path);
	const level = op["x-gacp-security"];
	const params = [...(item.parameters || []), ...(op.parameters || [])].map(resolve);
	for (const name of [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]))
		if (!params.some((p) => p && p.in === "path" && p.name === name))
			problem("spec", `${k}: path parameter {${name}} is not described`);
	const sec = op.security ?? spec.security ?? [];
	const schemes = sec.flatMap((req) => Object.keys(req));
	const codes = Object.keys(op.responses || {});
	if (level === "public" || level === "webhook") {
		if (schemes.length)
			problem("spec", `${k}: ${level} but security names ${schemes.join(", ")}`);
	} else {
		if (!schemes.length)
			problem("spec", `${k}: ${level} but security is empty`);
		for (const c of ["401", "403", "429"])
			if (!codes.includes(c))
				problem("spec", `${k}: ${level} needs a credential but ${c} is not documented`);
		const keyOk = level === "authenticated" || level === "authorized";
		const hasKey = schemes.some((s) => s !== "bearerAuth");
		if (keyOk !== hasKey)
			problem("spec", `${k}: ${level} ${keyOk ? "accepts" : "refuses"} API keys but security ${hasKey ? "lists" : "does not list"} them`);
	}
	if (level === "authorized" && !op["x-gacp-permission"])
		problem("spec", `${k}: authorized without x-gacp-permission`);
	if (level === "webhook" && method === "POST" &&
	    !params.some((p) => p && p.in === "header" && /^x-hub-signature-256$/i.test(p.name)))
		problem("spec", `${k}: webhook POST without the X-Hub-Signature-256 header`);
}

// ---- 3. recorded responses -------------------------------------------------
let nrecorded = 0, nvalidated = 0;
const covered = new Set();
if (args.recorded) {
	if (!existsSync(args.recorded)) {
		problem("responses", `${args.recorded}: no recorded responses (did the integration tests run with GACP_ITEST_RECORD?)`);
	} else {
		const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
		addFormats(ajv);
		// The whole document as one schema resource, so that operation
		// schemas and their "#/components/..." references resolve.
		ajv.addSchema(spec, "openapi.json");
		const compiled = new Map();
		const validatorFor = (pointer) => {
			if (!compiled.has(pointer))
				compiled.set(pointer, ajv.compile({ $ref: "openapi.json#" + pointer }));
			return compiled.get(pointer);
		};
		const ptr = (...parts) => "/" + parts.map((p) => String(p)
			.replace(/~/g, "~0").replace(/\//g, "~1")).join("/");
		const errorPtr = "/components/schemas/Error";

		// Like src/http/router.c: exact segments, "{x}" matches one
		// non-empty segment, literal routes preferred.
		const templates = Object.keys(spec.paths || {}).map((p) => ({
			path: p, segs: p.split("/"),
			literal: p.split("/").filter((s) => !/^\{.*\}$/.test(s)).length,
		})).sort((a, b) => b.literal - a.literal);
		const matchPath = (concrete) => {
			const segs = concrete.split("/");
			return templates.filter((t) => t.segs.length === segs.length &&
			    t.segs.every((s, i) => /^\{.*\}$/.test(s) ? segs[i] !== "" : s === segs[i]));
		};
		// One line per distinct problem, with a count and one example.
		const seen = new Map();
		let example = "";
		const report = (msg) => {
			const s = seen.get(msg) || { n: 0, example };
			s.n++;
			seen.set(msg, s);
		};

		const lines = readFileSync(args.recorded, "utf8").split("\n").filter((l) => l.trim());
		for (const [n, line] of lines.entries()) {
			let rec;
			try {
				rec = JSON.parse(line);
			} catch {
				report(`line ${n + 1}: not JSON`);
				continue;
			}
			nrecorded++;
			const rawPath = rec.path.split("?")[0];
			let path;
			try {
				path = decodeURI(rawPath);
			} catch {
				path = rawPath;
			}
			const method = rec.method === "HEAD" ? "GET" : rec.method;
			const status = String(rec.status);
			const mediaType = (rec.content_type || "").split(";")[0].trim().toLowerCase();
			const candidates = matchPath(path);
			const tmpl = candidates.find((t) => spec.paths[t.path][method.toLowerCase()]);
			example = `${rec.method} ${rec.path.length > 90 ? rec.path.slice(0, 90) + "…" : rec.path} → ${status}`;
			const where = tmpl ? `${method} ${tmpl.path} → ${status}` : example;
			let pointer;
			if (!tmpl) {
				// Not an operation: only the router's and the request
				// parser's answers are possible, in the error envelope.
				const routerStatus = candidates.length ? ["405", "400", "413", "414"] : ["404", "400", "413", "414"];
				if (!routerStatus.includes(status)) {
					report(`${where}: no operation ${method} for this path in the spec`);
					continue;
				}
				if (rec.method === "HEAD") { nvalidated++; continue; }
				pointer = errorPtr;
			} else {
				const op = spec.paths[tmpl.path][method.toLowerCase()];
				const opKey = `${method} ${tmpl.path}`;
				covered.add(`${opKey} ${status}`);
				let resp = op.responses[status] ? resolve(op.responses[status]) : undefined;
				if (!resp && op.responses[status[0] + "XX"])
					resp = resolve(op.responses[status[0] + "XX"]);
				if (!resp && op.responses.default)
					resp = resolve(op.responses.default);
				if (!resp) {
					report(`${opKey}: status ${status} is not documented`);
					continue;
				}
				if (!resp.content || rec.method === "HEAD" || status === "204" || status === "304") {
					if (resp.content && status !== "204" && rec.method !== "HEAD")
						report(`${opKey} ${status}: the spec documents a body, none came`);
					else if (!resp.content && rec.body !== "")
						report(`${opKey} ${status}: a body came, the spec documents none`);
					nvalidated++;
					continue;
				}
				const mt = Object.keys(resp.content).find((m) => m.toLowerCase() === mediaType);
				if (!mt) {
					report(`${opKey} ${status}: Content-Type ${rec.content_type} is not one of ${Object.keys(resp.content).join(", ")}`);
					continue;
				}
				const respPtr = op.responses[status] ? ptr("paths", tmpl.path, method.toLowerCase(), "responses", status)
					: null;
				if (op.responses[status] && op.responses[status].$ref) {
					pointer = op.responses[status].$ref.replace(/^#/, "") + ptr("content", mt, "schema");
				} else if (respPtr) {
					pointer = respPtr + ptr("content", mt, "schema");
				} else {
					report(`${opKey} ${status}: only a range or default response; document the status`);
					continue;
				}
				if (!resp.content[mt].schema) { nvalidated++; continue; }
			}
			let body = rec.body;
			if (/json/.test(mediaType) || pointer === errorPtr) {
				try {
					body = JSON.parse(rec.body);
				} catch {
					report(`${where}: the body is not JSON (${JSON.stringify(rec.body.slice(0, 60))})`);
					continue;
				}
			}
			const validate = validatorFor(pointer);
			if (!validate(body)) {
				const errs = validate.errors.slice(0, 4).map((e) =>
					`${e.instancePath || "/"} ${e.message}` +
					(e.params && e.params.additionalProperty ? ` (${e.params.additionalProperty})` : "") +
					(e.params && e.params.allowedValues ? ` ${JSON.stringify(e.params.allowedValues)}` : ""));
				report(`${where}: body does not match ${pointer}: ${errs.join("; ")}`);
				continue;
			}
			nvalidated++;
		}
		for (const [msg, { n, example: ex }] of seen)
			problem("responses", `${msg} (×${n}; e.g. ${ex})`);
	}
}

// ---- report ------------------------------------------------------------------
const untested = ops.filter((o) => ![...covered].some((c) => c.startsWith(key(o.method, o.path) + " ")));
console.log(`openapi check: ${routes.length} routes, ${ops.length} operations in ${args.spec.replace(args.root + "/", "")}`);
if (args.recorded && nrecorded > 0)
	console.log(`openapi check: ${nvalidated} of ${nrecorded} recorded responses valid; ` +
	    `${ops.length - untested.length} of ${ops.length} operations seen in the recording` +
	    (untested.length ? ` (not seen: ${untested.map((o) => o.op.operationId || key(o.method, o.path)).join(", ")})` : ""));
if (problems.length) {
	console.log(`openapi check: ${problems.length} mismatch(es):`);
	for (const p of problems) console.log("  " + p);
	process.exit(1);
}
console.log("openapi check: OK");
