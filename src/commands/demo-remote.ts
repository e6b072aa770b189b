/**
 * `creditpulse demo --url <deployment>`: asks a deployment whose database this machine cannot open (Workers +
 * D1) to seed the demo organisation, with a request signed by CREDITPULSE_SECRET (POST /ops/demo).
 */
import { UserError } from "../errors";
import { type DemoRequest, signDemoRequest } from "../import/demo-deploy";

export async function seedDeploymentDemo(
  secret: string,
  url: string,
  req: DemoRequest,
  now: number,
): Promise<{ ok: boolean; message: string; body: unknown }> {
  if (!/^https?:\/\//.test(url))
    throw new UserError("bad_url", `--url must start with https:// (got ${url})`);
  const token = await signDemoRequest(secret, req, now);
  const target = `${url.replace(/\/+$/, "")}/ops/demo`;
  let res: Response;
  try {
    res = await fetch(target, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, accept: "application/json" },
    });
  } catch (e) {
    throw new UserError("unreachable", `could not reach ${target}: ${(e as Error).message}`);
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  const b = body as {
    queued?: boolean;
    error?: { message?: string };
    organisation?: { slug: string } | string;
    owner?: string | null;
    ownerMissing?: string;
  };
  if (res.status === 202)
    return {
      ok: true,
      body,
      message: `Queued: the deployment seeds demo organisation ${req.slug} (${req.customers} customers) from its jobs queue in a few seconds.`,
    };
  if (res.ok) {
    const slug = typeof b.organisation === "object" ? b.organisation.slug : req.slug;
    const who = b.owner
      ? `; ${b.owner} is its owner`
      : b.ownerMissing
        ? `; no user ${b.ownerMissing} exists, so nobody was given access`
        : "";
    return { ok: !b.ownerMissing, body, message: `Seeded demo organisation ${slug}${who}.` };
  }
  return {
    ok: false,
    body,
    message: `The deployment refused (${res.status}): ${b.error?.message ?? text.slice(0, 200)}`,
  };
}
