/**
 * The Kubernetes scaler over real TLS: nginx (from Debian) terminates HTTPS
 * in front of the fake API, one server requiring a client certificate
 * (`ssl_verify_client on`, as an API server does for certificate users) and one
 * that accepts bearer tokens (as pods use). Certificates are made by openssl
 * for each run. Skipped, saying why, when nginx or openssl is missing.
 */

import assert from "node:assert/strict";
import { findExecutable } from "@common/find_executable.ts";
import { freePort } from "@common/free_port.ts";
import { createLogger } from "@common/log.ts";
import { FakeKubeApi, kubeconfigYaml } from "./fake_kube_api.ts";
import { loadKubeConfig } from "@common/kube_config.ts";
import { KubernetesApiError, KubernetesScaler } from "./kubernetes_scaler.ts";

const NS = "resnet";
const NAME = "resnet-model";

const nginx = findExecutable("nginx") ?? findExecutable("/usr/sbin/nginx");
const openssl = findExecutable("openssl");
const missing = [nginx ? "" : "nginx", openssl ? "" : "openssl"].filter((name) => name);
const skipped = missing.length === 0
  ? ""
  : ` - SKIPPED: ${missing.join(" and ")} not found; apt-get install -y nginx openssl`;

async function run(program: string, args: string[], cwd: string): Promise<void> {
  const command = new Deno.Command(program, {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const output = await command.output();
  if (!output.success) {
    const text = new TextDecoder().decode(output.stderr);
    throw new Error(`Cannot run ${program} ${args.join(" ")}: exit ${output.code}\n${text}`);
  }
}

/** A throwaway CA, a server certificate for 127.0.0.1 and two client certificates. */
async function makeCertificates(dir: string): Promise<void> {
  const ssl = (...args: string[]) => run(openssl!, args, dir);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const sign = (name: string, ext: string) =>
    ssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "1",
      "-out",
      `${name}.crt`,
      "-extfile",
      ext,
    );
  await Deno.writeTextFile(`${dir}/server.ext`, "subjectAltName=IP:127.0.0.1\n");
  await Deno.writeTextFile(`${dir}/client.ext`, "extendedKeyUsage=clientAuth\n");

  for (const ca of ["ca", "other-ca"]) {
    const files = ["-keyout", `${ca}.key`, "-out", `${ca}.crt`];
    await ssl("req", "-x509", ...ec, ...files, "-days", "1", "-subj", `/CN=${ca}`);
  }
  await ssl("req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
  await sign("server", "server.ext");
  // The two key formats kubeconfigs carry: RSA PKCS#1 (kubeadm, kind) and EC SEC1.
  await ssl("genrsa", "-traditional", "-out", "client-rsa.key", "2048");
  await ssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "client-ec.key");
  for (const kind of ["rsa", "ec"]) {
    await ssl(
      "req",
      "-new",
      "-key",
      `client-${kind}.key`,
      "-out",
      `client-${kind}.csr`,
      "-subj",
      `/O=resnet/CN=autoscaler-${kind}`,
    );
    await sign(`client-${kind}`, "client.ext");
  }
}

function nginxConfig(dir: string, ports: { mtls: number; tls: number; api: number }): string {
  const tls = `
    ssl_certificate ${dir}/server.crt;
    ssl_certificate_key ${dir}/server.key;`;
  return `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log info;
events { worker_connections 64; }
http {
  access_log ${dir}/nginx-access.log;
  client_body_temp_path ${dir}/nginx-body;
  proxy_temp_path ${dir}/nginx-proxy;
  fastcgi_temp_path ${dir}/nginx-fastcgi;
  uwsgi_temp_path ${dir}/nginx-uwsgi;
  scgi_temp_path ${dir}/nginx-scgi;
  # Certificate users: the identity is the verified certificate's subject.
  server {
    listen 127.0.0.1:${ports.mtls} ssl;${tls}
    ssl_client_certificate ${dir}/ca.crt;
    ssl_verify_client on;
    location / {
      proxy_pass http://127.0.0.1:${ports.api};
      proxy_set_header X-Remote-User $ssl_client_s_dn;
    }
  }
  # Token users (pods): no client certificate, and no identity header let through.
  server {
    listen 127.0.0.1:${ports.tls} ssl;${tls}
    location / {
      proxy_pass http://127.0.0.1:${ports.api};
      proxy_set_header X-Remote-User "";
    }
  }
}
`;
}

/** Resolves once `port` accepts connections; fails early when nginx exits. */
async function waitForPort(port: number, exited: Promise<unknown>, log: string): Promise<void> {
  let gone = false;
  exited.then(() => gone = true);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !gone) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const errors = await Deno.readTextFile(log).catch(() => "(no log)");
  throw new Error(
    `Cannot start nginx on 127.0.0.1:${port}: ${gone ? "it exited" : "no answer"}\n${errors}`,
  );
}

const b64 = async (path: string) => btoa(await Deno.readTextFile(path));

