/**
 * Draws simulation runs as one SVG: a panel per run, offered load (requests
 * per second, left axis) and replicas (right axis) over time.
 *
 * @module
 */

import type { SimulationResult } from "./run.ts";

const WIDTH = 900;
const PANEL = 170;
const LEFT = 60;
const RIGHT = 50;
const TOP = 28;
const BOTTOM = 22;

function escape(text: string): string {
  return text.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function path(values: number[], x: (i: number) => number, y: (v: number) => number): string {
  // One point per 10 s keeps an hour's chart small without losing its shape.
  const step = Math.max(1, Math.floor(values.length / 360));
  const points: string[] = [];
  for (let i = 0; i < values.length; i += step) {
    points.push(`${x(i).toFixed(1)},${y(values[i]).toFixed(1)}`);
  }
  return `M${points.join("L")}`;
}

/** The SVG text for `runs`. */
export function chart(runs: SimulationResult[]): string {
  const height = runs.length * PANEL;
  const panels = runs.map((run, index) => {
    const top = index * PANEL;
    const plotHeight = PANEL - TOP - BOTTOM;
    const plotWidth = WIDTH - LEFT - RIGHT;
    const seconds = run.offered.length;
    const maxRate = Math.max(1, ...run.offered);
    const maxReplicas = Math.max(1, ...run.replicas);
    const x = (i: number) => LEFT + (i / Math.max(1, seconds - 1)) * plotWidth;
    const yRate = (v: number) => top + TOP + plotHeight * (1 - v / maxRate);
    const yReplicas = (v: number) => top + TOP + plotHeight * (1 - v / maxReplicas);
    const title =
      `${run.trace} / ${run.policy}: ${run.refused} refused, ${run.overSlo} over SLO, ` +
      `p95 ${Number.isFinite(run.p95Ms) ? `${run.p95Ms.toFixed(0)} ms` : "-"}, ` +
      `${Math.round(run.replicaSeconds)} replica-s`;
    return [
      `<text x="${LEFT}" y="${top + 18}" font-size="13">${escape(title)}</text>`,
      `<rect x="${LEFT}" y="${top + TOP}" width="${plotWidth}" height="${plotHeight}" ` +
      `fill="none" stroke="#ccc"/>`,
      `<path d="${path(run.offered, x, yRate)}" fill="none" stroke="#888" stroke-width="1"/>`,
      `<path d="${path(run.replicas, x, yReplicas)}" fill="none" stroke="#c33" stroke-width="2"/>`,
      `<text x="${LEFT - 6}" y="${top + TOP + 10}" font-size="11" text-anchor="end">` +
      `${maxRate.toFixed(0)}/s</text>`,
      `<text x="${WIDTH - RIGHT + 6}" y="${top + TOP + 10}" font-size="11" fill="#c33">` +
      `${maxReplicas}</text>`,
      `<text x="${WIDTH - RIGHT}" y="${top + PANEL - 6}" font-size="11" text-anchor="end">` +
      `${Math.round(seconds / 60)} min</text>`,
    ].join("\n");
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" ` +
    `font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...panels,
    `<text x="${LEFT}" y="${height - 4}" font-size="11" fill="#888">grey: offered requests/s ` +
    `(left); red: replicas running (right)</text>`,
    `</svg>`,
  ].join("\n");
}
