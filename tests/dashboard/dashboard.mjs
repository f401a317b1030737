// dashboard.mjs - drives /admin/ in headless Chromium through chromedriver
// (W3C WebDriver over HTTP, no npm module) and compares what the page shows
// with what the API answers.  Started by tests/dashboard/run, which seeds the
// data and passes it in the environment:
//   GACP_URL, DEMO_TENANT_SLUG, DEMO_ADMIN_USER, DEMO_ADMIN_PASSWORD  the stack, the demo admin
//   GACP_SEED_PSIDS, GACP_SEED_INTENTS                what run seeded (space-separated)
//   GACP_CHROMIUM, GACP_CHROMEDRIVER, GACP_DASH_WORK  browser, driver, scratch dir
//   GACP_DASH_SCREENSHOTS (optional)                  a directory for PNGs of the page
// Prints "ok N - what" or "FAIL N - what: why" per check; exit status 1 on
// any failure.

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';

const env = process.env;
const BASE = env.GACP_URL;
const ADMIN = env.DEMO_ADMIN_URL || BASE + '/admin/';
const TENANT = env.DEMO_TENANT_SLUG || 'demo';
const USER = env.DEMO_ADMIN_USER;
const PASSWORD = env.DEMO_ADMIN_PASSWORD;
const SEED_PSIDS = (env.GACP_SEED_PSIDS || '').split(' ').filter(Boolean);
const SEED_INTENTS = [...new Set((env.GACP_SEED_INTENTS || '').split(' ').filter(Boolean))];
const ELEMENT = 'element-6066-11e4-a07c-4f48db1fe2';
const KEY = { TAB: '\uE004', ENTER: '\uE007' };

let passed = 0;
let failed = 0;
let n = 0;

function report(ok, what, why) {
	n++;
	if (ok) {
		passed++;
		console.log(`ok ${n} - ${what}`);
	} else {
		failed++;
		console.log(`FAIL ${n} - ${what}: ${why}`);
	}
}

// check(what, fn): fn throws (or returns a string) to fail.
async function check(what, fn) {
	try {
		const r = await fn();
		if (typeof r === 'string') report(false, what, r);
		else report(true, what);
	} catch (err) {
		report(false, what, err && err.message ? err.message : String(err));
	}
}

function expect(cond, why) {
	if (!cond) throw new Error(why);
}

// --- the API, directly (what the page must agree with) ---------------------

async function apiCall(method, path, token, body) {
	const headers = { Accept: 'application/json' };
	if (token) headers.Authorization = 'Bearer ' + token;
	if (body !== undefined) headers['Content-Type'] = 'application/json';
	const res = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
	const text = await res.text();
	let json = null;
	try { json = JSON.parse(text); } catch { /* not JSON */ }
	return { status: res.status, headers: res.headers, json, text };
}

async function apiLogin() {
	const r = await apiCall('POST', '/v1/auth/login', null, { tenant: TENANT, username: USER, password: PASSWORD });
	if (r.status !== 200) throw new Error(`API login answered ${r.status}: ${r.text}`);
	return r.json.access_token;
}

// --- a minimal WebDriver client ---------------------------------------------

function freePort() {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.on('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const { port } = srv.address();
			srv.close(() => resolve(port));
		});
	});
}

class Driver {
	constructor(port) {
		this.base = `http://127.0.0.1:${port}`;
		this.session = null;
	}