Deno.test({
  name: "KubernetesScaler talks TLS with kubeconfig client certificates and pod tokens" + skipped,
  ignore: missing.length > 0,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "kube-tls-" });
    const fake = await FakeKubeApi.start({
      token: "pod-token-1",
      identityHeader: "X-Remote-User",
      deployments: [{ namespace: NS, name: NAME, replicas: 2 }],
    });
    let proxy: Deno.ChildProcess | undefined;
    try {
      await makeCertificates(dir);
      const ports = { mtls: freePort(), tls: freePort(), api: fake.port };
      await Deno.writeTextFile(`${dir}/nginx.conf`, nginxConfig(dir, ports));
      proxy = new Deno.Command(nginx!, {
        args: ["-p", dir, "-c", `${dir}/nginx.conf`, "-e", `${dir}/nginx-error.log`],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      for (const port of [ports.mtls, ports.tls]) {
        await waitForPort(port, proxy.status, `${dir}/nginx-error.log`);
      }

      const logger = createLogger({ component: "test", write: () => {} });
      const scalerFor = async (yaml: string, name: string) => {
        await Deno.writeTextFile(`${dir}/${name}`, yaml);
        return new KubernetesScaler({
          kubeConfig: loadKubeConfig({ kubeconfig: `${dir}/${name}`, env: {} }),
          namespace: NS,
          deployment: NAME,
          logger,
          retry: { attempts: 0 },
        });
      };
      const certificateConfig = async (kind: string, ca = "ca") =>
        kubeconfigYaml({
          server: `https://127.0.0.1:${ports.mtls}`,
          certificateAuthorityData: await b64(`${dir}/${ca}.crt`),
          user: {
            clientCertificateData: await b64(`${dir}/client-${kind}.crt`),
            clientKeyData: await b64(`${dir}/client-${kind}.key`),
          },
        });

      for (const kind of ["rsa", "ec"]) {
        await t.step(
          `a client certificate with an ${kind} key reads and writes the scale`,
          async () => {
            const scaler = await scalerFor(await certificateConfig(kind), `cert-${kind}`);
            const before = fake.requests.length;
            assert.equal(await scaler.current(), fake.get(NS, NAME)!.replicas);
            await scaler.scaleTo(fake.get(NS, NAME)!.replicas + 1);
            const users = new Set(fake.requests.slice(before).map((r) => r.user));
            assert.deepEqual([...users], [`CN=autoscaler-${kind},O=resnet`]);
          },
        );
      }

      await t.step("without a client certificate the proxy refuses", async () => {
        const yaml = kubeconfigYaml({
          server: `https://127.0.0.1:${ports.mtls}`,
          certificateAuthorityData: await b64(`${dir}/ca.crt`),
          user: { token: "pod-token-1" },
        });
        const error = await (await scalerFor(yaml, "no-cert")).current().catch((e) => e);
        assert.ok(error instanceof KubernetesApiError);
        assert.equal(error.status, 400);
        assert.match(error.message, /HTTP 400: 400 No required SSL certificate was sent/);
      });

      await t.step("a server certificate from another CA is refused, not retried", async () => {
        const scaler = await scalerFor(await certificateConfig("rsa", "other-ca"), "wrong-ca");
        const error = await scaler.current().catch((e) => e);
        assert.ok(error instanceof KubernetesApiError);
        assert.equal(error.status, undefined);
        assert.equal(error.retryable, false);
        assert.match(error.message, /^Cannot talk to the Kubernetes API at https:\/\/127\.0\.0\.1/);
        assert.match(error.message, /unable to verify the first certificate; check the cluster/);
      });

      await t.step(
        "in a pod: service account token over TLS, rotated token picked up",
        async () => {
          const accountDir = `${dir}/serviceaccount`;
          await Deno.mkdir(accountDir);
          await Deno.copyFile(`${dir}/ca.crt`, `${accountDir}/ca.crt`);
          await Deno.writeTextFile(`${accountDir}/token`, "pod-token-1");
          await Deno.writeTextFile(`${accountDir}/namespace`, NS);
          const load = () =>
            loadKubeConfig({
              env: {
                KUBERNETES_SERVICE_HOST: "127.0.0.1",
                KUBERNETES_SERVICE_PORT: String(ports.tls),
              },
              serviceAccountDir: accountDir,
            });
          const scaler = new KubernetesScaler({
            kubeConfig: load(),
            reloadKubeConfig: load,
            namespace: NS,
            deployment: NAME,
            logger,
          });
          assert.equal(await scaler.current(), fake.get(NS, NAME)!.replicas);

          fake.token = "pod-token-2";
          await Deno.writeTextFile(`${accountDir}/token`, "pod-token-2");
          const before = fake.requests.length;
          await scaler.scaleTo(1);
          assert.equal(fake.get(NS, NAME)!.replicas, 1);
          const users = fake.requests.slice(before).map((r) => r.user ?? "rejected");
          const account = "system:serviceaccount:resnet:resnet-autoscaler";
          assert.deepEqual(users, ["rejected", account, account], "401, reload, read, patch");
        },
      );
    } finally {
      if (proxy) {
        try {
          proxy.kill("SIGTERM");
        } catch {
          // It exited on its own (the error above says why).
        }
        await proxy.status;
      }
      await fake.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
