import assert from "node:assert/strict";
import { parseYaml, parseYamlDocuments } from "./_yaml_subset.ts";

Deno.test("parseYaml() reads kustomize's block style", () => {
  const text = `apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app.kubernetes.io/name: resnet-model
  name: resnet-model
spec:
  template:
    spec:
      containers:
      - args:
        - --port
        - "8000"
        - --url=http://prometheus:9090
        image: 'it''s:latest'
        ports:
        - containerPort: 8000
          name: http
        resources: {}
      terminationGracePeriodSeconds: 40
      hostNetwork: false
      nodeName: null
`;
  assert.deepEqual(parseYaml(text), {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { labels: { "app.kubernetes.io/name": "resnet-model" }, name: "resnet-model" },
    spec: {
      template: {
        spec: {
          containers: [{
            args: ["--port", "8000", "--url=http://prometheus:9090"],
            image: "it's:latest",
            ports: [{ containerPort: 8000, name: "http" }],
            resources: {},
          }],
          terminationGracePeriodSeconds: 40,
          hostNetwork: false,
          nodeName: null,
        },
      },
    },
  });
});

Deno.test("parseYaml() reads literal blocks, comments, indented lists and flow lists", () => {
  const text = `# leading comment
data:
  config.yml: |
    global:
      scrape_interval: 1s

    rule: "kept as text"
  strip: |-
    one
    two
rules:
  # a comment between items
  - apiGroups: [core]
    resources: [pods, endpoints]  # trailing
    verbs:
      - get
      - list
empty: []
`;
  assert.deepEqual(parseYaml(text), {
    data: {
      "config.yml": 'global:\n  scrape_interval: 1s\n\nrule: "kept as text"\n',
      strip: "one\ntwo",
    },
    rules: [{ apiGroups: ["core"], resources: ["pods", "endpoints"], verbs: ["get", "list"] }],
    empty: [],
  });
});

Deno.test("parseYaml() refuses what it does not read", () => {
  assert.throws(() => parseYaml("a: &anchor 1"), {
    name: "SyntaxError",
    message: 'Cannot read YAML line 1 ("a: &anchor 1"): "&" is outside the subset read here',
  });
  assert.throws(() => parseYaml('a: ["x", y]'), {
    name: "SyntaxError",
    message: `Cannot read YAML line 1 ("a: ["x", y]"): only one-line flow sequences ` +
      "of plain scalars are read",
  });
  assert.throws(() => parseYaml("a: 1\na: 2"), {
    name: "SyntaxError",
    message: 'Cannot read YAML line 2 ("a: 2"): duplicate key "a"',
  });
  assert.throws(() => parseYaml("a: 1\n   b: 2"), {
    name: "SyntaxError",
    message: 'Cannot read YAML line 2 ("b: 2"): indented more than its mapping',
  });
});

Deno.test("parseYamlDocuments() splits on --- and skips empty documents", () => {
  assert.deepEqual(parseYamlDocuments("---\na: 1\n---\n# nothing\n---\nb:\n- 2\n"), [
    { a: 1 },
    { b: [2] },
  ]);
});