	async cmd(method, path, body) {
		const url = this.base + (this.session ? `/session/${this.session}` : '') + path;
		const res = await fetch(url, {
			method,
			headers: { 'Content-Type': 'application/json; charset=utf-8' },
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		const json = await res.json();
		if (!res.ok || (json.value && json.value.error)) {
			const v = json.value || {};
			throw new Error(`WebDriver ${method} ${path}: ${v.error || res.status}: ${(v.message || '').split('\n')[0]}`);
		}
		return json.value;
	}

	async start(chromium, userDataDir) {
		const args = ['--headless=new', '--disable-gpu', '--disable-dev-shm-usage',
			'--no-first-run', '--no-default-browser-check', '--disable-extensions',
			'--window-size=1280,900', `--user-data-dir=${userDataDir}`];
		if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
		const v = await this.cmd('POST', '/session', {
			capabilities: {
				alwaysMatch: {
					browserName: 'chrome',
					'goog:chromeOptions': { binary: chromium, args },
					'goog:loggingPrefs': { browser: 'ALL' },
				},
			},
		});
		this.session = v.sessionId;
	}

	async quit() {
		if (this.session) {
			try { await this.cmd('DELETE', ''); } catch { /* already gone */ }
			this.session = null;
		}
	}

	go(url) { return this.cmd('POST', '/url', { url }); }
	exec(script, ...args) { return this.cmd('POST', '/execute/sync', { script, args }); }
	async find(css) {
		const v = await this.cmd('POST', '/element', { using: 'css selector', value: css });
		return v[ELEMENT] || Object.values(v)[0];
	}
	click(id) { return this.cmd('POST', `/element/${id}/click`, {}); }
	type(id, text) { return this.cmd('POST', `/element/${id}/value`, { text }); }
	async clickCss(css) { return this.click(await this.find(css)); }

	// Key presses to whatever has focus, as a keyboard user types.
	keys(text) {
		const actions = [];
		for (const ch of text) actions.push({ type: 'keyDown', value: ch }, { type: 'keyUp', value: ch });
		return this.cmd('POST', '/actions', { actions: [{ type: 'key', id: 'keyboard', actions }] });
	}

	// A PNG of the whole page into $GACP_DASH_SCREENSHOTS/NAME.png, when set.
	async screenshot(name) {
		const dir = env.GACP_DASH_SCREENSHOTS;
		if (!dir) return;
		const shot = await this.cdp('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true });
		writeFileSync(`${dir}/${name}.png`, Buffer.from(shot.data, 'base64'));
	}

	cdp(cmd, params) { return this.cmd('POST', '/goog/cdp/execute', { cmd, params }); }

	async browserLog() {
		try {
			return await this.cmd('POST', '/se/log', { type: 'browser' });
		} catch {
			return [];
		}
	}

	// Poll a script until it returns something truthy; its last value otherwise.
	async waitFor(script, what, timeoutMs = 10000, ...args) {
		const end = Date.now() + timeoutMs;
		let last;
		for (;;) {
			last = await this.exec(script, ...args);
			if (last) return last;
			if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
			await sleep(100);
		}
	}
}

const visible = (id) => `const e = document.getElementById(${JSON.stringify(id)});
	return !!e && !e.hidden && e.getClientRects().length > 0;`;

// --- the checks --------------------------------------------------------------

async function main() {
	for (const [k, v] of Object.entries({ GACP_URL: BASE, DEMO_ADMIN_USER: USER, DEMO_ADMIN_PASSWORD: PASSWORD })) {
		if (!v) throw new Error(`${k} is not set`);
	}
	const port = await freePort();
	const driverProc = spawn(env.GACP_CHROMEDRIVER || '/usr/bin/chromedriver',
		[`--port=${port}`, '--allowed-ips=127.0.0.1'], { stdio: ['ignore', 'ignore', 'inherit'] });
	const d = new Driver(port);
	try {
		for (let i = 0; ; i++) {
			try { await d.cmd('GET', '/status'); break; } catch (err) {
				if (i > 100) throw new Error('chromedriver did not start: ' + err.message);
				await sleep(100);
			}
		}
		await d.start(env.GACP_CHROMIUM || '/usr/bin/chromium', `${env.GACP_DASH_WORK || '/tmp'}/profile`);
		await run(d);
	} finally {
		await d.quit();
		driverProc.kill('SIGTERM');
	}
}

async function run(d) {
	const token = await apiLogin();

	await check('GET /admin/ is served by nginx with a strict Content-Security-Policy', async () => {
		const r = await fetch(ADMIN);
		expect(r.status === 200, `status ${r.status}`);
		const csp = r.headers.get('content-security-policy') || '';
		expect(/script-src 'self'/.test(csp) && !/unsafe-inline|unsafe-eval/.test(csp), `CSP is "${csp}"`);
		expect(/default-src 'self'/.test(csp) && /frame-ancestors 'none'/.test(csp), `CSP is "${csp}"`);
		const html = await r.text();
		expect(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), 'an inline <script> in index.html');
		expect(!/\sstyle=|\son[a-z]+=/i.test(html), 'an inline style= or on*= handler in index.html');
		expect(!/https?:\/\//i.test(html.replace(/<!--[\s\S]*?-->/g, '')), 'index.html refers to another origin');
	});

	await d.go(ADMIN);
	await check('the sign-in form is shown with labelled fields and landmarks', async () => {
		await d.waitFor(visible('signin-form'), 'the sign-in form');
		const r = await d.exec(`
			const ids = ['signin-tenant', 'signin-username', 'signin-password'];
			const unlabelled = ids.filter((id) => !document.querySelector('label[for="' + id + '"]'));
			return { unlabelled, main: !!document.querySelector('main'), banner: !!document.querySelector('header[role=banner], body > header'),
			         live: !!document.querySelector('[aria-live]'), dash: !document.getElementById('dashboard-view').hidden };`);
		expect(r.unlabelled.length === 0, 'no label for ' + r.unlabelled.join(', '));
		expect(r.main && r.banner && r.live, `landmarks/live region missing: ${JSON.stringify(r)}`);
		expect(!r.dash, 'the dashboard is visible before sign-in');
	});

	await check('a wrong password shows the API\'s error message and stays on sign-in', async () => {
		await d.type(await d.find('#signin-tenant'), TENANT);
		await d.type(await d.find('#signin-username'), USER);
		await d.type(await d.find('#signin-password'), 'not-the-password-' + Date.now());
		await d.clickCss('#signin-submit');
		const msg = await d.waitFor(`const e = document.getElementById('signin-error');
			return !e.hidden && e.textContent;`, 'the sign-in error');
		const api = await apiCall('POST', '/v1/auth/login', null, { tenant: TENANT, username: USER, password: 'wrong-' + Date.now() });
		expect(api.status === 401 && msg === api.json.error.message, `page says "${msg}", API says ${api.status} "${api.json && api.json.error.message}"`);
		expect(await d.exec(visible('signin-form')), 'sign-in form gone');
	});

	await check('signing in with tenant, username and password opens the dashboard', async () => {
		const pw = await d.find('#signin-password');
		await d.cmd('POST', `/element/${pw}/clear`, {});
		await d.type(pw, PASSWORD);
		await d.clickCss('#signin-submit');
		await d.waitFor(visible('dashboard-view'), 'the dashboard');
		const who = await d.exec(`return document.getElementById('whoami-text').textContent;`);
		expect(who.includes(USER), `"${who}" does not name ${USER}`);
		const stored = await d.exec(`return sessionStorage.getItem('gacp.admin.access_token');`);
		expect(stored && stored.split('.').length === 3, 'no JWT in sessionStorage');
		const ls = await d.exec(`return Object.keys(localStorage).length;`);
		expect(ls === 0, 'something was written to localStorage');
	});

	// What the page asks for by default: the last 7 UTC days.
	const to = new Date().toISOString().slice(0, 10);
	const from = new Date(Date.now() - 6 * 86400000).toISOString().slice(0, 10);
	const q = `from=${from}&to=${to}`;
	const summary = (await apiCall('GET', `/v1/analytics/summary?${q}`, token)).json;
	const sumPoints = (pts) => pts.reduce((a, p) => a + p.value, 0);
	const bars = `return Array.from(document.querySelectorAll('#chart-messages rect.bar'))
		.map((r) => ({ t: r.dataset.t, v: Number(r.dataset.value), h: Number(r.getAttribute('height')) }));`;

	await check('the daily messages chart has one bar per API point and the API\'s total', async () => {
		const api = (await apiCall('GET', `/v1/analytics/timeseries?metric=messages_in&interval=day&${q}`, token)).json;
		await d.waitFor(`return document.querySelectorAll('#chart-messages rect.bar').length > 0;`, 'bars');
		const b = await d.exec(bars);
		expect(b.length === api.points.length, `${b.length} bars, API has ${api.points.length} points`);
		const total = sumPoints(b.map((x) => ({ value: x.v })));
		expect(total === sumPoints(api.points), `bars add up to ${total}, API points to ${sumPoints(api.points)}`);
		expect(total === summary.messages_in, `bars add up to ${total}, summary messages_in is ${summary.messages_in}`);
		expect(total >= SEED_PSIDS.length, `total ${total} is below the ${SEED_PSIDS.length} seeded messages`);
		expect(b.some((x) => x.h > 0), 'every bar is flat');
		b.forEach((x, i) => expect(x.t === api.points[i].t && x.v === api.points[i].value, `bar ${i} is ${x.t}=${x.v}, API ${api.points[i].t}=${api.points[i].value}`));
	});

	await check('the summary tiles show the API\'s messages in, fallback rate and latency', async () => {
		const r = await d.exec(`return ['messages_in','fallback_rate','response_latency_p95_ms','handoffs']
			.map((k) => document.getElementById('sum-' + k).textContent);`);
		expect(r[0].replace(/,/g, '') === String(summary.messages_in), `messages in "${r[0]}" vs ${summary.messages_in}`);
		const pct = (summary.fallback_rate * 100).toLocaleString('en-US', { maximumFractionDigits: 1 }) + ' %';
		expect(r[1] === pct, `fallback rate "${r[1]}" vs ${pct}`);
		const ms = Number(summary.response_latency_p95_ms).toLocaleString('en-US', { maximumFractionDigits: 0 }) + ' ms';
		expect(r[2] === ms, `latency p95 "${r[2]}" vs ${ms}`);
		expect(summary.response_latency_p95_ms > 0, 'the seeded replies gave no latency');
	});

	await check('fallback-rate and latency charts are drawn from the timeseries API (days without messages left out)', async () => {
		const msgs = (await apiCall('GET', `/v1/analytics/timeseries?metric=messages_in&interval=day&${q}`, token)).json;
		for (const [id, metric] of [['chart-fallback', 'fallback_rate'], ['chart-latency', 'response_latency_p95_ms']]) {
			const api = (await apiCall('GET', `/v1/analytics/timeseries?metric=${metric}&interval=day&${q}`, token)).json;
			const pts = await d.exec(`return Array.from(document.querySelectorAll('#${id} circle.point'))
				.map((c) => ({ v: Number(c.dataset.value), present: c.dataset.present === '1' }));`);
			expect(pts.length === api.points.length, `${id}: ${pts.length} points, API ${api.points.length}`);
			pts.forEach((p, i) => {
				expect(p.v === api.points[i].value, `${id} point ${i}: ${p.v} vs ${api.points[i].value}`);
				expect(p.present === (msgs.points[i].value > 0), `${id} point ${i} drawn=${p.present} with ${msgs.points[i].value} messages`);
			});
			expect(pts.some((p) => p.present), `${id}: no point drawn`);
		}
	});

	await check('top intents list the seeded intents in the API\'s order', async () => {
		const api = (await apiCall('GET', `/v1/analytics/intents?${q}&limit=10`, token)).json;
		const shown = await d.exec(`return Array.from(document.querySelectorAll('#intents li'))
			.map((li) => ({ intent: li.dataset.intent, count: Number(li.dataset.count) }));`);
		expect(shown.length === api.intents.length, `${shown.length} shown, API has ${api.intents.length}`);
		shown.forEach((s, i) => expect(s.intent === api.intents[i].intent && s.count === api.intents[i].count,
			`row ${i}: ${s.intent}=${s.count} vs ${api.intents[i].intent}=${api.intents[i].count}`));
		const names = shown.map((s) => s.intent);
		const missing = SEED_INTENTS.filter((i) => !names.includes(i));
		expect(missing.length === 0, 'seeded intents not shown: ' + missing.join(', '));
	});

	await check('switching to hourly draws 24 bars per day, matching the API', async () => {
		await d.exec(`const s = document.getElementById('range-interval'); s.value = 'hour';
			s.dispatchEvent(new Event('change'));`);
		const api = (await apiCall('GET', `/v1/analytics/timeseries?metric=messages_in&interval=hour&${q}`, token)).json;
		await d.waitFor(`return document.querySelectorAll('#chart-messages rect.bar').length === ${api.points.length};`,
			`${api.points.length} hourly bars`);
		const b = await d.exec(bars);
		expect(b.length === 7 * 24, `${b.length} bars for 7 days`);
		const total = sumPoints(b.map((x) => ({ value: x.v })));
		expect(total === sumPoints(api.points) && total === summary.messages_in,
			`hourly bars add up to ${total}, API ${sumPoints(api.points)}, summary ${summary.messages_in}`);
	});

	await d.screenshot('dashboard-1280');
	await check('a bad period shows the API\'s error message', async () => {
		await d.exec(`document.getElementById('range-from').value = '2020-01-01';
			document.getElementById('range-interval').value = 'day';
			document.getElementById('range-form').requestSubmit();`);
		const msg = await d.waitFor(`const e = document.getElementById('analytics-error'); return !e.hidden && e.textContent;`,
			'the analytics error');
		const api = await apiCall('GET', `/v1/analytics/summary?from=2020-01-01&to=${to}`, token);
		expect(api.status === 400 && msg === api.json.error.message, `page "${msg}", API ${api.status} "${api.text}"`);
		await d.exec(`document.getElementById('range-from').value = ${JSON.stringify(from)};
			const s = document.getElementById('range-interval'); s.value = 'day';
			document.getElementById('range-form').requestSubmit();`);
		await d.waitFor(`return document.getElementById('analytics-error').hidden;`, 'the error to clear');
	});

	const psid = SEED_PSIDS[SEED_PSIDS.length - 1];
	const rowSel = `#conv-body tr[data-contact="${psid}"]`;
	let convId = null;
	await check('the recent conversations list shows the seeded conversations', async () => {
		await d.waitFor(`return !!document.querySelector('${rowSel}');`, `the row of psid ${psid}`, 15000);
		convId = await d.exec(`return document.querySelector('${rowSel}').dataset.id;`);
		const api = await apiCall('GET', `/v1/conversations/${convId}`, token);
		expect(api.status === 200 && api.json.contact.psid === psid, `API: ${api.status} ${api.text.slice(0, 200)}`);
		const status = await d.exec(`return document.querySelector('${rowSel}').children[1].textContent;`);
		expect(status === api.json.status, `row says ${status}, API ${api.json.status}`);
	});

	await check('"Hand off" hands the conversation to a human (page and API agree)', async () => {
		expect(convId, 'no conversation row');
		const before = (await apiCall('GET', `/v1/conversations/${convId}`, token)).json;
		expect(before.status === 'bot', `status before is ${before.status}`);
		await d.clickCss(`${rowSel} button.conv-action`);
		await d.waitFor(`return document.querySelector('${rowSel}').children[1].textContent === 'handoff';`, 'status handoff');
		const after = (await apiCall('GET', `/v1/conversations/${convId}`, token)).json;
		expect(after.status === 'handoff' && after.handoff_at, `API status ${after.status}`);
		const said = await d.waitFor(`return document.getElementById('status').textContent;`, 'the announcement');
		expect(/handed off/.test(said), `aria-live says "${said}"`);
		const label = await d.exec(`return document.querySelector('${rowSel} button.conv-action').textContent;`);
		expect(label === 'Resume', `button now says "${label}"`);
	});

	await check('the list keeps polling: a handoff made through the API shows up', async () => {
		const other = SEED_PSIDS[0];
		const sel = `#conv-body tr[data-contact="${other}"]`;
		await d.waitFor(`return !!document.querySelector('${sel}');`, `the row of psid ${other}`, 15000);
		const id = await d.exec(`return document.querySelector('${sel}').dataset.id;`);
		const r = await apiCall('POST', `/v1/conversations/${id}/handoff`, token, {});
		expect(r.status === 200, `API handoff ${r.status}`);
		await d.waitFor(`return document.querySelector('${sel}').children[1].textContent === 'handoff';`, 'the polled status', 15000);
		await apiCall('POST', `/v1/conversations/${id}/resume`, token, {});
	});

	await check('"Resume" gives the conversation back to the bot (page and API agree)', async () => {
		await d.clickCss(`${rowSel} button.conv-action`);
		await d.waitFor(`return document.querySelector('${rowSel}').children[1].textContent === 'bot';`, 'status bot');
		const after = (await apiCall('GET', `/v1/conversations/${convId}`, token)).json;
		expect(after.status === 'bot', `API status ${after.status}`);
	});

	await check('an access token the API no longer takes is renewed with the refresh token, no sign-in', async () => {
		const bad = 'eyJhbGciOiJIUzI1NiJ9.e30.not-a-valid-signature';
		await d.exec(`sessionStorage.setItem('gacp.admin.access_token', arguments[0]);`, bad);
		// The next poll (every 5 s) gets a 401, refreshes, and retries.
		const renewed = await d.waitFor(`const t = sessionStorage.getItem('gacp.admin.access_token');
			return t !== arguments[0] && t;`, 'a renewed token', 15000, bad);
		expect(await d.exec(visible('dashboard-view')), 'the page went back to sign-in');
		const me = await apiCall('GET', '/v1/auth/me', renewed);
		expect(me.status === 200, `the renewed token gets ${me.status} from /v1/auth/me`);
	});

	await check('the NLU try-it box shows intent, confidence and entities from POST /v1/nlu/parse', async () => {
		const text = 'can you book a farm inspection for tomorrow';
		const api = (await apiCall('POST', '/v1/nlu/parse', token, { text })).json;
		const box = await d.find('#tryit-text');
		await d.cmd('POST', `/element/${box}/clear`, {});
		await d.type(box, text);
		await d.clickCss('#tryit-submit');
		await d.waitFor(visible('tryit-result'), 'the parse result');
		const r = await d.exec(`return { intent: document.getElementById('tryit-intent').textContent,
			confidence: document.getElementById('tryit-confidence').textContent,
			entities: Array.from(document.querySelectorAll('#tryit-entities tbody tr')).map((tr) => Array.from(tr.children).map((td) => td.textContent)) };`);
		expect(r.intent === api.intent.name, `intent "${r.intent}" vs ${api.intent.name}`);
		const pct = (api.intent.confidence * 100).toLocaleString('en-US', { maximumFractionDigits: 1 }) + ' %';
		expect(r.confidence === pct, `confidence "${r.confidence}" vs ${pct}`);
		expect(r.entities.length === api.entities.length && api.entities.length > 0, `${r.entities.length} entities shown, API ${api.entities.length}`);
		expect(r.entities[0][0] === api.entities[0].entity && r.entities[0][1] === String(api.entities[0].value)
			&& r.entities[0][2] === 'tomorrow', `entity row ${JSON.stringify(r.entities[0])}`);
	});

	await check('a try-it text the API refuses shows its error message', async () => {
		const long = 'x'.repeat(2100);
		await d.exec(`document.getElementById('tryit-text').value = arguments[0];
			document.getElementById('tryit-form').requestSubmit();`, long);
		const msg = await d.waitFor(`const e = document.getElementById('tryit-error'); return !e.hidden && e.textContent;`, 'the error');
		const api = await apiCall('POST', '/v1/nlu/parse', token, { text: long });
		expect(api.status === 400 && msg === api.json.error.message, `page "${msg}", API ${api.status} "${api.text}"`);
	});

	await check('at 375 px wide nothing overflows horizontally (dashboard)', async () => {
		await d.cdp('Emulation.setDeviceMetricsOverride', { width: 375, height: 812, deviceScaleFactor: 2, mobile: true });
		await d.exec(`document.getElementById('tryit-error').hidden = true; return 1;`);
		await sleep(300);
		const r = await d.exec(overflowScript);
		await d.screenshot('dashboard-375');
		expect(r.inner === 375, `viewport is ${r.inner} px`);
		expect(r.scroll <= r.inner, `page is ${r.scroll} px wide; too wide: ${r.wide.join(', ')}`);
		expect(r.wide.length === 0, 'elements past the right edge: ' + r.wide.join(', '));
	});

	await check('signing out returns to sign-in, forgets the token and the API refuses it', async () => {
		const jwt = await d.exec(`return sessionStorage.getItem('gacp.admin.access_token');`);
		await d.clickCss('#signout');
		await d.waitFor(visible('signin-form'), 'the sign-in form');
		const stored = await d.exec(`return sessionStorage.getItem('gacp.admin.access_token');`);
		expect(stored === null, 'the token is still in sessionStorage');
		const me = await apiCall('GET', '/v1/auth/me', jwt);
		expect(me.status === 401, `the old token still gets ${me.status} from /v1/auth/me`);
	});

	await check('at 375 px wide nothing overflows horizontally (sign-in)', async () => {
		const r = await d.exec(overflowScript);
		await d.screenshot('signin-375');
		expect(r.scroll <= r.inner && r.wide.length === 0, `page ${r.scroll} px in ${r.inner}: ${r.wide.join(', ')}`);
		await d.cdp('Emulation.clearDeviceMetricsOverride', {});
	});

	await check('keyboard only: Tab through the form, type, Enter signs in; focus is visible', async () => {
		await d.exec(`sessionStorage.clear();`);
		await d.go(ADMIN);
		await d.waitFor(visible('signin-form'), 'the sign-in form');
		// The page puts the focus in the first empty field; from there on
		// only keys: type, Tab, type, Tab, type, Enter.
		const seen = [];
		const focusOk = [];
		const where = async () => {
			const f = await d.exec(`const e = document.activeElement; const cs = getComputedStyle(e);
				return { id: e.id || e.className || e.tagName, outline: cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0 };`);
			seen.push(f.id);
			focusOk.push(f.outline);
			return f.id;
		};
		const step = async (key) => {
			await d.keys(key);
			return where();
		};
		expect(await where() === 'signin-tenant', `focus starts on ${seen.join(' > ')}`);
		await d.keys(TENANT);
		expect(await step(KEY.TAB) === 'signin-username', `focus order: ${seen.join(' > ')}`);
		await d.keys(USER);
		expect(await step(KEY.TAB) === 'signin-password', `focus order: ${seen.join(' > ')}`);
		await d.keys(PASSWORD);
		expect(focusOk.every(Boolean), `no visible focus outline on some of ${seen.join(', ')}`);
		await d.keys(KEY.ENTER);
		await d.waitFor(visible('dashboard-view'), 'the dashboard after Enter');
		await d.waitFor(`return document.querySelectorAll('#chart-messages rect.bar').length > 0;`, 'the charts');
	});

	await check('a rejected token (401) sends the page back to sign-in with a message', async () => {
		// A reload drops the in-memory refresh token, so nothing can renew it.
		await d.exec(`sessionStorage.setItem('gacp.admin.access_token', 'eyJhbGciOiJIUzI1NiJ9.e30.invalid');`);
		await d.go(ADMIN);
		const msg = await d.waitFor(`const e = document.getElementById('signin-error');
			return !e.hidden && e.textContent;`, 'the sign-in message');
		expect(await d.exec(visible('signin-form')), 'no sign-in form');
		expect(msg && /session has ended/i.test(msg), `message "${msg}"`);
		expect(await d.exec(`return document.getElementById('dashboard-view').hidden;`), 'the dashboard is still shown');
	});

	await check('no script errors and no Content-Security-Policy violations in the browser console', async () => {
		const log = await d.browserLog();
		const bad = log.filter((e) => e.level === 'SEVERE' &&
			// the wrong-password, bad-period, too-long and bad-token requests are expected failures
			!/ (400|401) \(/.test(e.message));
		expect(bad.length === 0, bad.map((e) => e.message).join(' | '));
	});
}

// Widths at 375 px: the document's scroll width, and any visible element whose
// right edge passes the viewport (scrollable table wrappers excepted).
const overflowScript = `
	const inner = window.innerWidth;
	const wide = [];
	for (const e of document.querySelectorAll('body *')) {
		if (e.closest('.table-wrap') || e.closest('.visually-hidden') || e.closest('.skip')) continue;
		const r = e.getBoundingClientRect();
		if (r.width > 0 && r.right > inner + 0.5) wide.push((e.id || e.tagName.toLowerCase()) + '@' + Math.round(r.right));
		if (wide.length > 5) break;
	}
	return { inner, scroll: document.documentElement.scrollWidth, wide };`;

main().then(() => {
	console.log(`dashboard: ${passed} passed, ${failed} failed`);
	process.exit(failed === 0 ? 0 : 1);
}).catch((err) => {
	console.log(`FAIL - dashboard test aborted: ${err.message}`);
	console.log(`dashboard: ${passed} passed, ${failed + 1} failed`);
	process.exit(1);
});
