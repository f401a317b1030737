// charts.js - small SVG charts for the dashboard: bars and a line over the
// points of GET /v1/analytics/timeseries ({t, value}, every bucket present).
//
// No library: the charts are SVG elements built with the DOM, drawn in the
// pixel width of their box (so text is never stretched) and drawn again
// when that width changes (a rotated phone, a resized window).
// Each bar/point carries data-t and data-value (what the tests read) and a
// <title> (what a pointer hover shows); the figure's caption says the same
// in words for screen readers, which get the SVG as one labelled image.

const SVG = 'http://www.w3.org/2000/svg';
const PAD_L = 48, PAD_R = 12, PAD_T = 10, PAD_B = 26;

function el(name, attrs, parent) {
	const e = document.createElementNS(SVG, name);
	for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
	if (parent) parent.appendChild(e);
	return e;
}

// A "nice" upper bound for the axis: 1, 2 or 5 times a power of ten.
export function niceMax(max) {
	if (!(max > 0)) return 1;
	const p = Math.pow(10, Math.floor(Math.log10(max)));
	for (const m of [1, 2, 5, 10]) {
		if (m * p >= max) return m * p;
	}
	return 10 * p;
}

// Label of a bucket start: "11-27" for days, "11-27 14h" for hours (UTC).
export function bucketLabel(t, interval) {
	const d = new Date(t);
	if (Number.isNaN(d.getTime())) return String(t);
	const md = d.toISOString().slice(5, 10);
	return interval === 'hour' ? `${md} ${String(d.getUTCHours()).padStart(2, '0')}h` : md;
}

function frame(W, height, ymax, fmt) {
	const svg = el('svg', {
		viewBox: `0 0 ${W} ${height}`, width: W, height, class: 'chart-svg', role: 'img',
		focusable: 'false',
	});
	const plotH = height - PAD_T - PAD_B;
	// Three gridlines with their values on the left.
	for (let i = 0; i <= 2; i++) {
		const v = (ymax * i) / 2;
		const y = PAD_T + plotH - (plotH * i) / 2;
		el('line', { x1: PAD_L, x2: W - PAD_R, y1: y, y2: y, class: 'grid' }, svg);
		const label = el('text', { x: PAD_L - 4, y: y + 4, class: 'axis', 'text-anchor': 'end' }, svg);
		label.textContent = fmt(v);
	}
	return { svg, plotH };
}

// As many x labels as fit without touching, on round buckets: every 1, 2,
// 3, 6, 12 or 24 hours (midnight-aligned, as the range starts at 00:00
// UTC) or every 1, 2, 7, 14 or 28 days.
const HOUR_STEPS = [1, 2, 3, 6, 12, 24, 48, 96, 168, 336];
const DAY_STEPS = [1, 2, 7, 14, 28, 56, 91, 182, 364];

function xLabels(svg, points, interval, xOf, W, height) {
	const n = points.length;
	if (n === 0) return;
	const labelW = (interval === 'hour' ? 9 : 5) * 6.5 + 14;   // ~6.5 px per 11 px glyph
	const fit = Math.max(1, Math.floor((W - PAD_L - PAD_R) / labelW));
	const steps = interval === 'hour' ? HOUR_STEPS : DAY_STEPS;
	const step = steps.find((s) => Math.ceil(n / s) <= fit) || Math.ceil(n / fit);
	let prevX = -Infinity;
	for (let i = 0; i < n; i += step) {
		const x = xOf(i);
		// PAD_L leaves room for half a label on the left; on the right a
		// label is pulled inside, or left out when that would make it touch
		// the one before.
		let anchor = 'middle';
		if (x + labelW / 2 > W) {
			if (x - prevX < 1.5 * labelW) break;
			anchor = 'end';
		}
		const t = el('text', { x, y: height - 8, class: 'axis', 'text-anchor': anchor }, svg);
		t.textContent = bucketLabel(points[i].t, interval);
		prevX = x;
	}
}

function place(container, svg, label) {
	svg.setAttribute('aria-label', label);
	container.replaceChildren(svg);
}

