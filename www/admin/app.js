// app.js - the operator dashboard: sign-in, analytics charts, the live
// conversation list with handoff/resume, and the NLU "try it" box.
//
// Plain ES module, no framework.  All text from the API goes into the page
// through textContent (never innerHTML): contact ids, intents and entity
// values are end-user input.

import * as api from './api.js';
import { barChart, lineChart } from './charts.js';

const POLL_MS = 5000;           // conversation list refresh
const CONV_LIMIT = 20;

const $ = (id) => document.getElementById(id);

let pollTimer = null;
let polling = false;
let signedIn = false;

// --- small helpers --------------------------------------------------------

function announce(text) {
	// Clear first so the same message twice is read twice.
	const s = $('status');
	s.textContent = '';
	window.setTimeout(() => { s.textContent = text; }, 50);
}

function showError(id, err) {
	const p = $(id);
	if (!err) {
		p.hidden = true;
		p.textContent = '';
		return;
	}
	p.textContent = err instanceof api.ApiError || err instanceof Error ? err.message : String(err);
	if (err.requestId) p.title = 'request id ' + err.requestId;
	p.hidden = false;
}

function utcDay(d) {
	return d.toISOString().slice(0, 10);
}

function fmtInt(v) {
	return Number(v || 0).toLocaleString('en-US', { maximumFractionDigits: 0 });
}

function fmtPct(v) {
	return (Number(v || 0) * 100).toLocaleString('en-US', { maximumFractionDigits: 1 }) + ' %';
}

function fmtMs(v) {
	return Number(v || 0).toLocaleString('en-US', { maximumFractionDigits: 0 }) + ' ms';
}

function fmtTime(iso) {
	if (!iso) return '–';
	const d = new Date(iso);
	if (Number.isNaN(d.getTime())) return String(iso);
	return d.toISOString().slice(0, 16).replace('T', ' ');
}

// --- views ----------------------------------------------------------------

function showSignin(message) {
	signedIn = false;
	stopPolling();
	$('dashboard-view').hidden = true;
	$('whoami').hidden = true;
	$('signin-view').hidden = false;
	$('signin-password').value = '';
	$('signin-new-password').value = '';
	$('signin-newpw-field').hidden = true;
	showError('signin-error', message ? new Error(message) : null);
	const first = $('signin-tenant').value ? $('signin-password') : $('signin-tenant');
	first.focus();
}

function showDashboard(me) {
	signedIn = true;
	$('signin-view').hidden = true;
	$('dashboard-view').hidden = false;
	const who = me.user ? me.user.username : (me.api_key ? me.api_key.name : '');
	$('whoami-text').textContent = `${who} @ ${me.tenant.name || me.tenant.slug}`;
	$('whoami').hidden = false;
	loadAnalytics();
	startPolling();
}

// --- sign-in / sign-out ---------------------------------------------------

async function onSignin(ev) {
	ev.preventDefault();
	const tenant = $('signin-tenant').value.trim();
	const username = $('signin-username').value.trim();
	const password = $('signin-password').value;
	const newPw = $('signin-newpw-field').hidden ? '' : $('signin-new-password').value;
	if (!tenant || !username || !password) {
		showError('signin-error', new Error('Enter the tenant, your username and your password.'));
		(!tenant ? $('signin-tenant') : !username ? $('signin-username') : $('signin-password')).focus();
		return;
	}
	const button = $('signin-submit');
	button.disabled = true;
	showError('signin-error', null);
	try {
		await api.login(tenant, username, password, newPw);
		const me = await api.call('GET', '/v1/auth/me');
		$('signin-password').value = '';
		$('signin-new-password').value = '';
		showDashboard(me);
		announce(`Signed in as ${$('whoami-text').textContent}.`);
		$('main').focus();
	} catch (err) {
		// Signed in but /v1/auth/me refused (a suspended tenant, the API
		// going down): revoke and forget tokens the page will not use.
		// Without a token (the login itself failed) this sends nothing.
		await api.logout();
		if (err.code === 'password_expired') {
			$('signin-newpw-field').hidden = false;
			$('signin-new-password').focus();
		} else {
			$('signin-password').focus();
		}
		showError('signin-error', err);
	} finally {
		button.disabled = false;
	}
}

