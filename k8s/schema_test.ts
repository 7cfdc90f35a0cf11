import assert from "node:assert/strict";
import { type Doc, HAS_KUBECTL, kustomizations, NO_KUBECTL, render } from "./_render.ts";

interface Model {
  validate(): void;
}
type ModelClass = new (data: Doc) => Model;

/**
 * The kubernetes-models class of an object's apiVersion and kind, e.g.
 * `kubernetes-models/apps/v1/Deployment`; the core group's path is `v1/Kind`.
 */
async function modelClass(apiVersion: string, kind: string): Promise<ModelClass> {
  const specifier = `kubernetes-models/${apiVersion}/${kind}`;
  let module: Record<string, unknown>;
  try {
    module = await import(specifier);
  } catch (cause) {
    throw new Error(
      `Cannot validate ${apiVersion} ${kind}: kubernetes-models has no ${specifier}; ` +
        "check the apiVersion and kind (a typo, or an API removed from Kubernetes)",
      { cause },
    );
  }
  const found = module[kind];
  assert.equal(typeof found, "function", `${specifier} exports no class ${kind}`);
  return found as ModelClass;
}

/** Validates one object against the Kubernetes schema; the error names the object. */
async function validate(doc: Doc): Promise<void> {
  const Model = await modelClass(doc.apiVersion, doc.kind);
  try {
    new Model(doc).validate();
  } catch (error) {
    throw new Error(
      `${doc.kind}/${doc.metadata?.name} does not match the Kubernetes schema: ` +
        (error as Error).message,
      { cause: error },
    );
  }
}

Deno.test({
  name: "every rendered object validates against the Kubernetes schemas" +
    (HAS_KUBECTL ? "" : NO_KUBECTL),
  ignore: !HAS_KUBECTL,
  async fn(t) {
    await t.step("the validator refuses a broken object", async () => {
      // The same Deployment the checks pass, spoiled in one field each way.
      const { find } = await render("k8s");
      const good = find("Deployment", "resnet-model");
      await validate(good);
      const badPort = structuredClone(good);
      badPort.spec.template.spec.containers[0].ports[0].containerPort = "8000";
      await assert.rejects(validate(badPort), /containerPort must be integer/);
      const noName = structuredClone(good);
      delete noName.spec.template.spec.containers[0].name;
      await assert.rejects(validate(noName), /must have required property name/);
      await assert.rejects(validate({ ...good, kind: "Deploymnet" }), /has no/);
    });

    for (const path of kustomizations()) {
      await t.step(path, async () => {
        const { docs } = await render(path);
        assert.ok(docs.length > 0, `${path} renders no objects`);
        for (const doc of docs) await validate(doc);
      });
    }
  },
});