// The width to draw in: the box's, with a floor for a hidden box.
function widthOf(container) {
	return Math.max(240, Math.floor(container.clientWidth || 0));
}

// Redraw a chart when its box changes width; one observer for all charts.
const drawn = new WeakMap();   // container -> { draw, width }
const observer = typeof ResizeObserver === 'function' ? new ResizeObserver((entries) => {
	for (const e of entries) {
		const d = drawn.get(e.target);
		if (d && Math.abs(widthOf(e.target) - d.width) >= 8) d.draw();
	}
}) : null;

function remember(container, draw) {
	drawn.set(container, { draw, width: widthOf(container) });
	if (observer) observer.observe(container);
}

// barChart(container, points, {interval, label, format}): one bar per point.
export function barChart(container, points, opts) {
	const W = widthOf(container);
	const height = 200;
	const fmt = opts.format || ((v) => String(Math.round(v)));
	const max = niceMax(Math.max(0, ...points.map((p) => p.value)));
	const { svg, plotH } = frame(W, height, max, fmt);
	const n = Math.max(points.length, 1);
	const slot = (W - PAD_L - PAD_R) / n;
	const barW = Math.max(1, slot * 0.8);
	const xOf = (i) => PAD_L + slot * i + slot / 2;
	const g = el('g', { class: 'bars' }, svg);
	points.forEach((p, i) => {
		const h = (plotH * p.value) / max;
		const bar = el('rect', {
			x: xOf(i) - barW / 2, y: PAD_T + plotH - h, width: barW, height: Math.max(h, 0),
			class: 'bar', 'data-t': p.t, 'data-value': p.value,
		}, g);
		el('title', {}, bar).textContent = `${bucketLabel(p.t, opts.interval)}: ${fmt(p.value)}`;
	});
	xLabels(svg, points, opts.interval, xOf, W, height);
	place(container, svg, opts.label);
	remember(container, () => barChart(container, points, opts));
}

// lineChart(container, points, {interval, label, format, present}): a line
// through the buckets that have data, with a dot on each.  The API fills
// empty buckets with 0, and a rate or a latency of 0 where nothing happened
// would be a lie, so present[i] (default: value > 0) says which buckets
// count: the caller passes "had inbound messages".
export function lineChart(container, points, opts) {
	const W = widthOf(container);
	const height = 160;
	const fmt = opts.format || ((v) => String(v));
	const present = opts.present || points.map((p) => p.value > 0);
	const max = niceMax(Math.max(0, ...points.map((p) => p.value)));
	const { svg, plotH } = frame(W, height, max, fmt);
	const n = points.length;
	const xOf = (i) => (n <= 1 ? PAD_L + (W - PAD_L - PAD_R) / 2
		: PAD_L + ((W - PAD_L - PAD_R) * i) / (n - 1));
	const yOf = (v) => PAD_T + plotH - (plotH * v) / max;
	// One polyline per run of consecutive buckets with data.
	let run = [];
	const flush = () => {
		if (run.length > 1) el('polyline', { points: run.join(' '), class: 'line' }, svg);
		run = [];
	};
	points.forEach((p, i) => {
		if (present[i]) run.push(`${xOf(i).toFixed(1)},${yOf(p.value).toFixed(1)}`);
		else flush();
	});
	flush();
	const g = el('g', { class: 'points' }, svg);
	points.forEach((p, i) => {
		const dot = el('circle', {
			cx: xOf(i), cy: yOf(p.value), r: present[i] ? 3.5 : 0,
			class: 'point', 'data-t': p.t, 'data-value': p.value, 'data-present': present[i] ? '1' : '0',
		}, g);
		el('title', {}, dot).textContent = `${bucketLabel(p.t, opts.interval)}: ${present[i] ? fmt(p.value) : 'no messages'}`;
	});
	xLabels(svg, points, opts.interval, xOf, W, height);
	place(container, svg, opts.label);
	remember(container, () => lineChart(container, points, opts));
}