async function onSignout() {
	await api.logout();
	showSignin(null);
	announce('Signed out.');
}

// --- analytics ------------------------------------------------------------

function defaultRange() {
	const to = new Date();
	const from = new Date(to.getTime() - 6 * 86400000);
	$('range-from').value = utcDay(from);
	$('range-to').value = utcDay(to);
}

function renderSummary(s) {
	$('sum-messages_in').textContent = fmtInt(s.messages_in);
	$('sum-messages_out').textContent = fmtInt(s.messages_out);
	$('sum-unique_contacts').textContent = fmtInt(s.unique_contacts);
	$('sum-fallback_rate').textContent = fmtPct(s.fallback_rate);
	$('sum-handoffs').textContent = fmtInt(s.handoffs);
	$('sum-response_latency_p50_ms').textContent = fmtMs(s.response_latency_p50_ms);
	$('sum-response_latency_p95_ms').textContent = fmtMs(s.response_latency_p95_ms);
	$('sum-failed_sends').textContent = fmtInt(s.failed_sends);
}

function renderIntents(list) {
	const ol = $('intents');
	const max = Math.max(1, ...list.map((i) => i.count));
	ol.replaceChildren(...list.map((i) => {
		const li = document.createElement('li');
		li.dataset.intent = i.intent;
		li.dataset.count = String(i.count);
		const name = document.createElement('span');
		name.className = 'intent-name';
		name.textContent = i.intent;
		const count = document.createElement('span');
		count.className = 'intent-count';
		count.textContent = `${fmtInt(i.count)} · fallback ${fmtPct(i.fallback_share)}`;
		const meter = document.createElement('meter');
		meter.min = 0;
		meter.max = max;
		meter.value = i.count;
		meter.setAttribute('aria-label', `${i.intent}: ${i.count} messages`);
		meter.textContent = String(i.count);
		li.append(name, count, meter);
		return li;
	}));
	$('intents-empty').hidden = list.length > 0;
}

async function loadAnalytics() {
	const from = $('range-from').value;
	const to = $('range-to').value;
	const interval = $('range-interval').value;
	const range = { from, to };
	const series = (metric) => api.call('GET', '/v1/analytics/timeseries' +
		api.qs({ metric, interval, from, to }));
	showError('analytics-error', null);
	$('dashboard-view').setAttribute('aria-busy', 'true');
	try {
		const [summary, messages, fallback, latency, intents] = await Promise.all([
			api.call('GET', '/v1/analytics/summary' + api.qs(range)),
			series('messages_in'),
			series('fallback_rate'),
			series('response_latency_p95_ms'),
			api.call('GET', '/v1/analytics/intents' + api.qs({ ...range, limit: 10 })),
		]);
		renderSummary(summary);
		const per = interval === 'hour' ? 'hour' : 'day';
		const total = messages.points.reduce((a, p) => a + p.value, 0);
		barChart($('chart-messages'), messages.points, {
			interval,
			label: `Messages received per ${per}, ${messages.from} to ${messages.to}: ${total} in total`,
		});
		$('chart-messages-caption').textContent =
			`${fmtInt(total)} messages received per ${per} (UTC), ${messages.from} to ${messages.to}.`;
		$('chart-messages-caption').dataset.total = String(total);
		// A bucket without inbound messages has no rate and no latency.
		const present = messages.points.map((p) => p.value > 0);
		lineChart($('chart-fallback'), fallback.points, {
			interval, present, format: (v) => fmtPct(v).replace(' ', ''),
			label: `Fallback rate per ${per}; ${fmtPct(summary.fallback_rate)} over the period`,
		});
		$('chart-fallback-caption').textContent =
			`Share of messages no intent matched: ${fmtPct(summary.fallback_rate)} over the period.`;
		lineChart($('chart-latency'), latency.points, {
			interval, present, format: (v) => fmtMs(v).replace(' ', ''),
			label: `Bot response latency p95 per ${per}; ${fmtMs(summary.response_latency_p95_ms)} over the period`,
		});
		$('chart-latency-caption').textContent =
			`95th percentile, message received to Send API accepted: ${fmtMs(summary.response_latency_p95_ms)} over the period.`;
		renderIntents(intents.intents);
	} catch (err) {
		if (signedIn) showError('analytics-error', err);
	} finally {
		$('dashboard-view').removeAttribute('aria-busy');
	}
}

