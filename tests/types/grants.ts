// Grants, revocations and profiles (issue 13), with strict types.
import {
  fingerprint,
  type Event,
  type Policy,
  type PolicyMember,
  type PolicyRevocation,
  type PetrichainErrorCode,
  type Stream,
} from "../../pkg/petrichain.js";

export async function invite(stream: Stream, key: string): Promise<string> {
  const granted: Event = await stream.grant(key, "clerk");
  await stream.setProfile("Ann");
  const policy: Policy = await stream.policy();
  const owner: string | null = policy.owner;
  const members: PolicyMember[] = policy.members;
  const admins: string[] = members.filter((m) => m.admin).map((m) => m.name ?? fingerprint(m.key));
  const gone: PolicyRevocation[] = policy.revoked;
  const at: number[] = gone.map((r) => r.seq);
  const name: string | undefined = policy.names[key];
  const revoked: Event = await stream.revoke(key, "clerk");
  return `${granted.seq} ${revoked.seq} ${owner} ${admins.join()} ${at.join()} ${name}`;
}

export const refused: PetrichainErrorCode[] = ["ROLE_NOT_GRANTED", "ROLE_REVOKED"];

// @ts-expect-error: a role is a string
export const wrong = (s: Stream) => s.grant("k", 1);
