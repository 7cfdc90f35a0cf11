import assert from "node:assert/strict";
import { localPrometheusConfig } from "./local_config.ts";

Deno.test("localPrometheusConfig() refuses a relative target file path", () => {
  // Prometheus would read it from the configuration file's folder and find nothing.
  assert.throws(
    () => localPrometheusConfig({ targetsFile: "run/targets/model.json", dispatcher: "x:1" }),
    /must be absolute, got "run\/targets\/model.json"/,
  );
});

Deno.test("localPrometheusConfig() names the absolute target file in the model job", () => {
  const text = localPrometheusConfig({ targetsFile: "/srv/run/model.json", dispatcher: "x:1" });
  assert.match(text, /files: \["\/srv\/run\/model.json"\]/);
});