function onRange(ev) {
	ev.preventDefault();
	if (!$('range-from').value || !$('range-to').value) {
		showError('analytics-error', new Error('Choose both days of the period.'));
		return;
	}
	loadAnalytics();
}

// --- conversations --------------------------------------------------------

const rows = new Map();   // conversation id -> <tr>, kept across polls so focus stays put

function actionFor(status) {
	if (status === 'bot') return { path: 'handoff', text: 'Hand off' };
	if (status === 'handoff') return { path: 'resume', text: 'Resume' };
	return null;
}

function makeRow(id) {
	const tr = document.createElement('tr');
	tr.dataset.id = id;
	tr.setAttribute('role', 'row');   // kept when a phone lays rows out as grids
	for (let i = 0; i < 4; i++) {
		const cell = document.createElement(i === 0 ? 'th' : 'td');
		cell.setAttribute('role', i === 0 ? 'rowheader' : 'cell');
		tr.appendChild(cell);
	}
	tr.firstChild.scope = 'row';
	const td = document.createElement('td');
	td.setAttribute('role', 'cell');
	const b = document.createElement('button');
	b.type = 'button';
	b.className = 'conv-action';
	b.addEventListener('click', () => onConversationAction(tr));
	td.appendChild(b);
	tr.appendChild(td);
	return tr;
}

function fillRow(tr, c) {
	const cells = tr.children;
	const who = c.contact && c.contact.psid ? c.contact.psid : c.id.slice(0, 8);
	tr.dataset.status = c.status;
	tr.dataset.version = String(c.version);
	tr.dataset.contact = who;
	cells[0].textContent = who;
	cells[1].textContent = c.status;
	cells[1].className = 'badge badge-' + c.status;
	cells[2].textContent = c.language || '–';
	cells[3].textContent = fmtTime(c.last_message_at);
	const b = cells[4].firstChild;
	const act = actionFor(c.status);
	if (!b.dataset.busy) {
		b.hidden = !act;
		if (act) {
			b.textContent = act.text;
			b.dataset.action = act.path;
			b.setAttribute('aria-label', `${act.text} the conversation with ${who}`);
		}
	}
}

function renderConversations(list) {
	const body = $('conv-body');
	const seen = new Set();
	list.forEach((c, i) => {
		seen.add(c.id);
		let tr = rows.get(c.id);
		if (!tr) {
			tr = makeRow(c.id);
			rows.set(c.id, tr);
		}
		fillRow(tr, c);
		if (body.children[i] !== tr) body.insertBefore(tr, body.children[i] || null);
	});
	for (const [id, tr] of rows) {
		if (!seen.has(id)) {
			tr.remove();
			rows.delete(id);
		}
	}
	$('conv-empty').hidden = list.length > 0;
}

async function pollConversations() {
	if (!signedIn || polling) return;
	polling = true;
	try {
		const page = await api.call('GET', '/v1/conversations' + api.qs({ limit: CONV_LIMIT }));
		renderConversations(page.items);
		showError('conv-error', null);
		$('conv-updated').textContent = 'Last update ' + fmtTime(new Date().toISOString()) + ' UTC.';
	} catch (err) {
		if (signedIn) showError('conv-error', err);
	} finally {
		polling = false;
	}
}

function scheduleNext() {
	window.clearTimeout(pollTimer);
	pollTimer = null;
	if (signedIn && !document.hidden) {
		pollTimer = window.setTimeout(async () => {
			await pollConversations();
			scheduleNext();
		}, POLL_MS);
	}
}

function startPolling() {
	pollConversations().then(scheduleNext);
}

