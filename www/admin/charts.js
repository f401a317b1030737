// charts.js - small SVG charts for the dashboard: bars and a line over the
// points of GET /v1/analytics/timeseries ({t, value}, every bucket present).
//
// No library: the charts are SVG elements built with the DOM, scaled by
// viewBox so they follow the width of their box (down to a 375 px phone).
// Each bar/point carries data-t and data-value (what the tests read) and a
// <title> (what a pointer hover shows); the figure's caption says the same
// in words for screen readers, which get the SVG as one labelled image.

const SVG = 'http://www.w3.org/2000/svg';
const W = 640;           // viewBox width; height per chart
const PAD_L = 44, PAD_R = 8, PAD_T = 10, PAD_B = 26;

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

function frame(height, ymax, fmt) {
	const svg = el('svg', {
		viewBox: `0 0 ${W} ${height}`, class: 'chart-svg', role: 'img',
		preserveAspectRatio: 'none', focusable: 'false',
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

// Up to ~6 x labels, evenly spread, so hourly charts stay readable.
function xLabels(svg, points, interval, xOf, height) {
	const n = points.length;
	const step = Math.max(1, Math.ceil(n / 6));
	for (let i = 0; i < n; i += step) {
		const t = el('text', { x: xOf(i), y: height - 8, class: 'axis', 'text-anchor': 'middle' }, svg);
		t.textContent = bucketLabel(points[i].t, interval);
	}
}

function place(container, svg, label) {
	svg.setAttribute('aria-label', label);
	container.replaceChildren(svg);
}

// barChart(container, points, {interval, label, format}): one bar per point.
export function barChart(container, points, opts) {
	const height = 200;
	const fmt = opts.format || ((v) => String(Math.round(v)));
	const max = niceMax(Math.max(0, ...points.map((p) => p.value)));
	const { svg, plotH } = frame(height, max, fmt);
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
	xLabels(svg, points, opts.interval, xOf, height);
	place(container, svg, opts.label);
}

// lineChart(container, points, {interval, label, format}): a polyline with a
// dot per non-empty bucket (a zero-filled bucket of a rate means "no data",
// which a line through zero would misstate as "no fallbacks").
export function lineChart(container, points, opts) {
	const height = 160;
	const fmt = opts.format || ((v) => String(v));
	const max = niceMax(Math.max(0, ...points.map((p) => p.value)));
	const { svg, plotH } = frame(height, max, fmt);
	const n = points.length;
	const xOf = (i) => (n <= 1 ? PAD_L + (W - PAD_L - PAD_R) / 2
		: PAD_L + ((W - PAD_L - PAD_R) * i) / (n - 1));
	const yOf = (v) => PAD_T + plotH - (plotH * v) / max;
	el('polyline', {
		points: points.map((p, i) => `${xOf(i).toFixed(1)},${yOf(p.value).toFixed(1)}`).join(' '),
		class: 'line',
	}, svg);
	const g = el('g', { class: 'points' }, svg);
	points.forEach((p, i) => {
		const dot = el('circle', {
			cx: xOf(i), cy: yOf(p.value), r: p.value > 0 ? 3 : 0,
			class: 'point', 'data-t': p.t, 'data-value': p.value,
		}, g);
		el('title', {}, dot).textContent = `${bucketLabel(p.t, opts.interval)}: ${fmt(p.value)}`;
	});
	xLabels(svg, points, opts.interval, xOf, height);
	place(container, svg, opts.label);
}
