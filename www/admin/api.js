// api.js - the dashboard's client of the GACP REST API (same origin).
//
// Holds the session: the access token lives in sessionStorage (it survives a
// reload of this tab, dies with the tab, and is never sent anywhere but our
// own origin); the refresh token stays in memory only, because it lives for
// days and sessionStorage is readable by any script of the origin.  After a
// reload there is no refresh token and an expired access token means signing
// in again.
//
// Every failure is thrown as an ApiError carrying the API's error envelope
// (code, message, request_id) so the page can show error.message as is.

const TOKEN_KEY = 'gacp.admin.access_token';

let refreshToken = null;
let onSessionEnd = () => {};

export class ApiError extends Error {
	constructor(status, code, message, requestId) {
		super(message);
		this.name = 'ApiError';
		this.status = status;      // HTTP status, 0 for a network failure
		this.code = code;          // the envelope's stable code
		this.requestId = requestId || '';
	}
}

export function accessToken() {
	try {
		return sessionStorage.getItem(TOKEN_KEY);
	} catch {
		return null;               // storage disabled: memory-only session
	}
}

function setAccessToken(token) {
	try {
		if (token) sessionStorage.setItem(TOKEN_KEY, token);
		else sessionStorage.removeItem(TOKEN_KEY);
	} catch {
		/* storage disabled; the token is lost on reload, which is safe */
	}
}

// fn(reason) is called once whenever a request comes back 401 and the
// session cannot be renewed: the page goes back to sign-in.
export function onUnauthorized(fn) {
	onSessionEnd = fn;
}

// Turn a fetch Response that is not 2xx into an ApiError.  nginx answers its
// own errors (413, 429, 503) in the same envelope; anything else (an HTML
// page from a proxy) still gets a message a person can act on.
async function errorFrom(res) {
	let body = null;
	try {
		body = await res.json();
	} catch {
		/* not JSON */
	}
	const e = body && typeof body === 'object' && body.error;
	if (e && typeof e.message === 'string') {
		return new ApiError(res.status, String(e.code || ''), e.message, e.request_id);
	}
	return new ApiError(res.status, 'http_' + res.status,
		`the server answered ${res.status} ${res.statusText}`.trim(), res.headers.get('X-Request-Id'));
}

async function send(method, path, body, token) {
	const headers = { Accept: 'application/json' };
	if (token) headers.Authorization = 'Bearer ' + token;
	const init = { method, headers, credentials: 'omit', cache: 'no-store' };
	if (body !== undefined) {
		headers['Content-Type'] = 'application/json';
		init.body = JSON.stringify(body);
	}
	try {
		return await fetch(path, init);
	} catch (err) {
		throw new ApiError(0, 'network_error', 'the API could not be reached: ' + err.message);
	}
}

async function parse(res) {
	if (res.status === 204) return null;
	try {
		return await res.json();
	} catch {
		throw new ApiError(res.status, 'invalid_response', 'the API answered something that is not JSON');
	}
}

function storeTokens(tokens) {
	setAccessToken(tokens.access_token);
	refreshToken = tokens.refresh_token || null;
}

// Trade the in-memory refresh token for new tokens; false when there is none
// or the API refuses it (reused, expired, revoked).
let refreshing = null;
async function renew() {
	if (!refreshToken) return false;
	// Concurrent 401s (polling and a click) share one refresh: a refresh
	// token is single-use, a second use would revoke the whole family.
	if (!refreshing) {
		const rt = refreshToken;
		refreshing = (async () => {
			const res = await send('POST', '/v1/auth/refresh', { refresh_token: rt });
			if (!res.ok) return false;
			storeTokens(await parse(res));
			return true;
		})().catch(() => false).finally(() => { refreshing = null; });
	}
	return refreshing;
}

// An authenticated call.  A 401 renews the session once and retries; when
// that is not possible the session ends and the 401 is thrown.
export async function call(method, path, body) {
	let res = await send(method, path, body, accessToken());
	if (res.status === 401 && await renew()) {
		res = await send(method, path, body, accessToken());
	}
	if (res.status === 401) {
		const err = await errorFrom(res);
		endSession();
		onSessionEnd(err.message);
		throw err;
	}
	if (!res.ok) throw await errorFrom(res);
	return parse(res);
}

export async function login(tenant, username, password, newPassword) {
	const body = { tenant, username, password };
	if (newPassword) body.new_password = newPassword;
	const res = await send('POST', '/v1/auth/login', body);
	if (!res.ok) throw await errorFrom(res);
	storeTokens(await parse(res));
}

// Tell the API (deny this token, revoke the refresh family), then forget the
// tokens whatever it answered: signing out must work when the API is down.
export async function logout() {
	const token = accessToken();
	const rt = refreshToken;
	endSession();
	if (!token) return;
	try {
		await send('POST', '/v1/auth/logout', rt ? { refresh_token: rt } : {}, token);
	} catch {
		/* already forgotten locally */
	}
}

export function endSession() {
	setAccessToken(null);
	refreshToken = null;
}

// Query string from an object, skipping empty values.
export function qs(params) {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(params)) {
		if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
	}
	const s = q.toString();
	return s ? '?' + s : '';
}