function stopPolling() {
	window.clearTimeout(pollTimer);
	pollTimer = null;
	rows.clear();
	$('conv-body').replaceChildren();
}

async function onConversationAction(tr) {
	const b = tr.querySelector('button.conv-action');
	const action = b.dataset.action;
	const who = tr.dataset.contact;
	b.dataset.busy = '1';
	b.disabled = true;
	showError('conv-error', null);
	try {
		const c = await api.call('POST', `/v1/conversations/${encodeURIComponent(tr.dataset.id)}/${action}`,
			{ version: Number(tr.dataset.version) });
		delete b.dataset.busy;
		fillRow(tr, c);
		announce(action === 'handoff'
			? `The conversation with ${who} is now handed off to a human.`
			: `The conversation with ${who} is back with the bot.`);
	} catch (err) {
		delete b.dataset.busy;
		if (signedIn) {
			showError('conv-error', err);
			pollConversations();
		}
	} finally {
		b.disabled = false;
	}
}

// --- NLU try-it -----------------------------------------------------------

function renderParse(r) {
	$('tryit-intent').textContent = r.intent && r.intent.name ? r.intent.name : '(no intent)';
	$('tryit-confidence').textContent = fmtPct(r.intent ? r.intent.confidence : 0);
	$('tryit-language').textContent = r.language || '–';
	const tbody = $('tryit-entities').tBodies[0];
	tbody.replaceChildren(...r.entities.map((e) => {
		const tr = document.createElement('tr');
		const chars = Array.from(r.text);   // start/end count characters, not UTF-16 units
		for (const v of [e.entity, String(e.value), chars.slice(e.start, e.end).join(''),
			fmtPct(e.confidence_entity)]) {
			const td = document.createElement('td');
			td.textContent = v;
			tr.appendChild(td);
		}
		return tr;
	}));
	$('tryit-entities-wrap').hidden = r.entities.length === 0;
	$('tryit-no-entities').hidden = r.entities.length > 0;
	$('tryit-ranking').replaceChildren(...r.intent_ranking.slice(0, 5).map((i) => {
		const li = document.createElement('li');
		li.textContent = `${i.name} — ${fmtPct(i.confidence)}`;
		return li;
	}));
	$('tryit-result').hidden = false;
}

async function onTryit(ev) {
	ev.preventDefault();
	const text = $('tryit-text').value.trim();
	if (!text) {
		showError('tryit-error', new Error('Type a sentence to parse.'));
		$('tryit-text').focus();
		return;
	}
	const b = $('tryit-submit');
	b.disabled = true;
	showError('tryit-error', null);
	try {
		renderParse(await api.call('POST', '/v1/nlu/parse', { text }));
	} catch (err) {
		$('tryit-result').hidden = true;
		if (signedIn) showError('tryit-error', err);
	} finally {
		b.disabled = false;
	}
}

// --- start ----------------------------------------------------------------

async function start() {
	api.onUnauthorized((message) => {
		showSignin(`Your session has ended (${message}). Sign in again.`);
	});
	$('signin-form').addEventListener('submit', onSignin);
	$('signout').addEventListener('click', onSignout);
	$('range-form').addEventListener('submit', onRange);
	$('range-interval').addEventListener('change', () => loadAnalytics());
	$('tryit-form').addEventListener('submit', onTryit);
	// Ctrl/Cmd+Enter in the text area parses, as in a chat box.
	$('tryit-text').addEventListener('keydown', (ev) => {
		if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) $('tryit-form').requestSubmit();
	});
	document.addEventListener('visibilitychange', () => {
		if (!signedIn) return;
		if (document.hidden) {
			window.clearTimeout(pollTimer);
		} else {
			startPolling();
		}
	});
	defaultRange();
	document.body.dataset.ready = '1';

	if (!api.accessToken()) {
		showSignin(null);
		return;
	}
	try {
		showDashboard(await api.call('GET', '/v1/auth/me'));
	} catch (err) {
		if (!signedIn && err.status !== 401) showSignin(err.message);
	}
}

start();
